"""The compliance report over a period of the audit trail, as an auditor asks for it
(HIPAA 164.312(b) audit controls, 164.308(a)(1)(ii)(D) information system activity review).

Sign-ins and failures, security events, who read log data and how often, exports,
permission denials, changes to keys, users, groups, roles and settings, and whether the
trail verified. Rendered as CSV (for spreadsheets) or one self-contained HTML page. Entries
hold text attackers choose (a user agent, a query, an email typed at the sign-in form), so
every value is shown inert: control and bidirectional characters escaped visibly, HTML
escaped, and CSV cells that a spreadsheet would run as a formula prefixed with `'`.
"""

from __future__ import annotations

import csv
import html
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from timberyard.auth.audit import AuditTrail, VerifyResult, actor_label
from timberyard.meta.audit import AuditEntryInfo
from timberyard.meta.info import iso

LOGIN_SUCCESS = "login.success"
LOGIN_FAILURE = "login.failure"
DATA_ACCESS_ACTIONS = frozenset({"search", "export", "tail", "context", "facets", "histogram", "view.open", "template", "insights",
                                 "insights.anomalies", "insights.templates"})
CHANGE_PREFIXES = ("key.", "user.", "group.", "role.", "config.", "account.", "access.")
SECURITY_PREFIX = "security."

# C0, DEL and C1 controls, and the bidirectional overrides that reorder text on screen.
_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
_INERT = {c: _NAMED.get(c, f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in (*range(0x20), *range(0x7F, 0xA0), *_BIDI)}
_FORMULA_START = ("=", "+", "-", "@")


@dataclass(frozen=True, slots=True)
class AuditReport:
    account: str | None  # None: every account
    start: datetime
    end: datetime
    generated_at: datetime
    sign_ins: tuple[tuple[str, int, int], ...]  # (actor, successes, failures)
    login_failures: tuple[AuditEntryInfo, ...]
    security_events: tuple[AuditEntryInfo, ...]
    data_access: tuple[tuple[str, str, int], ...]  # (actor, action, count)
    exports: tuple[AuditEntryInfo, ...]
    denials: tuple[AuditEntryInfo, ...]
    changes: tuple[AuditEntryInfo, ...]
    integrity: VerifyResult


def build_report(trail: AuditTrail, account_id: str | None, start: datetime, end: datetime) -> AuditReport:
    """The report for one account (None: all) over `[start, end)`, in one pass over it."""
    sign_ins: Counter[tuple[str, str]] = Counter()
    access: Counter[tuple[str, str]] = Counter()
    lists: dict[str, list[AuditEntryInfo]] = {name: [] for name in ("failures", "security", "exports", "denials", "changes")}
    for entry in trail.scan(account_id, start, end):
        action = entry.action
        if action in (LOGIN_SUCCESS, LOGIN_FAILURE):
            sign_ins[actor_label(entry), action] += 1
            if action == LOGIN_FAILURE:
                lists["failures"].append(entry)
        if action.startswith(SECURITY_PREFIX):
            lists["security"].append(entry)
        if action in DATA_ACCESS_ACTIONS:
            access[actor_label(entry), action] += 1
        if action == "export":
            lists["exports"].append(entry)
        if entry.outcome == "denied":
            lists["denials"].append(entry)
        if action.startswith(CHANGE_PREFIXES):
            lists["changes"].append(entry)
    actors = sorted({actor for actor, _ in sign_ins})
    return AuditReport(
        account=account_id,
        start=start,
        end=end,
        generated_at=datetime.now(UTC),
        sign_ins=tuple((a, sign_ins[a, LOGIN_SUCCESS], sign_ins[a, LOGIN_FAILURE]) for a in actors),
        login_failures=tuple(lists["failures"]),
        security_events=tuple(lists["security"]),
        data_access=tuple((actor, action, n) for (actor, action), n in sorted(access.items())),
        exports=tuple(lists["exports"]),
        denials=tuple(lists["denials"]),
        changes=tuple(lists["changes"]),
        integrity=trail.verify(account_id, start, end),
    )


def inert(text: object) -> str:
    """`text` with every control and bidirectional character shown as an escape."""
    return ("" if text is None else str(text)).translate(_INERT)


# -- CSV ---------------------------------------------------------------------------------------

CSV_COLUMNS = ("section", "at", "account", "actor", "action", "outcome", "target", "query", "ip", "count", "details")
_SECTIONS = (
    ("login failure", "login_failures"),
    ("security event", "security_events"),
    ("export", "exports"),
    ("permission denial", "denials"),
    ("change", "changes"),
)


def render_csv(report: AuditReport) -> str:
    """One table: a `section` column says what each row is."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)

    def row(section: str, *, entry: AuditEntryInfo | None = None, **cells: object) -> None:
        if entry is not None:
            cells = {
                "at": iso(entry.at), "account": entry.account_id, "actor": actor_label(entry), "action": entry.action,
                "outcome": entry.outcome, "target": entry.target, "query": entry.query, "ip": entry.ip,
                "details": _details(entry), **cells,
            }  # fmt: skip
        writer.writerow([_cell(section)] + [_cell(cells.get(column)) for column in CSV_COLUMNS[1:]])

    integrity = report.integrity
    row("report", account=_account(report), target=f"{iso(report.start)} to {iso(report.end)}", at=iso(report.generated_at))
    row("integrity", outcome="verified" if integrity.ok else "FAILED", count=integrity.entries_checked,
        details=" | ".join(integrity.problems) or f"{integrity.digests_checked} signed digests checked")  # fmt: skip
    for actor, successes, failures in report.sign_ins:
        row("sign-ins", actor=actor, action="login.success", count=successes)
        row("sign-ins", actor=actor, action="login.failure", count=failures)
    for actor, action, count in report.data_access:
        row("log data access", actor=actor, action=action, count=count)
    for section, name in _SECTIONS:
        for entry in getattr(report, name):
            row(section, entry=entry)
    return out.getvalue()


def _cell(value: object) -> object:
    if value is None or isinstance(value, int):
        return "" if value is None else value
    text = inert(value)
    return "'" + text if text.startswith(_FORMULA_START) and text != "-" else text


# -- HTML --------------------------------------------------------------------------------------

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #1d1d1f; }
table { border-collapse: collapse; margin: .5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; max-width: 40em; }
.ok { color: #16651f; } .failed { color: #b00020; } .empty { color: #666; }
"""
_ENTRY_COLUMNS = ("time", "account", "actor", "action", "outcome", "target", "query", "ip", "details")


def render_html(report: AuditReport) -> str:
    """A standalone page: no scripts, no external resources (and a policy forbidding them)."""
    integrity = report.integrity
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>Audit report: {_h(_account(report))}</title><style>{_STYLE}</style></head><body>",
        "<h1>Audit report</h1>",
        f"<p>Account: <b>{_h(_account(report))}</b><br>Period: {_h(iso(report.start))} to {_h(iso(report.end))}"
        f"<br>Generated: {_h(iso(report.generated_at))}</p>",
        "<h2>Integrity of the audit trail</h2>",
    ]
    if integrity.ok:
        parts.append(f'<p class="ok">Verified: {integrity.entries_checked} entries and {integrity.digests_checked} signed digests intact.</p>')
    else:
        count = len(integrity.problems)
        parts.append(f'<p class="failed">FAILED: {count} problem{"" if count == 1 else "s"} found.</p>')
        parts.append("<ul>" + "".join(f"<li>{_h(p)}</li>" for p in integrity.problems) + "</ul>")
    parts.extend(f"<p>{_h(note)}</p>" for note in integrity.notes)
    parts.append("<h2>Sign-ins</h2>")
    parts.append(_table(("actor", "successful", "failed"), report.sign_ins))
    parts.append("<h2>Failed sign-ins</h2>")
    parts.append(_entries(report.login_failures))
    parts.append("<h2>Security events</h2>")
    parts.append(_entries(report.security_events))
    parts.append("<h2>Access to log data, by actor</h2>")
    parts.append(_table(("actor", "action", "count"), report.data_access))
    parts.append("<h2>Exports</h2>")
    parts.append(_entries(report.exports))
    parts.append("<h2>Permission denials</h2>")
    parts.append(_entries(report.denials))
    parts.append("<h2>Changes to keys, users, groups, roles, access and settings</h2>")
    parts.append(_entries(report.changes))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _entries(entries: tuple[AuditEntryInfo, ...]) -> str:
    rows = [
        (iso(e.at), e.account_id, actor_label(e), e.action, e.outcome, e.target, e.query, e.ip, _details(e))
        for e in entries
    ]
    return _table(_ENTRY_COLUMNS, rows)


def _table(columns: tuple[str, ...], rows: Iterable[Sequence[object]]) -> str:
    body = ["<tr>" + "".join(f"<td>{_h(v)}</td>" for v in row) + "</tr>" for row in rows]
    if not body:
        return '<p class="empty">None in this period.</p>'
    head = "<tr>" + "".join(f"<th>{_h(c)}</th>" for c in columns) + "</tr>"
    return f"<table>{head}{''.join(body)}</table>"


def _h(value: object) -> str:
    return html.escape(inert(value), quote=True)


def _details(entry: AuditEntryInfo) -> str:
    return orjson.dumps(entry.details, option=orjson.OPT_SORT_KEYS).decode() if entry.details else ""


def _account(report: AuditReport) -> str:
    return "all accounts" if report.account is None else report.account
