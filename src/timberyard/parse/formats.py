"""The built-in line formats, in the order lines are offered to them.

A line is read by the first format whose pattern matches it (parse/format.py). Where two
formats can match the same line the more specific comes first (HAProxy behind a syslog header
before `rfc3164`, `combined` before `common`, all before `timestamped`, which asks only for a
time at the start); the others cannot overlap, so they are ordered by how common they are, and
the usual lines are claimed before the rare formats are tried. tests/unit/parse/test_formats.py
holds every format to its own lines. Every pattern is anchored with `^`, so a line of another
format fails at its first characters.

Fields are named once for all formats: the same thing has the same path wherever a format
writes it, with one kind (`KINDS`), so `status>=500` finds nginx, HAProxy, Envoy and ELB lines
alike. What only one format has is under the format's own name (`haproxy.termination_state`).
The contract has no unit conversion, so a duration is `duration` in seconds where the format
writes seconds and `duration_ms` where it writes milliseconds. A message is never copied into
a field: it is the line. `-` means no value; in HAProxy and ELB lines `-1` does too (a timer or
status of a step that never happened). Values are as written (`\"` stays escaped).

Shared paths:

  client.ip, client.port, client.user   the peer that sent the request, and its user
  server.name, server.ip, server.port   what received it (virtual server, listener)
  request.method, .path, .protocol      the request line (.path: the request target as sent)
  request.host, .id, .bytes             Host/authority, request id, bytes received
  status, bytes                         response status, response bytes sent
  referer, user_agent, forwarded_for    request headers
  duration / duration_ms                total time, seconds (float) / milliseconds
  upstream.ip, .port, .url, .status,    the server the request was passed to, its status
  upstream.duration / .duration_ms      and its response time
  tls.cipher, tls.protocol, tls.server_name
  pid, tid                              process and thread id
  source.file, source.line              the code that wrote the line
  syslog.priority, .host, .app, .pid,   a syslog header: priority is the PRI number (facility * 8
  syslog.msgid                          + severity, the severity being the line's level); a
                                        PROCID that is not a number is no pid
Ports, statuses, byte counts, ids, counters and `_ms` durations are integers.

Format -> fields (time and level are the line's own, not fields):

  combined       client.ip client.user request.method request.path request.protocol status
                 bytes referer user_agent [forwarded_for] [the key=value pairs that follow]
  common         client.ip client.user request.method request.path request.protocol status
                 bytes [the key=value pairs that follow]
  nginx_error    pid tid nginx.connection client.ip server.name request.method request.path
                 request.protocol upstream.url request.host referer
  apache_error   apache.module pid tid source.file source.line client.ip client.port
                 apache.code referer
  haproxy_http   [syslog.priority syslog.host syslog.app syslog.pid] client.ip client.port
                 haproxy.frontend haproxy.backend haproxy.server haproxy.request_ms
                 haproxy.queue_ms haproxy.connect_ms upstream.duration_ms duration_ms status
                 bytes haproxy.request_cookie haproxy.response_cookie haproxy.termination_state
                 haproxy.actconn haproxy.feconn haproxy.beconn haproxy.srv_conn haproxy.retries
                 haproxy.srv_queue haproxy.backend_queue haproxy.request_headers
                 haproxy.response_headers request.method request.path request.protocol
  haproxy_tcp    as haproxy_http without the HTTP parts: haproxy.queue_ms haproxy.connect_ms
                 duration_ms bytes haproxy.termination_state and the connection counters
  rfc5424        syslog.priority syslog.host syslog.app syslog.pid syslog.msgid, and the
                 structured data's PARAM="value" pairs
  rfc3164        syslog.priority syslog.host syslog.app syslog.pid
  syslog_iso     syslog.priority syslog.host syslog.app syslog.pid
  klog           pid source.file source.line [the key=value pairs of a structured message]
  postgresql     pid client.user database
  mysql          tid mysql.code mysql.subsystem
  redis          pid redis.role
  envoy          request.method request.path request.protocol status envoy.response_flags
                 request.bytes bytes duration_ms upstream.duration_ms forwarded_for user_agent
                 request.id request.host upstream.ip upstream.port; Istio's default adds
                 envoy.response_code_details envoy.connection_termination_details
                 envoy.upstream_transport_failure_reason envoy.upstream_cluster
                 envoy.upstream_local_address server.ip server.port client.ip client.port
                 tls.server_name envoy.route_name
  elb            elb.name client.ip client.port upstream.ip upstream.port
                 elb.request_processing_time upstream.duration elb.response_processing_time
                 status upstream.status request.bytes bytes request.method request.host
                 server.port request.path request.protocol user_agent tls.cipher tls.protocol
  alb            elb.type and the elb fields, then elb.target_group_arn elb.trace_id
                 tls.server_name elb.chosen_cert_arn elb.matched_rule_priority
                 elb.actions_executed elb.redirect_url elb.error_reason
  timestamped    (none)
"""

from __future__ import annotations

import re

from typing import Any

from timberyard.parse import times
from timberyard.parse.format import LineFormat
from timberyard.parse.levels import CANONICAL

# The kind of every typed path, whichever format writes it (groups not here are strings).
KINDS = {
    **dict.fromkeys(
        (
            "status", "bytes", "pid", "tid", "client__port", "server__port", "upstream__port",
            "upstream__status", "request__bytes", "duration_ms", "upstream__duration_ms",
            "source__line", "syslog__priority", "syslog__pid", "nginx__connection",
            "haproxy__request_ms", "haproxy__queue_ms", "haproxy__connect_ms", "haproxy__actconn",
            "haproxy__feconn", "haproxy__beconn", "haproxy__srv_conn", "haproxy__retries",
            "haproxy__srv_queue", "haproxy__backend_queue", "elb__matched_rule_priority",
        ),
        "int",
    ),
    **dict.fromkeys(
        ("duration", "upstream__duration", "elb__request_processing_time", "elb__response_processing_time"),
        "float",
    ),
}

SYSLOG_SEVERITIES = ("EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARN", "NOTICE", "INFO", "DEBUG")
# Every valid PRI (0-191) -> its severity's level name.
_PRI_LEVELS = {str(pri): SYSLOG_SEVERITIES[pri % 8] for pri in range(192)}


def _format(name: str, pattern: str, **options: Any) -> LineFormat:
    """A LineFormat whose typed groups take their kinds from KINDS."""
    groups = re.findall(r"\(\?P<(\w+)>", pattern)
    return LineFormat(name, pattern, kinds={group: KINDS[group] for group in groups if group in KINDS}, **options)


# -- pieces -----------------------------------------------------------------------------------

_QUOTED = r'(?:[^"\\]|\\.)*'  # the inside of "...", where \" is a quote (Apache, ALB); nginx writes \x22
_MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_CLOCK = r"[0-9]{2}:[0-9]{2}:[0-9]{2}"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_RFC3339 = _DATE + r"T" + _CLOCK + r"(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:?[0-9]{2})"
_SYSLOG_TIME = _MONTH + r" {1,2}[0-9]{1,2} " + _CLOCK
_PRI = r"<(?P<level>(?P<syslog__priority>1[0-8][0-9]|19[01]|[1-9]?[0-9]))>"
# A host name has a lower-case letter or a digit (after a time, an all-capitals word is a level:
# "INFO main: ..."), and does not end with a colon (that is a tag: "su: ...").
_HOST = r"[A-Za-z0-9._:-]*[a-z0-9](?:[A-Za-z0-9._:-]*[A-Za-z0-9._-])?"
_TAG = r"(?P<syslog__app>[^\s\[\]:]+)(?:\[(?P<syslog__pid>[0-9]+)\])?:"
# A request line inside quotes; one of another shape (a TLS handshake sent to an HTTP port,
# say) leaves the request fields empty but still lets the line match.
_REQUEST_LINE = (
    r'(?P<request__method>[A-Z][A-Z_-]*) (?P<request__path>[^\s"]+)(?: (?P<request__protocol>[A-Z]+/[0-9.]+))?'
)
_REQUEST = "(?:" + _REQUEST_LINE + "|" + _QUOTED + ")"


# Signatures (parse/format.py): what every line of a format starts with, cheap to compile.
_CLF_SIGNATURE = r"^\S+ \S+ \S+ \[[0-9]{2}/"
_HAPROXY_SIGNATURE = r"\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\] "


def _address(name: str) -> str:
    """`ip:port` or `[ip]:port` as `<name>.ip` and `<name>.port`; IPv6 too (the port is after
    the last colon)."""
    return rf"\[?(?P<{name}__ip>[^\s\[\]]+?)\]?:(?P<{name}__port>[0-9]+)"


# -- load balancers and proxies -----------------------------------------------------------------

_ELB_REQUEST = (
    r'"(?:(?P<request__method>[A-Z]+) [a-z0-9]+://(?P<request__host>\[[0-9A-Fa-f:.]+\]|[^\s/:"]+)'
    r'(?::(?P<server__port>[0-9]+))?(?P<request__path>/[^\s"]*)? (?P<request__protocol>[A-Z0-9]+/[0-9.]+)|'
    + _QUOTED
    + r')"'
)
_ELB = (
    r"(?P<time>" + _RFC3339 + r") (?P<elb__name>\S+) " + _address("client") + r" (?:" + _address("upstream") + r"|-)"
    r" (?P<elb__request_processing_time>-1|[0-9.]+) (?P<upstream__duration>-1|[0-9.]+)"
    r" (?P<elb__response_processing_time>-1|[0-9.]+) (?P<status>[0-9]{3}|-) (?P<upstream__status>[0-9]{3}|-)"
    r" (?P<request__bytes>[0-9]+|-) (?P<bytes>[0-9]+|-) " + _ELB_REQUEST + r' "(?P<user_agent>' + _QUOTED + r')"'
    r" (?P<tls__cipher>\S+) (?P<tls__protocol>\S+)"
)

# Application Load Balancer; AWS adds fields at the end now and then, so those are optional.
ALB = _format(
    "alb",
    r"^(?P<elb__type>https?|h2|grpcs|wss?) " + _ELB
    + r'(?: (?P<elb__target_group_arn>\S+) "(?P<elb__trace_id>[^"]*)" "(?P<tls__server_name>[^"]*)"'
    r' "(?P<elb__chosen_cert_arn>[^"]*)" (?P<elb__matched_rule_priority>-?[0-9]+|-) \S+'
    r' "(?P<elb__actions_executed>[^"]*)" "(?P<elb__redirect_url>[^"]*)" "(?P<elb__error_reason>[^"]*)")?',
    absent=frozenset({"-", "-1"}),
    time="time",
    read_time=times.iso8601,
    signature=r"^(?:https?|h2|grpcs|wss?) [0-9]{4}-[0-9]{2}-[0-9]{2}T",
)

# Classic Load Balancer.
ELB = _format(
    "elb",
    r"^" + _ELB + r"$",
    absent=frozenset({"-", "-1"}),
    time="time",
    read_time=times.iso8601,
    signature=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ ]+ \S+ ",
)

# Envoy's default format; Istio's default inserts three fields after the flags and appends six.
ENVOY = _format(
    "envoy",
    r"^\[(?P<time>" + _RFC3339 + r')\] "(?:(?P<request__method>[A-Z][A-Z_-]*|-) (?P<request__path>\S+)'
    r' (?P<request__protocol>\S+)|[^"]*)" (?P<status>[0-9]+|-) (?P<envoy__response_flags>\S+)'
    r"(?: (?P<envoy__response_code_details>\S+) (?P<envoy__connection_termination_details>\S+)"
    r' "(?P<envoy__upstream_transport_failure_reason>[^"]*)")?'
    r" (?P<request__bytes>[0-9]+|-) (?P<bytes>[0-9]+|-) (?P<duration_ms>[0-9]+|-) (?P<upstream__duration_ms>[0-9]+|-)"
    r' "(?P<forwarded_for>[^"]*)" "(?P<user_agent>[^"]*)" "(?P<request__id>[^"]*)" "(?P<request__host>[^"]*)"'
    r' "(?:(?:[a-z]+://)?' + _address("upstream") + r'|[^"]*)"'
    r"(?: (?P<envoy__upstream_cluster>\S+) (?P<envoy__upstream_local_address>\S+) (?:" + _address("server")
    + r"|\S+) (?:" + _address("client") + r"|\S+) (?P<tls__server_name>\S+) (?P<envoy__route_name>\S+))?",
    time="time",
    read_time=times.iso8601,
    signature=r"^\[[0-9]{4}-[0-9]{2}-[0-9]{2}T",
)

# HAProxy's own lines, bare (`log stdout format raw`), after a PRI (`format short`) or after a
# syslog header as rsyslog writes it to a file. Its accept date is the line's time.
_HAPROXY_HEADER = (
    r"^(?:" + _PRI + r")?(?:(?:" + _SYSLOG_TIME + r"|" + _RFC3339 + r") (?:(?P<syslog__host>" + _HOST + r") )?"
    + _TAG + r" )?" + _address("client") + r" \[(?P<time>[0-9]{2}/" + _MONTH + r"/[0-9]{4}:" + _CLOCK
    + r"\.[0-9]{3})\] (?P<haproxy__frontend>\S+) (?P<haproxy__backend>[^\s/]+)/(?P<haproxy__server>\S+) "
)
_HAPROXY_COUNTERS = (
    r" (?P<haproxy__actconn>[0-9]+)/(?P<haproxy__feconn>[0-9]+)/(?P<haproxy__beconn>[0-9]+)"
    r"/(?P<haproxy__srv_conn>[0-9]+)/\+?(?P<haproxy__retries>[0-9]+)"
    r" (?P<haproxy__srv_queue>[0-9]+)/(?P<haproxy__backend_queue>[0-9]+)"
)
HAPROXY_HTTP = _format(
    "haproxy_http",
    _HAPROXY_HEADER
    + r"(?P<haproxy__request_ms>-?[0-9]+)/(?P<haproxy__queue_ms>-?[0-9]+)/(?P<haproxy__connect_ms>-?[0-9]+)"
    r"/(?P<upstream__duration_ms>-?[0-9]+)/\+?(?P<duration_ms>-?[0-9]+) (?P<status>-?[0-9]+) \+?(?P<bytes>[0-9]+)"
    r" (?P<haproxy__request_cookie>\S+) (?P<haproxy__response_cookie>\S+) (?P<haproxy__termination_state>\S{4})"
    + _HAPROXY_COUNTERS
    + r"(?: \{(?P<haproxy__request_headers>[^}]*)\})?(?: \{(?P<haproxy__response_headers>[^}]*)\})?"
    r' "' + _REQUEST + r'"?$',
    absent=frozenset({"-", "-1"}),
    time="time",
    read_time=times.clf,
    level="level",
    levels=_PRI_LEVELS,
    signature=_HAPROXY_SIGNATURE,
)
HAPROXY_TCP = _format(
    "haproxy_tcp",
    _HAPROXY_HEADER
    + r"(?P<haproxy__queue_ms>-?[0-9]+)/(?P<haproxy__connect_ms>-?[0-9]+)/\+?(?P<duration_ms>-?[0-9]+)"
    r" \+?(?P<bytes>[0-9]+) (?P<haproxy__termination_state>\S{2})" + _HAPROXY_COUNTERS + r"$",
    absent=frozenset({"-", "-1"}),
    time="time",
    read_time=times.clf,
    level="level",
    levels=_PRI_LEVELS,
    signature=_HAPROXY_SIGNATURE,
)

# -- web servers ----------------------------------------------------------------------------------

_CLF = (
    r"^(?P<client__ip>\S+) \S+ (?P<client__user>\S+) \[(?P<time>[0-9]{2}/" + _MONTH + r"/[0-9]{4}:"
    + _CLOCK + r" [+-][0-9]{4})\] \"" + _REQUEST + r"\" (?P<status>[0-9]{3}|-) (?P<bytes>[0-9]+|-)"
)
# nginx's and Apache's `combined`, nginx's `main` (with X-Forwarded-For), and either followed
# by more (nginx's `rt=$request_time urt="$upstream_response_time"`, read as key=value pairs).
COMBINED = _format(
    "combined",
    _CLF + r' "(?P<referer>' + _QUOTED + r')" "(?P<user_agent>' + _QUOTED + r')"'
    r'(?: "(?P<forwarded_for>' + _QUOTED + r')")?(?:$| (?P<rest>(?s:.*)))',
    time="time",
    read_time=times.clf,
    rest="rest",
    signature=_CLF_SIGNATURE,
)
# The Common Log Format, alone or followed by key=value pairs.
COMMON = _format(
    "common",
    _CLF + r"(?:$| (?P<rest>[\w.-]+=(?s:.*)))",
    time="time",
    read_time=times.clf,
    rest="rest",
    signature=_CLF_SIGNATURE,
)

# nginx's error log; a request's context follows the message, in this order (ngx_http_log_error).
NGINX_ERROR = _format(
    "nginx_error",
    r"^(?P<time>[0-9]{4}/[0-9]{2}/[0-9]{2} " + _CLOCK + r")"
    r" \[(?P<level>debug|info|notice|warn|error|crit|alert|emerg)\]"
    r" (?P<pid>[0-9]+)#(?P<tid>[0-9]+): (?:\*(?P<nginx__connection>[0-9]+) )?"
    r"(?:.*?, client: (?P<client__ip>[^,\s]+), server: (?P<server__name>[^,\s]*)"
    r'(?:, request: "(?:' + _REQUEST_LINE + r'|[^"]*)")?(?:, subrequest: "[^"]*")?'
    r'(?:, upstream: "(?P<upstream__url>[^"]*)")?(?:, host: "(?P<request__host>[^"]*)")?'
    r'(?:, referrer: "(?P<referer>[^"]*)")?)?',
    time="time",
    read_time=times.slashed,
    level="level",
    signature=r"^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} \[",
)

# Apache's error log: 2.2 (`[error] [client 1.2.3.4]`) and 2.4's default ErrorLogFormat
# (`[core:error] [pid 1:tid 2] request.c(311): (111)Connection refused: [client 1.2.3.4:5678]
# AH00124: ..., referer: ...`, the source file only at debug levels, the OS error only with
# one). `[remote ...]` is the peer of a connection, often a proxied backend, not the client.
APACHE_ERROR = _format(
    "apache_error",
    r"^\[(?P<time>(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) " + _MONTH + r" {1,2}[0-9]{1,2} " + _CLOCK
    + r"(?:\.[0-9]{1,6})? [0-9]{4})\] \[(?:(?P<apache__module>[a-z0-9_]*):)?"
    r"(?P<level>emerg|alert|crit|error|warn|notice|info|debug|trace[1-8])\]"
    r"(?: \[pid (?P<pid>[0-9]+)(?::tid (?P<tid>[0-9]+))?\])?"
    r"(?: (?P<source__file>[\w.-]+)\((?P<source__line>[0-9]+)\):)?(?: \(-?[0-9]+\)[^:\]]*:)?"
    r"(?: \[client (?P<client__ip>[^\]\s]+?)(?::(?P<client__port>[0-9]+))?\])?(?: \[remote [^\]]*\])?"
    r"(?: (?P<apache__code>AH[0-9]{5}):)?(?:.*, referer: (?P<referer>\S+)$)?",
    time="time",
    read_time=times.ctime,
    level="level",
    levels={f"trace{n}": "TRACE" for n in range(1, 9)},
    signature=r"^\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ",
)

# -- servers --------------------------------------------------------------------------------------

# Kubernetes components (klog, glog's header): Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg.
# A structured message (`"Pod added" pod="default/web"`) is quoted; the pairs after it are fields.
KLOG = _format(
    "klog",
    r"^(?P<level>[IWEF])(?P<time>[0-9]{4} " + _CLOCK + r"\.[0-9]{6}) +(?P<pid>[0-9]+)"
    r" (?P<source__file>[^\s:\]]+):(?P<source__line>[0-9]+)\] (?:\"" + _QUOTED + r"\" (?P<rest>(?s:.+)))?",
    time="time",
    read_time=times.klog,
    level="level",
    levels={"I": "INFO", "W": "WARN", "E": "ERROR", "F": "FATAL"},
    rest="rest",
    signature=r"^[IWEF][0-9]{4} [0-9]{2}:",
)

# PostgreSQL with log_line_prefix '%m [%p] ' (the default), '%m [%p] %q%u@%d ' (Debian's) or
# their %t and [%p-%l] variants. DEBUG1-5 are all written DEBUG; DETAIL, HINT, ... lines
# continue the message before them and state no level of their own.
POSTGRESQL = _format(
    "postgresql",
    r"^(?P<time>" + _DATE + " " + _CLOCK + r"(?:\.[0-9]{3})? [A-Za-z0-9+-]{1,6})"
    r" \[(?P<pid>[0-9]+)(?:-[0-9]+)?\] (?:(?P<client__user>[^\s@]*)@(?P<database>\S*) )?"
    r"(?:(?P<level>DEBUG|LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC)"
    r"|DETAIL|HINT|QUERY|CONTEXT|STATEMENT|LOCATION):  ",
    absent=frozenset({"-", "[unknown]"}),
    time="time",
    read_time=times.iso8601,
    level="level",
    levels={"LOG": "INFO"},
    signature=r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\S* \S{1,6} \[[0-9]",
)

# MySQL's error log: 8.0 (`[Warning] [MY-010055] [Server]`), 5.7 and 5.6 (`[Note]`).
MYSQL = _format(
    "mysql",
    r"^(?P<time>" + _DATE + r"[T ]" + _CLOCK + r"(?:\.[0-9]{6})?(?:Z|[+-][0-9]{2}:[0-9]{2})?) (?P<tid>[0-9]+)"
    r" \[(?P<level>System|ERROR|Error|Warning|Note)\]"
    r"(?: \[(?P<mysql__code>MY-[0-9]{6})\] \[(?P<mysql__subsystem>\w+)\])?",
    time="time",
    read_time=times.iso8601,
    level="level",
    levels={"System": "NOTICE", "Note": "INFO"},
    signature=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}\S* [0-9]+ \[",
)

# Redis 3+: pid:role (X sentinel, C child, S replica, M primary), then . - * # for
# debug, verbose, notice, warning. `-` is a level here, so nothing is absent.
REDIS = _format(
    "redis",
    r"^(?P<pid>[0-9]+):(?P<redis__role>[XCSM]) (?P<time>[0-9]{1,2} " + _MONTH + r" [0-9]{4} " + _CLOCK
    + r"\.[0-9]{3}) (?P<level>[.*#-]) ",
    absent=frozenset(),
    time="time",
    read_time=times.redis,
    level="level",
    levels={".": "DEBUG", "-": "INFO", "*": "NOTICE", "#": "WARN"},
    signature=r"^[0-9]+:[XCSM] ",
)

# -- syslog ---------------------------------------------------------------------------------------

_SD_ELEMENT = r'\[[^\s\]=]+(?: [^\s\]=]+="' + _QUOTED + r'")*\]'
RFC5424 = _format(
    "rfc5424",
    r"^" + _PRI + r"1 (?P<time>-|" + _RFC3339 + r") (?P<syslog__host>\S{1,255}) (?P<syslog__app>\S{1,48})"
    r" (?P<syslog__pid>\S{1,128}) (?P<syslog__msgid>\S{1,32}) (?:-|(?P<rest>(?:" + _SD_ELEMENT + r")+))(?: |$)",
    time="time",
    read_time=times.iso8601,
    level="level",
    levels=_PRI_LEVELS,
    rest="rest",
    signature=r"^<[0-9]{1,3}>1 ",
)

# RFC 3164 as sent (with PRI) and as syslog daemons write it to files (without). Only a time
# is certain: senders leave out the host, the tag, or both.
RFC3164 = _format(
    "rfc3164",
    r"^(?:" + _PRI + r")?(?P<time>" + _SYSLOG_TIME + r")"
    r"(?: (?P<syslog__host>" + _HOST + r"))?(?: " + _TAG + r")?(?: |$)",
    time="time",
    read_time=times.rfc3164,
    level="level",
    levels=_PRI_LEVELS,
    signature=r"^(?:<[0-9]{1,3}>)?" + _MONTH + r" {1,2}[0-9]{1,2} ",
)

# The RFC 3164 layout with an RFC 3339 time: rsyslog's RSYSLOG_FileFormat (Debian's default
# since 12) and ForwardFormat, `journalctl -o short-iso`. Applications start lines with such
# a time too, so here the host and the tag are required.
SYSLOG_ISO = _format(
    "syslog_iso",
    r"^(?:" + _PRI + r")?(?P<time>" + _RFC3339 + r") (?P<syslog__host>" + _HOST + r") " + _TAG + r"(?: |$)",
    time="time",
    read_time=times.iso8601,
    level="level",
    levels=_PRI_LEVELS,
    signature=r"^(?:<[0-9]{1,3}>)?[0-9]{4}-[0-9]{2}-[0-9]{2}T",
)

# -- anything else that starts with a time ---------------------------------------------------------

_LEVEL_WORDS = sorted(
    {spelling for word in CANONICAL for spelling in (word, word.lower(), word.capitalize())
     if word not in ("ERR", "CRIT") or spelling == word},
    key=len,
    reverse=True,
)
# log4j/logback `2025-05-31 04:12:38,669 WARN ...`, Python `2025-05-31 04:12:38,669 - name - ...`,
# Go `2025/05/31 04:12:38 ...`, `[2025-05-31 04:12:38] ...`: the time, and the level when it
# comes next (after at most a `-` or `|`).
TIMESTAMPED = _format(
    "timestamped",
    r"^\[?(?P<time>" + _DATE + r"[T ]" + _CLOCK + r"(?:[.,][0-9]{1,9})?(?:Z|[+-][0-9]{2}:?[0-9]{2}| UTC| GMT)?"
    r"|[0-9]{4}/[0-9]{2}/[0-9]{2} " + _CLOCK + r"(?:\.[0-9]{1,9})?)\]?(?:\s|$)"
    r"(?:[ \t]*(?:[-|][ \t]+)?\[?(?P<level>" + "|".join(_LEVEL_WORDS) + r")\]?(?:\W|$))?",
    time="time",
    read_time=times.first_of(times.iso8601, times.slashed),
    level="level",
    signature=r"^\[?(?:[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]|[0-9]{4}/[0-9]{2}/[0-9]{2} )",
)

FORMATS: tuple[LineFormat, ...] = (
    COMBINED,
    COMMON,
    NGINX_ERROR,
    APACHE_ERROR,
    HAPROXY_HTTP,
    HAPROXY_TCP,
    RFC5424,
    RFC3164,
    SYSLOG_ISO,
    KLOG,
    POSTGRESQL,
    MYSQL,
    REDIS,
    ENVOY,
    ELB,
    ALB,
    TIMESTAMPED,
)
