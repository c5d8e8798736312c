"""Lines of every built-in format (parse/formats.py), each with what the format should read
from it, written from the format's documentation and from what the programs really write.
One module per format; `PROSE` are lines no format may claim. Times without a year are
placed against RECEIVED_MS."""

from __future__ import annotations

from unit.parse.format_cases import (
    alb,
    apache_error,
    combined,
    common,
    elb,
    envoy,
    haproxy_http,
    haproxy_tcp,
    klog,
    mysql,
    nginx_error,
    postgresql,
    redis,
    rfc3164,
    rfc5424,
    syslog_iso,
    timestamped,
)
from unit.parse.format_cases.case import Case

RECEIVED_MS = 1_748_779_200_000  # 2025-06-01T12:00:00Z

_MODULES = (
    alb, apache_error, combined, common, elb, envoy, haproxy_http, haproxy_tcp, klog, mysql,
    nginx_error, postgresql, redis, rfc3164, rfc5424, syslog_iso, timestamped,
)
CASES: dict[str, list[Case]] = {module.FORMAT: module.CASES for module in _MODULES}

PROSE = [
    "hello world",
    "Starting worker pool with 8 threads",
    "Traceback (most recent call last):",
    '  File "/app/main.py", line 12, in <module>',
    '    raise ValueError("bad value")',
    "ValueError: bad value",
    "\tat com.example.Foo.bar(Foo.java:42)",
    "GET /index.html HTTP/1.1",
    "Connection reset by peer",
    "INFO: server started on port 8080",
    "[INFO] Building project 1.0-SNAPSHOT",
    "WARNING: The requested image's platform (linux/amd64) does not match the detected host platform",
    "npm ERR! code ELIFECYCLE",
    "processed 1000 items in 12ms",
    "12:34:56 just a clock, no date",
    "31/05/2025 04:12:38 day-first dates are ambiguous",
    "May 31 2025 a month, a day and a year but no clock",
    "2025-05-31 a date but no clock",
    "-----BEGIN CERTIFICATE-----",
    '{"level":"info","msg":"JSON lines are read before the formats"}',
    'level=info msg="logfmt lines are read after them" duration=12ms',
    "",
    " ",
    "\x00\x01\x02",
    "<34>",
    "<999>Oct 11 22:14:15 host app: a PRI beyond 191 is not syslog",
    "I1204 a klog letter and nothing else",
    "1234:M not redis without its time",
]
