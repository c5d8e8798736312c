"""Email over SMTP: a multipart message with a text and an HTML part (log lines escaped), sent
through the channel's own server, with STARTTLS and authentication when configured.

SMTP settings live on the channel, not the node, so each account uses its own relay and
credentials; the password is the secret. The connection goes to the address the outbound policy
checked, and STARTTLS verifies the certificate against the host name. Authentication without
STARTTLS is refused on save: it would send the password in the clear.
"""

from __future__ import annotations

import html
import smtplib
import socket
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from timberyard.alerts.notification import Notification
from timberyard.alerts.notifiers import Outcome
from timberyard.core.outbound import TIMEOUT_S, OutboundPolicy
from timberyard.core.errors import BadRequest

FIELDS = ("to", "from", "smtp_host", "smtp_port", "starttls", "username", "password")
SECRETS = ("password",)
MAX_RECIPIENTS = 20


def check(config: dict[str, Any], policy: OutboundPolicy) -> dict[str, Any]:
    to = config.get("to")
    if isinstance(to, str):
        to = [to]
    if not isinstance(to, list) or not 1 <= len(to) <= MAX_RECIPIENTS or not all(_address(a) for a in to):
        raise BadRequest(f"to must be 1 to {MAX_RECIPIENTS} email addresses", field="to")
    sender = config.get("from")
    if not _address(sender):
        raise BadRequest("from is required: the sender's email address", field="from")
    host = config.get("smtp_host")
    if not isinstance(host, str) or not host.strip():
        raise BadRequest("smtp_host is required: the mail server to send through", field="smtp_host")
    port = config.get("smtp_port", 587)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise BadRequest("smtp_port must be a port number (587 for STARTTLS submission)", field="smtp_port")
    starttls = config.get("starttls", True)
    if not isinstance(starttls, bool):
        raise BadRequest("starttls must be true or false", field="starttls")
    username, password = config.get("username", ""), config.get("password", "")
    if not isinstance(username, str) or not isinstance(password, str):
        raise BadRequest("username and password must be strings", field="username")
    if username and not starttls:
        raise BadRequest("username needs starttls: true; the password would cross the network in the clear", field="starttls")
    policy.resolve(host.strip(), port)
    return {"to": to, "from": sender, "smtp_host": host.strip(), "smtp_port": port, "starttls": starttls,
            "username": username, "password": password}


def _address(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 254 and "@" in parseaddr(value)[1] and "\n" not in value


def message(config: dict[str, Any], notification: Notification) -> EmailMessage:
    n = notification
    verb = "Resolved" if n.state == "resolved" else "Alert"
    figures = f"{n.matches} matching lines (threshold {n.threshold}) from {n.window_start:%Y-%m-%d %H:%M:%S} to {n.window_end:%Y-%m-%d %H:%M:%S} UTC"
    lines = [str(line.get("_line", "")) for line in n.lines]
    text = "\n".join([f"{verb}: {n.alert_name}", "", figures, *([n.reason] if n.reason else []),
                      f"Query: {n.query}" if n.query else "", "", *lines, "", f"Open the view: {n.url}", ""])
    rows = "".join(f"<pre>{html.escape(line)}</pre>" for line in lines)
    body = (
        f"<h2>{verb}: {html.escape(n.alert_name)}</h2><p>{html.escape(figures)}</p>"
        + (f"<p>{html.escape(n.reason)}</p>" if n.reason else "")
        + (f"<p>Query: <code>{html.escape(n.query)}</code></p>" if n.query else "")
        + rows + f'<p><a href="{html.escape(n.url, quote=True)}">Open the view</a></p>'
    )
    mail = EmailMessage()
    mail["Subject"] = f"[Timberyard] {verb}: {n.alert_name}"
    mail["From"] = config["from"]
    mail["To"] = ", ".join(config["to"])
    mail.set_content(text)
    mail.add_alternative(f"<!doctype html><html><body>{body}</body></html>", subtype="html")
    return mail


def send(config: dict[str, Any], notification: Notification, policy: OutboundPolicy) -> Outcome:
    address = str(policy.resolve(config["smtp_host"], config["smtp_port"]))
    try:
        with _PinnedSMTP(config["smtp_host"], config["smtp_port"], address) as smtp:
            if config["starttls"]:
                smtp.starttls(context=policy.tls_context())
            if config["username"]:
                smtp.login(config["username"], config["password"])
            smtp.send_message(message(config, notification))
    except smtplib.SMTPResponseException as exc:
        return Outcome(False, exc.smtp_code, f"mail server answered {exc.smtp_code}: {exc.smtp_error.decode(errors='replace')[:300]}")
    except smtplib.SMTPRecipientsRefused as exc:
        return Outcome(False, None, f"mail server refused the recipients: {', '.join(exc.recipients)}")
    return Outcome(True, 250)


class _PinnedSMTP(smtplib.SMTP):
    """Connects to the checked address, and keeps the host name for STARTTLS to verify."""

    def __init__(self, host: str, port: int, address: str) -> None:
        self._address = address
        super().__init__(host, port, timeout=TIMEOUT_S)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection((self._address, port), timeout)
