"""Keeping credentials out of the node's own logs.

LogDNA's clients put the ingestion key in the URL (`?apikey=`), so any log line naming a URL
(the access log, an error about a request, a webhook that failed) would copy a secret into
files that many more people read. Every line the node writes passes through `redact` on its
way out (core/logsetup.py), whatever logger wrote it: query parameters and header-like fields
that carry credentials, and passwords in URLs, become `[redacted]`.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
CREDENTIAL_PARAMS = (
    "apikey", "api_key", "key", "servicekey", "service_key", "token", "access_token", "refresh_token", "id_token",
    "password", "passwd", "pass", "secret", "client_secret", "session", "auth", "authorization", "signature", "sig",
)  # fmt: skip
CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "apikey", "servicekey", "x-csrf-token", "cookie", "set-cookie")

# `?apikey=abc` / `&token=abc`, also percent-encoded (`%3Fapikey%3Dabc`) as some clients log them.
_PARAM = re.compile(
    r"((?:[?&;]|%3[Ff]|%26)(?:" + "|".join(CREDENTIAL_PARAMS) + r")(?:=|%3[Dd]))(?:(?!%26)[^&;\s\"'#<>\\])*",
    re.IGNORECASE,
)
# `authorization: Basic abc`, `"servicekey": "abc"`, `apikey=abc` outside a query string.
_HEADER = re.compile(
    r"(\b(?:" + "|".join(re.escape(h) for h in CREDENTIAL_HEADERS) + r")\b[\"']?\s*[:=]\s*[\"']?)"
    r"((?:basic|bearer|digest)\s+)?[^\s\"',;}&]+",
    re.IGNORECASE,
)
# `https://user:password@host`
_USERINFO = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@\"']+:)[^@/\s\"']+@", re.IGNORECASE)


def redact(text: str) -> str:
    if "=" not in text and ":" not in text and "%" not in text:
        return text
    text = _PARAM.sub(lambda m: m.group(1) + REDACTED, text)
    text = _HEADER.sub(lambda m: m.group(1) + (m.group(2) or "") + REDACTED, text)
    return _USERINFO.sub(lambda m: m.group(1) + REDACTED + "@", text)


class RedactingStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler whose every formatted line (message, fields, traceback) is redacted."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
