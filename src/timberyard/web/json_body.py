"""Reading the JSON object a management endpoint takes: capped, and each problem a 400 that
names the field, so every endpoint answers malformed input the same way."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from timberyard.core.errors import BadRequest
from timberyard.web.body import read_body

MAX_JSON_BYTES = 64 * 1024


async def json_object(request: Request, example: str) -> dict[str, Any]:
    """The request's JSON object (an empty body is `{}`); `example` shows the expected shape."""
    raw = await read_body(request, max_bytes=MAX_JSON_BYTES, max_decompressed_bytes=MAX_JSON_BYTES)
    try:
        body = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest(f"the body must be a JSON object like {example}")
    return body


def required_text(body: dict[str, Any], name: str, *, allow_empty: bool = False) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not (value or allow_empty):
        raise BadRequest(f"{name} is required and must be a string", field=name)
    return value


def optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{name} must be a string", field=name)
    return value
