"""What the log filter hides (core/credentials_redaction.py) and what it leaves alone."""

from __future__ import annotations

import io
import logging

import pytest

from timberyard.core.credentials_redaction import RedactingStreamHandler, redact
from timberyard.core.logsetup import JsonFormatter


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('127.0.0.1:5 - "POST /logs/ingest?hostname=a&apikey=abc123 HTTP/1.1" 200',
         '127.0.0.1:5 - "POST /logs/ingest?hostname=a&apikey=[redacted] HTTP/1.1" 200'),
        ("/x?token=t1&key=k1&keep=1", "/x?token=[redacted]&key=[redacted]&keep=1"),
        ("/x?PASSWORD=p&Api_Key=q", "/x?PASSWORD=[redacted]&Api_Key=[redacted]"),
        ("/x%3Fapikey%3Dabc%26host%3Dh", "/x%3Fapikey%3D[redacted]%26host%3Dh"),
        ("Authorization: Basic dXNlcjpwdw==", "Authorization: Basic [redacted]"),
        ('{"servicekey": "s3cr3t", "host": "h"}', '{"servicekey": "[redacted]", "host": "h"}'),
        ("webhook https://ops:hunter2@hooks.example/x failed", "webhook https://ops:[redacted]@hooks.example/x failed"),
    ],
)
def test_credentials_are_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", ["node ready", "GET /api/v1/search?q=app:web&limit=5", "monkey=1 keyboard=2", "/x?hostname=key"])
def test_other_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_the_handler_redacts_messages_fields_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = RedactingStreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("timberyard.test.redaction")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        raise ValueError("cannot reach http://h/?token=in-traceback")
    except ValueError:
        logger.exception("failed %s", "/a?apikey=in-args", extra={"url": "/b?password=in-field"})
    written = stream.getvalue()
    assert "in-traceback" not in written and "in-args" not in written and "in-field" not in written
    assert written.count("[redacted]") == 4  # message, field, and the traceback's two mentions
