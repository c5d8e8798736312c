"""What the syslog listeners and drains count, as /metrics shows it.

Counters are labelled by `ingester` (syslog-udp, syslog-tcp, syslog-tls, relp, relp-tls, heroku,
cloudfoundry) and exist at 0 from the start for every source that is on, so an alert on a rate
has a series to watch before the first problem. UDP's own losses are also read from the kernel
(udp.py): what we drop ourselves is `timberyard_syslog_dropped_total`.
"""

from __future__ import annotations

from collections.abc import Iterable

from timberyard.core.metrics import Metrics
from timberyard.ingest.syslog.accounts import NO_ACCOUNT, WRONG_KEY
from timberyard.ingest.syslog.decode import Decoded

MESSAGES = "timberyard_syslog_messages_total"
REFUSED = "timberyard_syslog_refused_total"
UNPARSED = "timberyard_syslog_unparsed_total"
TRUNCATED = "timberyard_syslog_truncated_total"
FRAMING_ERRORS = "timberyard_syslog_framing_errors_total"
DROPPED = "timberyard_syslog_dropped_total"
CONNECTIONS = "timberyard_syslog_connections_total"
DISCONNECTS = "timberyard_syslog_disconnects_total"

# Why the node closed a connection.
IDLE, TOO_MANY, PROTOCOL_ERROR, STORE_ERROR, SHUTDOWN = "idle", "too_many", "protocol_error", "store_error", "shutdown"
QUEUE_FULL = "queue_full"

HELP = {
    MESSAGES: "Syslog and drain messages received, by ingester (stored, refused or excluded).",
    REFUSED: "Syslog messages refused, by ingester and reason: wrong_key (the [logdna@48950] key is not a usable "
    "ingestion key) or no_account (no key, and no default or certificate account for the connection).",
    UNPARSED: "Syslog messages without a syslog header, stored whole with the sender's address as host.",
    TRUNCATED: "Syslog messages longer than max_line_bytes plus 4 KiB of header, cut where they were read and marked.",
    FRAMING_ERRORS: "Octet-counted streams that sent something other than a count; the bytes up to the next newline "
    "were kept as one message.",
    DROPPED: "UDP messages the node dropped, by reason: queue_full (the store fell behind or the node was starting), "
    "store_error (the write-ahead log could not take them).",
    CONNECTIONS: "Stream connections accepted (TCP, TLS after its handshake, RELP), by ingester.",
    DISCONNECTS: "Stream connections the node closed, by ingester and reason: idle, too_many (over "
    "syslog_max_connections), protocol_error, store_error, shutdown.",
}
_REASONS = {REFUSED: (WRONG_KEY, NO_ACCOUNT), DROPPED: (QUEUE_FULL, STORE_ERROR), DISCONNECTS: (IDLE, TOO_MANY, PROTOCOL_ERROR, STORE_ERROR, SHUTDOWN)}
_STREAMS_ONLY = (CONNECTIONS, DISCONNECTS)
_UDP_ONLY = (DROPPED,)


class SyslogStats:
    def __init__(self, metrics: Metrics, ingesters: Iterable[str]) -> None:
        self.metrics = metrics
        for name, text in HELP.items():
            metrics.describe(name, text)
        for ingester in ingesters:
            for name in HELP:
                if (name in _STREAMS_ONLY and ingester == "syslog-udp") or (name in _UDP_ONLY and ingester != "syslog-udp"):
                    continue
                for reason in _REASONS.get(name, (None,)):
                    labels = {"ingester": ingester} | ({"reason": reason} if reason else {})
                    metrics.inc(name, 0, **labels)

    def decoded(self, ingester: str, decoded: Decoded) -> None:
        inc = self.metrics.inc
        inc(MESSAGES, decoded.messages, ingester=ingester)
        for reason, count in decoded.refused.items():
            inc(REFUSED, count, ingester=ingester, reason=reason)
        if decoded.unparsed:
            inc(UNPARSED, decoded.unparsed, ingester=ingester)
        if decoded.truncated:
            inc(TRUNCATED, decoded.truncated, ingester=ingester)
        if decoded.framing_errors:
            inc(FRAMING_ERRORS, decoded.framing_errors, ingester=ingester)

    def dropped(self, ingester: str, count: int, reason: str = QUEUE_FULL) -> None:
        self.metrics.inc(DROPPED, count, ingester=ingester, reason=reason)

    def connected(self, ingester: str) -> None:
        self.metrics.inc(CONNECTIONS, ingester=ingester)

    def disconnected(self, ingester: str, reason: str) -> None:
        self.metrics.inc(DISCONNECTS, ingester=ingester, reason=reason)
