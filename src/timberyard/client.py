"""A small client for a node's HTTP API, used by the CLI (which never opens the store itself).

Retries what is worth retrying, with growing delays: a busy server (429/503, honouring
Retry-After) patiently, an unreachable one a few times only, since that is usually a server that
is not running; anything else is an answer to show the user. Each retry is reported through
`on_retry`, so a person sees why a command waits. A certificate the client does not trust is
never retried: the error says how to trust a private one (`verify`, the CLI's --cacert).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from timberyard.core.errors import TimberyardError

RETRYABLE_STATUS = {429, 502, 503, 504}
UNREACHABLE_ATTEMPTS = 4


class ClientError(TimberyardError):
    code = "ClientError"


class NodeClient:
    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        timeout: float = 60,
        verify: ssl.SSLContext | bool = True,
        max_attempts: int = 8,
        on_retry: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.on_retry = on_retry
        self.retries = 0
        self._http = httpx.Client(base_url=self.base_url, auth=(key, ""), timeout=timeout, verify=verify)

    def request(self, method: str, path: str, *, sleep: Callable[[float], None] = time.sleep, **kwargs: Any) -> httpx.Response:
        delay = 0.5
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                untrusted = untrusted_certificate(exc)
                if untrusted:
                    raise ClientError(f"cannot trust {self.base_url}: {untrusted}") from None
                if attempt >= min(self.max_attempts, UNREACHABLE_ATTEMPTS):
                    raise ClientError(f"cannot reach {self.base_url}: {exc}; is `timberyard serve` running?") from None
                wait = delay
                self.on_retry(f"cannot reach {self.base_url} ({exc}); retrying in {wait:g} s")
            else:
                if response.status_code not in RETRYABLE_STATUS or attempt == self.max_attempts:
                    return _checked(response)
                wait = _retry_after(response, delay)
                self.on_retry(f"the server is busy ({response.status_code}); retrying in {wait:g} s")
            self.retries += 1
            sleep(wait)
            delay = min(delay * 2, 30)
        raise AssertionError("the loop returns or raises")

    @contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """A response to read as it arrives (a restore's progress). Sent once: a long job is not
        retried behind the caller's back."""
        try:
            with self._http.stream(method, path, **kwargs) as response:
                if not response.is_success:
                    response.read()
                    _checked(response)
                yield response
        except httpx.TransportError as exc:
            raise ClientError(f"lost {self.base_url}: {exc}") from None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> NodeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def untrusted_certificate(exc: BaseException) -> str | None:
    """What is wrong with the server's certificate, with how to trust a private one; None when
    `exc` is not about the certificate."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ssl.SSLCertVerificationError):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return None
    reason = cause.verify_message or cause.reason or str(cause)
    return (
        f"its certificate did not verify ({reason}); for a private CA or a self-signed certificate give "
        "--cacert FILE (or TIMBERYARD_CACERT) with the CA's PEM file, or --insecure to skip the check"
    )


def _retry_after(response: httpx.Response, default: float) -> float:
    try:
        return max(float(response.headers.get("retry-after", default)), 0.1)
    except ValueError:
        return default


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    try:
        message = response.json().get("error") or response.text
    except ValueError:
        message = response.text
    raise ClientError(f"the server answered {response.status_code}: {message}")
