"""Log lines and the level each one states, shared by the level detector's unit tests and the
store conformance test (tests/unit/store/test_level_conformance.py), which checks that the
store's RE2 rule gives the same answer at insert.

Not a test module: pytest does not collect it; both test files import it.
"""

from __future__ import annotations

import csv
from pathlib import Path

LOGHUB = Path(__file__).resolve().parents[2] / "data" / "loghub-2k"  # see its README.md

# (line, detected level). Realistic lines first, then the rule's edges.
REALISTIC = [
    # syslog (RFC 3164 / 5424) and the programs that write to it
    ("Jan 12 06:25:43 web01 kernel: [12345.678] EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2", "ERROR"),
    ("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh", ""),
    ("Mar  3 10:00:00 host systemd[1]: Started Session 42 of user root.", ""),
    ("<11>1 2024-03-01T12:00:00Z host app 1234 - - ERROR connection refused", "ERROR"),
    ('Feb 28 23:59:59 db01 postgres[811]: [3-1] WARNING:  there is already a transaction in progress', "WARN"),
    ('Feb 28 23:59:59 db01 postgres[811]: [3-1] FATAL:  password authentication failed for user "app"', "FATAL"),
    ("Aug  1 00:00:01 gw kernel: CRIT: thermal zone 0 reached critical temperature", "CRITICAL"),
    ("Aug  1 00:00:02 gw smartd[77]: Device: /dev/sda, ALERT: failed self-test", "ALERT"),
    ("Aug  1 00:00:03 gw kernel: EMERG: system is unusable", "EMERGENCY"),
    ("Aug  1 00:00:04 gw postfix/smtpd[1]: NOTICE: connect from unknown[10.0.0.9]", "NOTICE"),
    ("Mar 01 12:00:00 host kernel: Out of memory: Killed process 1234 (java)", ""),
    # nginx error log and access log
    ('2024/03/01 12:00:00 [error] 1234#1234: *5 open() "/usr/share/nginx/html/favicon.ico" failed (2: No such file or directory)', "ERROR"),
    ("2024/03/01 12:00:00 [warn] 1234#1234: *7 an upstream response is buffered to a temporary file", "WARN"),
    ("2024/03/01 12:00:00 [emerg] 1#1: bind() to 0.0.0.0:80 failed (98: Address already in use)", "EMERGENCY"),
    ("2024/03/01 12:00:00 [notice] 1#1: signal process started", "NOTICE"),
    # nginx writes "crit" in lower case, which the rule reads as prose: not detected.
    ("2024/03/01 12:00:00 [crit] 1234#0: *1 connect() to unix:/run/php.sock failed", ""),
    ('10.0.0.1 - - [01/Mar/2024:12:00:00 +0000] "GET /index.html HTTP/1.1" 200 612 "-" "Mozilla/5.0"', ""),
    # A path segment is a whole word: an access log line for /api/info reads as INFO.
    ('10.0.0.1 - - [01/Mar/2024:12:00:00 +0000] "GET /api/info HTTP/1.1" 200 512 "-" "curl/8.0"', "INFO"),
    # Java: log4j/logback, Spring Boot, java.util.logging, stack traces
    ("2024-03-01 12:00:00,123 ERROR [main] com.example.App - Failed to start", "ERROR"),
    ("2024-03-01 12:00:00.123  WARN 12345 --- [           main] o.s.b.a.orm.jpa.JpaBaseConfiguration : spring.jpa.open-in-view is enabled", "WARN"),
    ("2024-03-01 12:00:00 DEBUG org.hibernate.SQL - select u.id from users u", "DEBUG"),
    ("[2024-03-01T12:00:00.000Z] [TRACE] [pool-1-thread-1] c.e.Cache - miss key=user:42", "TRACE"),
    ("SEVERE: Servlet.service() for servlet [dispatcher] threw exception", "ERROR"),
    ("INFO: Server startup in [1234] milliseconds", "INFO"),
    ('Exception in thread "main" java.lang.NullPointerException', ""),
    ("\tat com.example.Service.handle(Service.java:42)", ""),
    # Python logging, default and custom formats
    ("2024-03-01 12:00:00,123 - myapp.db - WARNING - connection pool exhausted", "WARN"),
    ("ERROR:root:division by zero", "ERROR"),
    ("CRITICAL:app:disk full", "CRITICAL"),
    ('INFO:     127.0.0.1:5000 - "GET / HTTP/1.1" 200 OK', "INFO"),
    ("DEBUG:urllib3.connectionpool:Starting new HTTPS connection (1): example.com:443", "DEBUG"),
    ("Traceback (most recent call last):", ""),
    # JSON logs (the earliest level word wins, wherever it sits)
    ('{"level":"error","msg":"request failed","status":500}', "ERROR"),
    ('{"ts":1709294400,"level":"info","msg":"listening","port":8080}', "INFO"),
    ('{"severity":"WARNING","message":"slow query","duration_ms":2300}', "WARN"),
    ('{"level":50,"time":1709294400000,"msg":"fatal crash in worker"}', "FATAL"),
    ('{"@timestamp":"2024-03-01T12:00:00Z","log.level":"trace","message":"enter"}', "TRACE"),
    ('{"msg":"user info updated","level":"debug"}', "INFO"),
    # Go (logrus, go-kit, klog, runtime), Ruby
    ('time="2024-03-01T12:00:00Z" level=warning msg="retrying in 5s"', "WARN"),
    ('level=error ts=2024-03-01T12:00:00Z caller=main.go:42 msg="scrape failed"', "ERROR"),
    ("E0301 12:00:00.123456    1234 reflector.go:138] failed to list *v1.Pod", ""),
    ("panic: runtime error: invalid memory address or nil pointer dereference", "FATAL"),
    ('I, [2024-03-01T12:00:00.123456 #1234]  INFO -- : Started GET "/" for 127.0.0.1', "INFO"),
    # A level right after an ANSI colour escape counts; a word glued to a plain "m" does not.
    ("\x1b[31mERROR\x1b[0m failed to bind", "ERROR"),
    ("\x1b[1;33mwarn\x1b[0m: disk at 91%", "WARN"),
    ("mERROR is not a level", ""),
]

# Whole words only: letters, digits and "_" join words on both sides, "-" on both sides,
# "." only before (so "x.info" is a name, while "error." ends a sentence).
WORD_BOUNDARIES = [
    ("3 errors found", ""),
    ("information only", ""),
    ("x.info", ""),
    ("x.info y", ""),
    ("info.x", "INFO"),
    ("Disk full. Error.", "ERROR"),
    ("fatal-error", ""),
    ("non-fatal", ""),
    ("error-prone", ""),
    ("error_code=5", ""),
    ("my_error", ""),
    ("INFO123", ""),
    ("123INFO", ""),
    ("WARNINGS", ""),
    ("warned", ""),
    ("tracer started", ""),
    ("debugger attached", ""),
    ("alerting rule loaded", ""),
    ("panicked", ""),
    ("criticality high", ""),
    ("[INFO]", "INFO"),
    ("(warn)", "WARN"),
    ("<debug>", "DEBUG"),
    ("info:", "INFO"),
    ("x=error", "ERROR"),
    ("'error'", "ERROR"),
    ("error,", "ERROR"),
    ("x/error", "ERROR"),
    ("\tERROR\t", "ERROR"),
    ("first line\nERROR second", "ERROR"),
    ("Error: x", "ERROR"),
    ("eRrOr", "ERROR"),
    ("Warning", "WARN"),
    ("WARNING:", "WARN"),
    ("EMERGENCY", "EMERGENCY"),
    ("EMERG", "EMERGENCY"),
    ("CRITICAL", "CRITICAL"),
    ("notice", "NOTICE"),
    ("severe", "ERROR"),
    ("Panic", "FATAL"),
    # the earliest level in the line wins
    ("INFO retry after error", "INFO"),
    ("error then INFO", "ERROR"),
    ("x.info then warn", "WARN"),
    ("", ""),
    ("   ", ""),
    ("nothing to see here", ""),
]

# ERR and CRIT count only in capitals.
CAPITALS_ONLY = [
    ("ERR disk full", "ERROR"),
    ("[ERR] disk full", "ERROR"),
    ("err disk full", ""),
    ("Err disk full", ""),
    ("CRIT temperature", "CRITICAL"),
    ("<CRIT>", "CRITICAL"),
    ("crit temperature", ""),
    ("Crit temperature", ""),
    ("ERR_CONNECTION_REFUSED", ""),
    ("net::ERR_FAILED", ""),
    ("net::ERR failed", "ERROR"),
    ("ERRS", ""),
    ("CRITS", ""),
]

# Only the first 256 characters are scanned.
_PAD = "x" * 250 + " "  # 251 characters: a level word starting here ends by character 256
FIRST_256 = [
    (_PAD + "ERROR", "ERROR"),
    (_PAD + "ERROR tail", "ERROR"),
    ("x" * 251 + " ERROR", ""),  # the word straddles the window
    ("x" * 300 + " ERROR", ""),
    ("y " * 200 + "WARN", ""),
    ("ok " + "x" * 300 + " ERROR", ""),
    ("INFO " + "x" * 500 + " ERROR", "INFO"),
]


def loghub_samples(per_file: int = 0) -> list[tuple[str, str, str]]:
    """(dataset, raw line, the structured CSV's Level) for every Loghub 2k sample whose CSV has a
    Level column (tests/data/loghub-2k keeps those raw lines and that column); `per_file` > 0 keeps
    the first line of each distinct level plus the first `per_file` lines."""
    samples: list[tuple[str, str, str]] = []
    for levels in sorted(LOGHUB.glob("*/*_2k.log_levels.csv")):
        dataset = levels.parent.name
        with levels.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        raw = (levels.parent / f"{dataset}_2k.log").read_text(encoding="utf-8").splitlines()
        assert len(raw) == len(rows), f"{dataset}: {len(raw)} lines, {len(rows)} levels"
        seen: set[str] = set()
        for index, (line, row) in enumerate(zip(raw, rows)):
            if not per_file or index < per_file or row["Level"] not in seen:
                samples.append((dataset, line, row["Level"]))
            seen.add(row["Level"])
    assert {dataset for dataset, _, _ in samples} == {"Apache", "BGL", "HDFS", "Hadoop", "Spark", "Zookeeper"}
    return samples


ALL_CASES = REALISTIC + WORD_BOUNDARIES + CAPITALS_ONLY + FIRST_256


def level_lines(max_parts: int = 12):
    """Hypothesis strategy: ASCII lines built from level words (in any case, and near misses),
    the punctuation that decides word boundaries, and plain text."""
    from hypothesis import strategies as st

    from timberyard.parse.levels import CANONICAL

    words = sorted({form for word in CANONICAL for form in (word, word.lower(), word.title())})
    words += ["err", "crit", "Err", "Crit", "errors", "information", "warned", "INFOS", "tracer"]
    part = st.one_of(
        st.sampled_from(words),
        st.sampled_from(list(".-_[]:=/ ,;()\"'{}<>|\t\n")),
        st.text(alphabet="abcxyzXYZ0129 ", max_size=6),
    )
    return st.lists(part, max_size=max_parts).map("".join)
