"""One module per channel kind, each with the same anatomy: `check(config)` returns the config
as stored or raises BadRequest naming the field, `SECRETS` names the fields kept encrypted and
masked, and `send(config, notification, policy)` makes one attempt and returns its Outcome."""

from __future__ import annotations

from dataclasses import dataclass

from timberyard.core.outbound import Response


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None = None  # the receiver's HTTP status or SMTP reply code
    error: str = ""

    @classmethod
    def of(cls, response: Response) -> Outcome:
        """2xx is delivered; anything else is a failure carrying the start of the answer."""
        if 200 <= response.status < 300:
            return cls(True, response.status)
        return cls(False, response.status, f"receiver answered {response.status}: {response.body[:300]}")
