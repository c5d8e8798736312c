"""PagerDuty Events API v2: a firing triggers an incident, a resolution resolves it. The dedup
key is per alert, so repeated firings of one alert update one incident and the resolve finds it.
The routing key is the secret; `url` defaults to PagerDuty's and is settable for a proxy or a test."""

from __future__ import annotations

from typing import Any

import orjson

from timberyard.alerts.notification import Notification
from timberyard.alerts.notifiers import Outcome
from timberyard.core.outbound import OutboundPolicy, check_url, request
from timberyard.core.errors import BadRequest

FIELDS = ("routing_key", "url", "severity")
SECRETS = ("routing_key",)
DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITIES = ("critical", "error", "warning", "info")


def check(config: dict[str, Any], policy: OutboundPolicy) -> dict[str, Any]:
    key = config.get("routing_key")
    if not isinstance(key, str) or not 20 <= len(key) <= 64 or not key.isalnum():
        raise BadRequest("routing_key is required: the 32-character integration key of a PagerDuty service", field="routing_key")
    url = config.get("url", DEFAULT_URL)
    if not isinstance(url, str):
        raise BadRequest("url must be a string", field="url")
    check_url(url, policy)
    severity = config.get("severity", "error")
    if severity not in SEVERITIES:
        raise BadRequest(f"severity must be one of {', '.join(SEVERITIES)}", field="severity")
    return {"routing_key": key, "url": url, "severity": severity}


def dedup_key(notification: Notification) -> str:
    return f"timberyard-{notification.account}-alert-{notification.alert_id}"


def event(config: dict[str, Any], notification: Notification) -> dict[str, Any]:
    n = notification
    if n.state == "resolved":
        return {"routing_key": config["routing_key"], "event_action": "resolve", "dedup_key": dedup_key(n)}
    return {
        "routing_key": config["routing_key"],
        "event_action": "trigger",
        "dedup_key": dedup_key(n),
        "payload": {
            "summary": f"{n.alert_name}: {n.matches} matching lines (threshold {n.threshold})"[:1024],
            "source": "timberyard",
            "severity": config["severity"],
            "timestamp": n.window_end.isoformat(),
            "component": n.kind,
            "custom_details": {"query": n.query, "reason": n.reason, "late_lines": n.late_lines,
                               "lines": [line.get("_line", "") for line in n.lines]},
        },
        "links": [{"href": n.url, "text": "Open the view"}],
    }


def send(config: dict[str, Any], notification: Notification, policy: OutboundPolicy) -> Outcome:
    body = orjson.dumps(event(config, notification))
    return Outcome.of(request(policy, "POST", config["url"], body, {"Content-Type": "application/json"}))
