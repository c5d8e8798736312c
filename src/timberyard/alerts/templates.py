"""Webhook body templates: a JSON document whose strings may hold `{{ ... }}` expressions.

The template is itself JSON, so what a user writes and what a receiver gets are both valid
JSON by construction: the document is parsed on save, and at delivery each string in it is
rendered on its own. A string that is exactly one expression (`"{{ lines }}"`,
`"{{ matches }}"`) becomes that value with its JSON type (a list, a number); a string that mixes
text and expressions stays a string, with lists and objects written in it as compact JSON.
Keys are taken as written.

A name that does not exist, at any depth (`{{ nothing }}`, `{{ first_line_object.x.y }}`),
renders as the empty string inside text and as `null` as a whole value; it never fails. The
expressions run in Jinja's immutable sandbox: attributes starting with an underscore are out of
reach (`{{ ''.__class__ }}` is empty) and nothing can change the notification. An expression
that still fails at run time (`{{ 1 / 0 }}`) fails that delivery with the error recorded.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from jinja2 import ChainableUndefined, TemplateError, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from timberyard.core.errors import BadRequest

MAX_TEMPLATE_CHARS = 16 * 1024
_WHOLE = re.compile(r"^\s*\{\{(?P<expression>(?:(?!\}\}|\{\{).)*)\}\}\s*$", re.DOTALL)


def _text(value: object) -> object:
    """How a value reads inside a string: containers as JSON, missing as empty."""
    if isinstance(value, Undefined) or value is None:
        return ""
    if isinstance(value, (list, tuple, dict)):
        return orjson.dumps(value, default=str).decode()
    return value


_ENVIRONMENT = ImmutableSandboxedEnvironment(undefined=ChainableUndefined, finalize=_text, autoescape=False)


class BodyTemplate:
    """A checked template; `render(context)` gives the JSON body as bytes."""

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or len(text) > MAX_TEMPLATE_CHARS:
            raise BadRequest(f"body must be a string of at most {MAX_TEMPLATE_CHARS} characters", field="body")
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"body must be a JSON document (expressions go inside strings): {exc}", field="body") from None
        try:
            self._compiled = _compile(document)
        except TemplateError as exc:
            raise BadRequest(f"body has a template error: {exc}", field="body") from None
        self.text = text

    def render(self, context: dict[str, Any]) -> bytes:
        try:
            return orjson.dumps(_render(self._compiled, context), default=str)
        except TemplateError as exc:
            raise ValueError(f"body template failed: {exc}") from None
        except (ArithmeticError, TypeError, ValueError, LookupError) as exc:
            raise ValueError(f"body template failed: {type(exc).__name__}: {exc}") from None


class _Whole:
    def __init__(self, expression: str) -> None:
        self.evaluate = _ENVIRONMENT.compile_expression(expression, undefined_to_none=True)


def _compile(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _compile(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_compile(value) for value in node]
    if isinstance(node, str) and "{" in node:
        whole = _WHOLE.match(node)
        return _Whole(whole["expression"]) if whole else _ENVIRONMENT.from_string(node)
    return node


def _render(node: Any, context: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        return {key: _render(value, context) for key, value in node.items()}
    if isinstance(node, list):
        return [_render(value, context) for value in node]
    if isinstance(node, _Whole):
        value = node.evaluate(**context)
        return None if isinstance(value, Undefined) else value
    if hasattr(node, "render"):
        return node.render(context)
    return node
