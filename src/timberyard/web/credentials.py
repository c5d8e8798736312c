"""Where a request carries its key, in the forms LogDNA's clients and tools use.

Ingestion: HTTP Basic with the key as user name, an `apikey` header, or `?apikey=`.
Reading: HTTP Basic, or a `servicekey` header.
"""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request

from timberyard.core.errors import MissingCredentials
from timberyard.meta.info import KeyInfo


def _basic_user(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        user, _, _password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user or None


def ingestion_secret(request: Request) -> str | None:
    return _basic_user(request) or request.headers.get("apikey") or request.query_params.get("apikey") or None


def service_secret(request: Request) -> str | None:
    return _basic_user(request) or request.headers.get("servicekey") or None


def ingestion_key(request: Request) -> KeyInfo:
    return _authenticate(request, ingestion_secret(request), "ingestion")


def _authenticate(request: Request, secret: str | None, kind: str) -> KeyInfo:
    if not secret:
        raise MissingCredentials("Missing Credentials")
    return request.app.state.node.keyring.authenticate(secret, kind)
