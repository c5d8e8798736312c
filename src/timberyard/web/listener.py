"""The node's listening socket, taken before the node touches its data directory.

`serve` binds first so that a busy or forbidden address fails the start before a first start
initialises the data directory and prints its one-time secrets: otherwise the secrets scroll
past above the error, and the next start (the directory now initialised) never shows them.
"""

from __future__ import annotations

import errno
import socket

from timberyard.core.errors import ConfigError

BACKLOG = 2048  # uvicorn's default; connections wait in it while the node opens


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port, for uvicorn to serve on; a clear ConfigError if not."""
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {shown}: {exc.strerror}; give --http an address of this machine") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart at once despite TIME_WAIT
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {shown}: {_why(exc, port)}") from None
    return sock


def _why(exc: OSError, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"the address is already in use (another node, or another program: `ss -ltnp 'sport = :{port}'` "
            "shows which); stop it or choose another address with --http HOST:PORT. Nothing was changed"
        )
    if exc.errno == errno.EACCES:
        return "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE); choose a port above 1023 with --http"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "no interface of this machine has that address; choose one with --http HOST:PORT"
    return exc.strerror or str(exc)


def url(host: str, port: int, tls: bool) -> str:
    """Where a browser on this machine reaches the node: a wildcard address becomes loopback."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, f"[{host}]" if ":" in host else host)
    return f"{'https' if tls else 'http'}://{shown}:{port}/"
