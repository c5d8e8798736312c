"""A small HTTP client on the standard library: one kept-alive connection to the node.

Used by the agent and by the logging handler, which must not pull a dependency into the
applications that log through it. It speaks through the proxy the environment names
(`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`; a CONNECT tunnel for HTTPS) and trusts a private CA
when given `ca_file`. Any failure to talk (refused, reset, timeout, TLS) is one exception,
`Unreachable`, so callers have one thing to retry.
"""

from __future__ import annotations

import base64
import http.client
import ssl
import urllib.parse
import urllib.request
from typing import NamedTuple


class Unreachable(Exception):
    """The node could not be reached or the connection broke; worth retrying later."""


class Response(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


class Transport:
    def __init__(
        self, url: str, key: str, *, ca_file: str = "", insecure: bool = False, timeout: float = 30.0, user_agent: str = "timberyard-agent",
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http:// or https:// URL, got {url!r}")
        self.url = url
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.path = parts.path or "/"
        self.timeout = timeout
        self.context = ssl.create_default_context(cafile=ca_file or None) if self.https else None
        if self.context is not None and insecure:
            self.context.check_hostname = False
            self.context.verify_mode = ssl.CERT_NONE
        self.headers = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(), "User-Agent": user_agent}
        self._connection: http.client.HTTPConnection | None = None
        self._target_prefix = ""

    def post(self, body: bytes, params: dict[str, str], headers: dict[str, str]) -> Response:
        target = f"{self._target_prefix}{self.path}?{urllib.parse.urlencode(params)}"
        connection = self._connect()
        try:
            connection.request("POST", target, body, {**self.headers, **headers})
            answer = connection.getresponse()
            data = answer.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise Unreachable(f"{self.url}: {exc or type(exc).__name__}") from None
        if answer.will_close:
            self.close()
        return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, data)

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is not None:
            return self._connection
        proxy = self._proxy()
        if proxy is None:
            self._target_prefix = ""
            connection: http.client.HTTPConnection = (
                http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self.context)
                if self.https else http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            )
        else:
            proxy_parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            auth = {}
            if proxy_parts.username:
                secret = f"{urllib.parse.unquote(proxy_parts.username)}:{urllib.parse.unquote(proxy_parts.password or '')}"
                auth = {"Proxy-Authorization": "Basic " + base64.b64encode(secret.encode()).decode()}
            proxy_host, proxy_port = proxy_parts.hostname or "", proxy_parts.port or 3128
            if self.https:  # a CONNECT tunnel; TLS runs end to end through it
                connection = http.client.HTTPSConnection(proxy_host, proxy_port, timeout=self.timeout, context=self.context)
                connection.set_tunnel(self.host, self.port, headers=auth)
                self._target_prefix = ""
            else:  # plain HTTP: the proxy takes the absolute URL
                connection = http.client.HTTPConnection(proxy_host, proxy_port, timeout=self.timeout)
                self._target_prefix = f"http://{self.host}:{self.port}"
                self.headers.update(auth)
        self._connection = connection
        return connection

    def _proxy(self) -> str | None:
        proxies = urllib.request.getproxies_environment()
        if urllib.request.proxy_bypass_environment(self.host, proxies):  # type: ignore[attr-defined]  # NO_PROXY, as urllib reads it
            return None
        return proxies.get("https" if self.https else "http")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
