"""Webhook: an HTTP request with the account's headers and a JSON body from a template
(alerts/templates.py). Header values are secrets: they usually carry a token (the URL is shown
as it is, so tokens belong in a header)."""

from __future__ import annotations

from typing import Any

from timberyard.alerts.notification import Notification, sample
from timberyard.alerts.notifiers import Outcome
from timberyard.core.outbound import OutboundPolicy, check_url, request
from timberyard.alerts.templates import BodyTemplate
from timberyard.core.errors import BadRequest

METHODS = ("POST", "PUT", "PATCH")
FIELDS = ("url", "method", "headers", "body")
SECRETS = ("headers.*",)
MAX_HEADERS = 20
RESERVED_HEADERS = ("host", "content-length", "transfer-encoding", "connection")
DEFAULT_BODY = (
    '{"alert": "{{ name }}", "state": "{{ state }}", "matches": "{{ matches }}", "threshold": "{{ threshold }}",'
    ' "query": "{{ query }}", "url": "{{ url }}", "lines": "{{ lines }}"}'
)


def check(config: dict[str, Any], policy: OutboundPolicy) -> dict[str, Any]:
    if not isinstance(config.get("url"), str):
        raise BadRequest("url is required: the http(s) address to send to", field="url")
    check_url(config["url"], policy)
    method = config.get("method", "POST")
    if method not in METHODS:
        raise BadRequest(f"method must be one of {', '.join(METHODS)}", field="method")
    headers = config.get("headers", {})
    if not isinstance(headers, dict) or len(headers) > MAX_HEADERS or not all(
        isinstance(k, str) and isinstance(v, str) and k.strip() and "\n" not in k + v and "\r" not in k + v
        for k, v in headers.items()
    ):
        raise BadRequest(f'headers must be an object of at most {MAX_HEADERS} one-line strings, like {{"Authorization": "Bearer ..."}}', field="headers")
    reserved = sorted(k for k in headers if k.strip().lower() in RESERVED_HEADERS)
    if reserved:
        raise BadRequest(f"headers may not set {', '.join(reserved)}: the node sets them", field="headers")
    body = config.get("body", DEFAULT_BODY)
    try:
        BodyTemplate(body).render(sample("check", "https://timberyard.example/").context())
    except ValueError as exc:
        raise BadRequest(f"body fails with a sample notification: {exc}", field="body") from None
    return {"url": config["url"], "method": method, "headers": headers, "body": body}


def send(config: dict[str, Any], notification: Notification, policy: OutboundPolicy) -> Outcome:
    try:
        body = BodyTemplate(config["body"]).render(notification.context())
    except ValueError as exc:
        return Outcome(False, None, str(exc))
    headers = {"Content-Type": "application/json", "User-Agent": "Timberyard-Alerts", **config["headers"]}
    return Outcome.of(request(policy, config["method"], config["url"], body, headers))
