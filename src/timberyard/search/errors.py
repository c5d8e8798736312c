"""The one error a search query can raise, so callers can answer 400 with where and why."""

from __future__ import annotations

from timberyard.core.errors import BadRequest


class QuerySyntaxError(BadRequest):
    """A query we cannot read: `position` is the 0-based character offset of the problem and
    `hint` says how to write what the user probably meant."""

    code = "QuerySyntaxError"

    def __init__(self, message: str, position: int, hint: str = "") -> None:
        super().__init__(message, position=position, hint=hint)
        self.position = position
        self.hint = hint
