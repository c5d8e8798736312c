"""The collector agent: tails files, container logs and the journal, ships them to a node.

It runs on every host (or as a DaemonSet on every node) and imports nothing of the server: no
chDB, no pyarrow, no `timberyard.store` or `timberyard.web`. Its third-party needs are click and
PyYAML; HTTP, gzip and JSON come from the standard library. `deploy/agent-package` builds it as
the separate `timberyard-agent` distribution; the full `timberyard` distribution includes it.

The flow of a line (one module each):

    discovery ─► tailer (openfiles, recovery) ─► reader ─► decode (container formats) ─► multiline ─► rules
        ─► batch ─► outbox (memory, then spool on disk) ─► sender ─► POST /logs/agent
                                     ▲                                   │ 200
                                     └──────── state (offsets) ◄─────────┘

Offsets reach the state file only after the node answered 200 for every line before them (or
after those lines are safe in the spool), so a crash re-sends at most what was in flight.
"""
