"""The one small interface every archive destination implements, and how one is chosen.

A destination stores bytes under a key so that a reader sees the whole object or none of it,
reads them back, and lists keys under a prefix. Archives never delete (`remove` exists only so
`POST /api/v1/archive/test` can clean up its probe object). Each implementation says in its
docstring what it promises; docs/archives.md collects them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO, Protocol

from timberyard.core.errors import TimberyardError
from timberyard.core.outbound import OutboundPolicy, check_url


class DestinationError(TimberyardError):
    """The destination refused or failed an operation; the message says which and why."""

    status = 502
    code = "ArchiveDestinationFailed"


class ObjectMissing(DestinationError):
    """The key names no object."""


class Destination(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def fetch(self, key: str, out: BinaryIO) -> None:
        """Copy the object into `out` in pieces (an archive file may be larger than memory should hold)."""


    def list(self, prefix: str) -> list[str]: ...

    def remove(self, key: str) -> None: ...

    def describe(self) -> str: ...


# The settings naming a host the node connects to, per destination type.
ENDPOINTS = {"s3": "endpoint_url", "azure": "account_url"}


def check_reachable(config: dict[str, Any], outbound: OutboundPolicy) -> None:
    """Refuse (`OutboundRefused`, 400) a destination whose endpoint the outbound policy does not
    allow: an account's admin must not aim the node at an internal address. Without an endpoint
    an S3 destination is AWS's public one."""
    kind = config.get("type")
    name = ENDPOINTS.get(kind) if isinstance(kind, str) else None
    if name and isinstance(config.get(name), str) and config[name]:
        check_url(config[name], outbound, field=f"destination.{name}")


def open_destination(config: dict[str, Any], local_root: Path, outbound: OutboundPolicy) -> Destination:
    """The destination an account's (checked, unsealed) `destination` settings name, once the
    outbound policy allows its endpoint (checked again on each opening: a name can come to
    resolve elsewhere after it was saved)."""
    check_reachable(config, outbound)
    kind = config["type"]
    if kind == "local":
        from timberyard.archive.localdir import LocalDirectory

        return LocalDirectory(local_root / config["path"])
    if kind == "s3":
        from timberyard.archive.s3 import S3Bucket

        return S3Bucket(config)
    if kind == "azure":
        from timberyard.archive.azure import AzureContainer

        return AzureContainer(config)
    raise DestinationError(f"unknown archive destination type {kind!r}")
