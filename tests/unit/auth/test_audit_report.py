"""The compliance report from a real audit trail: what it gathers, and that hostile entry text
stays inert in HTML and CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from timberyard.auth.audit import AuditEvent, AuditTrail
from timberyard.auth.audit_report import (
    AuditReport,
    build_report,
    inert,
    render_csv,
    render_html,
)
from timberyard.meta.database import MetaDB

ACCOUNT = "acct1"
BASE = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
WINDOW = (BASE, BASE + timedelta(days=1))
HOSTILE = "<script>alert('x')</script>\r\nInjected: yes\x1b[31mred\x1b[0m\u202eevil"


@pytest.fixture
def trail(db: MetaDB) -> AuditTrail:
    trail = AuditTrail(db, Ed25519PrivateKey.generate())
    events = [
        AuditEvent(ACCOUNT, "login.success", actor_type="user", actor_name="alice@example.com", ip="10.0.0.5"),
        AuditEvent(ACCOUNT, "login.failure", outcome="failure", actor_type="anonymous", actor_name="alice@example.com", ip="203.0.113.7"),
        AuditEvent(ACCOUNT, "login.failure", outcome="failure", actor_type="anonymous", actor_name=HOSTILE, user_agent=HOSTILE),
        AuditEvent(ACCOUNT, "search", actor_type="user", actor_name="alice@example.com", query="error"),
        AuditEvent(ACCOUNT, "search", actor_type="user", actor_name="alice@example.com", query="warn"),
        AuditEvent(ACCOUNT, "tail", actor_type="user", actor_name="bob@example.com", query=HOSTILE),
        AuditEvent(ACCOUNT, "export", actor_type="key", actor_name="backup-job", query="app:db", target="=HYPERLINK(\"http://evil\")"),
        AuditEvent(ACCOUNT, "permission.denied", outcome="denied", actor_type="user", actor_name="bob@example.com", target="POST /api/v1/keys"),
        AuditEvent(ACCOUNT, "key.create", actor_type="user", actor_name="alice@example.com", target="key k1", details={"role": "admin"}),
        AuditEvent(ACCOUNT, "group.member.add", actor_type="user", actor_name="alice@example.com", target="group ops"),
        AuditEvent(ACCOUNT, "security.break_glass", actor_type="user", actor_name="owner@example.com", details={"reason": HOSTILE}),
        AuditEvent("acct2", "export", actor_type="user", actor_name="mallory@example.com"),
    ]
    for minute, event in enumerate(events):
        trail.record(AuditEvent(**{**_fields(event), "at": BASE + timedelta(minutes=minute)}))
    trail.record(AuditEvent(ACCOUNT, "export", actor_name="outside@example.com", at=BASE + timedelta(days=2)))
    trail.seal(BASE + timedelta(days=3))
    return trail


@pytest.fixture
def report(trail: AuditTrail) -> AuditReport:
    return build_report(trail, ACCOUNT, *WINDOW)


def test_the_report_gathers_each_section(report: AuditReport) -> None:
    assert report.sign_ins == ((HOSTILE, 0, 1), ("alice@example.com", 1, 1))
    assert [e.ip for e in report.login_failures] == ["203.0.113.7", None]
    assert report.data_access == (
        ("alice@example.com", "search", 2),
        ("backup-job", "export", 1),
        ("bob@example.com", "tail", 1),
    )
    assert [e.actor_name for e in report.exports] == ["backup-job"]  # not acct2's, nor the one outside the period
    assert [e.action for e in report.denials] == ["permission.denied"]
    assert [e.action for e in report.changes] == ["key.create", "group.member.add"]
    assert [e.action for e in report.security_events] == ["security.break_glass"]
    assert report.integrity.ok and report.integrity.entries_checked == 11


def test_a_report_over_every_account(trail: AuditTrail) -> None:
    everything = build_report(trail, None, *WINDOW)
    assert [e.account_id for e in everything.exports] == [ACCOUNT, "acct2"]
    assert everything.integrity.ok and everything.integrity.entries_checked == 12
    assert "all accounts" in render_html(everything)


def test_html_escapes_every_value_and_is_self_contained(report: AuditReport) -> None:
    page = render_html(report)
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;\\r\\nInjected: yes\\x1b[31mred\\x1b[0m\\u202eevil" in page
    assert "\x1b" not in page and "\r" not in page and "\u202e" not in page
    assert re.search(r"(src|href)\s*=", page, re.I) is None
    assert "http://" not in page.replace("=HYPERLINK(&quot;http://evil&quot;)", "")
    assert "default-src 'none'" in page
    assert page.count("<tr>") == 2 + 3 + 3 + 1 + 1 + 1 + 2 + 6  # headers + rows of each table
    assert "Verified: 11 entries" in page


def test_html_shows_a_failed_verification(db: MetaDB, trail: AuditTrail) -> None:
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET query = '<b>gone</b>' WHERE account_id = :a AND seq = 4"), {"a": ACCOUNT})
    page = render_html(build_report(trail, ACCOUNT, *WINDOW))
    assert "FAILED: 1 problem found." in page
    assert "entry seq 4 (id 4): its hash does not match its contents (edited)" in page
    assert "&lt;b&gt;gone&lt;/b&gt;" not in page  # the tampered query is a search, not listed
    assert "<b>gone" not in page


def test_csv_rows_are_inert_and_one_per_record(report: AuditReport) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    sections = [r["section"] for r in rows]
    assert sections == ["report", "integrity"] + ["sign-ins"] * 4 + ["log data access"] * 3 + [
        "login failure", "login failure", "security event", "export", "permission denial", "change", "change"
    ]
    assert rows[1]["outcome"] == "verified" and rows[1]["count"] == "11"
    export = rows[sections.index("export")]
    assert export["target"] == "'=HYPERLINK(\"http://evil\")"  # a spreadsheet shows it, never runs it
    assert (export["actor"], export["query"]) == ("backup-job", "app:db")
    hostile = rows[sections.index("login failure") + 1]
    assert hostile["actor"] == inert(HOSTILE) and "\n" not in hostile["actor"] and "\x1b" not in hostile["actor"]
    breakglass = rows[sections.index("security event")]
    assert breakglass["details"] == r"""{"reason":"<script>alert('x')</script>\r\nInjected: yes\u001b[31mred\u001b[0m\u202eevil"}"""


def test_inert_escapes_controls_and_bidi_but_keeps_text() -> None:
    assert inert("a\tb\nc\rd\x00e\x7ff\x85g\u202eh\u2066i ünïcødé") == "a\\tb\\nc\\rd\\x00e\\x7ff\\x85g\\u202eh\\u2066i ünïcødé"
    assert inert(None) == ""


def _fields(event: AuditEvent) -> dict[str, object]:
    return {name: getattr(event, name) for name in event.__slots__}  # type: ignore[attr-defined]
