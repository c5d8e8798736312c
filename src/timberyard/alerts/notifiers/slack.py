"""Slack incoming webhooks: a readable message in blocks (a headline, the figures, the first
sample lines as code, a button to the view), with the account's text escaped. The webhook URL is the secret: whoever has it posts."""

from __future__ import annotations

from typing import Any

import orjson

from timberyard.alerts.notification import Notification
from timberyard.alerts.notifiers import Outcome
from timberyard.core.outbound import OutboundPolicy, check_url, request
from timberyard.core.errors import BadRequest

FIELDS = ("url",)
SECRETS = ("url",)
SAMPLE_LINES = 5
MAX_CODE_CHARS = 2500  # Slack's section text limit is 3000


def check(config: dict[str, Any], policy: OutboundPolicy) -> dict[str, Any]:
    if not isinstance(config.get("url"), str):
        raise BadRequest("url is required: the Slack incoming-webhook URL", field="url")
    check_url(config["url"], policy)
    return {"url": config["url"]}


def escaped(text: str) -> str:
    """Slack's mrkdwn escaping: a log line cannot become a link or an @channel mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def headline(notification: Notification) -> str:
    if notification.state == "resolved":
        return f"Resolved: {notification.alert_name}"
    return f"Alert: {notification.alert_name}"


def message(notification: Notification) -> dict[str, Any]:
    n = notification
    summary = f"*{n.matches}* matching lines (threshold {n.threshold}), {n.window_start:%Y-%m-%d %H:%M:%S} to {n.window_end:%H:%M:%S} UTC"
    if n.reason:
        summary += f"\n{escaped(n.reason)}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": headline(n)[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": summary}},
    ]
    if n.query:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"query: `{escaped(n.query[:500])}`"}]})
    sample = escaped("\n".join(str(line.get("_line", "")) for line in n.lines[:SAMPLE_LINES]))
    if sample:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"```{sample[:MAX_CODE_CHARS].replace('```', 'ˋˋˋ')}```"}})
    blocks.append({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open the view"}, "url": n.url}]})
    return {"text": f"{headline(n)}: {n.matches} matching lines", "blocks": blocks}


def send(config: dict[str, Any], notification: Notification, policy: OutboundPolicy) -> Outcome:
    body = orjson.dumps(message(notification))
    return Outcome.of(request(policy, "POST", config["url"], body, {"Content-Type": "application/json"}))
