"""Each channel kind against a real peer: a local HTTP receiver for webhook, Slack and PagerDuty
(the exact JSON they get), a local SMTP server with STARTTLS and AUTH for email."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from receivers import http_receiver, smtp_server

from timberyard.alerts.notification import Notification
from timberyard.alerts.notifiers import email, pagerduty, slack, webhook
from timberyard.core.outbound import OutboundPolicy
from timberyard.core.errors import BadRequest

LOCAL = OutboundPolicy.parse("127.0.0.1")
KEY = "R0UT1NGKEY0123456789abcdefABCDEF"
NOTIFICATION = Notification(
    firing_id=7, alert_id=3, alert_name="checkout <5xx>", account="acct1", kind="presence", state="firing",
    query="app:api level:error", url="https://logs.example.org/view/abc?x=1&y=2", matches=12, threshold=10,
    window_start=datetime(2026, 11, 30, 9, 0, tzinfo=UTC), window_end=datetime(2026, 11, 30, 9, 5, tzinfo=UTC),
    lines=({"_line": "<script>alert(1)</script> & 503", "_app": "api", "_host": "web-1", "level": "error"},
           {"_line": "second", "_app": "api", "_host": "web-2", "level": "error"}),
    reason="12 lines matched in 5 minutes",
)
RESOLVED = Notification(**{**NOTIFICATION.__dict__, "state": "resolved"})


def test_webhook_sends_the_rendered_body_with_method_and_headers() -> None:
    with http_receiver() as receiver:
        config = webhook.check({"url": receiver.url, "method": "PUT", "headers": {"Authorization": "Bearer s3cret"},
                                "body": '{"text": "{{ name }}: {{ matches }}", "first": "{{ first_line_object._line }}", "n": "{{ matches }}"}'}, LOCAL)
        outcome = webhook.send(config, NOTIFICATION, LOCAL)
    assert (outcome.ok, outcome.status) == (True, 200)
    [got] = receiver.received
    assert (got.method, got.path, got.headers["authorization"], got.headers["content-type"]) == ("PUT", "/hook", "Bearer s3cret", "application/json")
    assert orjson.loads(got.body) == {"text": "checkout <5xx>: 12", "first": "<script>alert(1)</script> & 503", "n": 12}


def test_webhook_default_body() -> None:
    with http_receiver() as receiver:
        webhook.send(webhook.check({"url": receiver.url}, LOCAL), NOTIFICATION, LOCAL)
    assert orjson.loads(receiver.received[0].body) == {
        "alert": "checkout <5xx>", "state": "firing", "matches": 12, "threshold": 10, "query": "app:api level:error",
        "url": "https://logs.example.org/view/abc?x=1&y=2", "lines": list(NOTIFICATION.lines)}


def test_a_receiver_error_is_a_failed_outcome_with_its_status() -> None:
    with http_receiver([503]) as receiver:
        outcome = webhook.send(webhook.check({"url": receiver.url}, LOCAL), NOTIFICATION, LOCAL)
    assert (outcome.ok, outcome.status) == (False, 503) and "503" in outcome.error


def test_redirects_are_not_followed() -> None:
    with http_receiver([302]) as receiver:
        outcome = webhook.send(webhook.check({"url": receiver.url}, LOCAL), NOTIFICATION, LOCAL)
    assert (outcome.ok, outcome.status, len(receiver.received)) == (False, 302, 1)


def test_a_webhook_aimed_at_loopback_is_refused_by_default_on_save() -> None:
    with pytest.raises(BadRequest, match="127.0.0.1.*alerts_outbound_allow"):
        webhook.check({"url": "http://127.0.0.1:9/hook"}, OutboundPolicy())


@pytest.mark.parametrize(("config", "field"), [({}, "url"), ({"url": "http://127.0.0.1/", "method": "GET"}, "method"),
                                               ({"url": "http://127.0.0.1/", "headers": {"X": "a\r\nInjected: 1"}}, "headers"),
                                               ({"url": "http://127.0.0.1/", "headers": {"Host": "internal"}}, "headers"),
                                               ({"url": "http://127.0.0.1/", "body": '{"a": "{{ 1 / 0 }}"}'}, "body")])
def test_webhook_configuration_is_checked_on_save(config: dict, field: str) -> None:
    with pytest.raises(BadRequest) as refused:
        webhook.check(config, LOCAL)
    assert refused.value.fields["field"] == field


def test_slack_gets_a_readable_message_in_blocks_with_line_text_escaped() -> None:
    with http_receiver() as receiver:
        assert slack.send(slack.check({"url": receiver.url}, LOCAL), NOTIFICATION, LOCAL).ok
    assert orjson.loads(receiver.received[0].body) == {
        "text": "Alert: checkout <5xx>: 12 matching lines",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Alert: checkout <5xx>"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "*12* matching lines (threshold 10), 2026-11-30 09:00:00 to 09:05:00 UTC\n12 lines matched in 5 minutes"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "query: `app:api level:error`"}]},
            {"type": "section", "text": {"type": "mrkdwn", "text": "```&lt;script&gt;alert(1)&lt;/script&gt; &amp; 503\nsecond```"}},
            {"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open the view"}, "url": NOTIFICATION.url}]},
        ],
    }


def test_pagerduty_triggers_and_resolves_one_incident_per_alert() -> None:
    with http_receiver() as receiver:
        config = pagerduty.check({"routing_key": KEY, "url": receiver.url, "severity": "critical"}, LOCAL)
        assert pagerduty.send(config, NOTIFICATION, LOCAL).ok
        assert pagerduty.send(config, RESOLVED, LOCAL).ok
    trigger, resolve = (orjson.loads(r.body) for r in receiver.received)
    assert trigger == {
        "routing_key": KEY, "event_action": "trigger", "dedup_key": "timberyard-acct1-alert-3",
        "payload": {"summary": "checkout <5xx>: 12 matching lines (threshold 10)", "source": "timberyard", "severity": "critical",
                    "timestamp": "2026-11-30T09:05:00+00:00", "component": "presence",
                    "custom_details": {"query": "app:api level:error", "reason": "12 lines matched in 5 minutes", "late_lines": 0,
                                       "lines": ["<script>alert(1)</script> & 503", "second"]}},
        "links": [{"href": NOTIFICATION.url, "text": "Open the view"}],
    }
    assert resolve == {"routing_key": KEY, "event_action": "resolve", "dedup_key": "timberyard-acct1-alert-3"}


def test_pagerduty_defaults_to_the_events_api_and_checks_the_routing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("socket.getaddrinfo", lambda host, port, **kw: [(2, 1, 6, "", ("18.213.218.74", port))])  # offline tests
    assert pagerduty.check({"routing_key": KEY}, OutboundPolicy())["url"] == "https://events.pagerduty.com/v2/enqueue"
    with pytest.raises(BadRequest, match="routing_key"):
        pagerduty.check({"routing_key": "x"}, LOCAL)


def test_email_goes_through_starttls_and_auth_with_a_text_and_an_escaped_html_part(tmp_path: Path) -> None:
    with smtp_server(tmp_path, "alerts@example.org", "pa55word") as server:
        policy = OutboundPolicy(LOCAL.networks, LOCAL.hosts, server.client_context)
        config = email.check({"to": ["oncall@example.org"], "from": "timberyard@example.org", "smtp_host": "127.0.0.1",
                              "smtp_port": server.port, "username": "alerts@example.org", "password": "pa55word"}, policy)
        outcome = email.send(config, NOTIFICATION, policy)
    assert outcome.ok, outcome.error
    assert server.logins == ["alerts@example.org"]
    [mail] = server.messages
    assert (mail["Subject"], mail["To"], mail["From"]) == ("[Timberyard] Alert: checkout <5xx>", "oncall@example.org", "timberyard@example.org")
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = mail.get_body(("html",)).get_content()
    assert "<script>alert(1)</script> & 503\nsecond" in text and NOTIFICATION.url in text and "12 matching lines (threshold 10)" in text
    assert "<pre>&lt;script&gt;alert(1)&lt;/script&gt; &amp; 503</pre><pre>second</pre>" in html
    assert "<h2>Alert: checkout &lt;5xx&gt;</h2>" in html and 'href="https://logs.example.org/view/abc?x=1&amp;y=2"' in html
    assert "<script>" not in html


def test_email_with_a_wrong_password_fails_with_the_servers_answer(tmp_path: Path) -> None:
    with smtp_server(tmp_path, "alerts@example.org", "pa55word") as server:
        policy = OutboundPolicy(LOCAL.networks, LOCAL.hosts, server.client_context)
        config = email.check({"to": "oncall@example.org", "from": "t@example.org", "smtp_host": "127.0.0.1", "smtp_port": server.port,
                              "username": "alerts@example.org", "password": "wrong"}, policy)
        outcome = email.send(config, NOTIFICATION, policy)
    assert (outcome.ok, outcome.status) == (False, 535) and server.messages == []


def test_email_refuses_a_password_without_starttls_and_a_private_mail_server() -> None:
    base = {"to": "a@example.org", "from": "b@example.org", "smtp_host": "127.0.0.1"}
    with pytest.raises(BadRequest, match="starttls"):
        email.check({**base, "starttls": False, "username": "u", "password": "p"}, LOCAL)
    with pytest.raises(BadRequest, match="alerts_outbound_allow"):
        email.check(base, OutboundPolicy())
