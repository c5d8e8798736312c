"""An account's archive settings as the API takes them (checked, every error naming its field)
and shows them (credentials replaced by `"***set***"`, never returned).

    {"enabled": true, "encryption": true, "format": "json",          # or "parquet"
     "destination": {"type": "local", "path": "acme"}}
    {"destination": {"type": "s3", "bucket": "logs", "prefix": "timberyard", "region": "eu-west-1",
                     "endpoint_url": "https://s3.example.com", "access_key_id": "AKIA…",
                     "secret_access_key": "…", "server_side_encryption": "AES256", "object_lock_days": 2190}}
    {"destination": {"type": "azure", "account_url": "https://acme.blob.core.windows.net", "container": "logs",
                     "prefix": "timberyard", "account_name": "acme", "account_key": "…"}}

A PUT changes the fields it names. A credential left out, or sent back as `"***set***"`, keeps
its stored value, so a client can PUT what it read.
"""

from __future__ import annotations

import re
from typing import Any

from timberyard.archive.layout import FORMATS
from timberyard.core.errors import BadRequest

SET = "***set***"
SECRETS = ("secret_access_key", "account_key")
TOP = {"enabled", "destination", "encryption", "format", "rotate_key"}
LOCAL = {"type", "path"}
S3 = {"type", "bucket", "prefix", "endpoint_url", "region", "access_key_id", "secret_access_key",
      "server_side_encryption", "object_lock_days"}
AZURE = {"type", "account_url", "container", "prefix", "account_name", "account_key"}
SSE = ("AES256", "aws:kms")
DEFAULTS: dict[str, Any] = {"destination": None, "encryption": False, "format": "json"}
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_CONTAINER = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")
_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$|^devstoreaccount1$")
_PATH_PART = re.compile(r"^[A-Za-z0-9._\-]+$")


def merged(current: dict[str, Any] | None, body: dict[str, Any]) -> tuple[bool | None, dict[str, Any], bool]:
    """(enabled or None when not given, the new config, whether to rotate the key) from a PUT body."""
    unknown = sorted(set(body) - TOP)
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}; archive settings are {', '.join(sorted(TOP))}", field=unknown[0])
    config = dict(current or DEFAULTS)
    enabled = body.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise BadRequest("enabled must be true or false", field="enabled")
    for name in ("encryption", "rotate_key"):
        if name in body and not isinstance(body[name], bool):
            raise BadRequest(f"{name} must be true or false", field=name)
    if "encryption" in body:
        config["encryption"] = body["encryption"]
    if "format" in body:
        if body["format"] not in FORMATS:
            raise BadRequest("format must be \"json\" (gzipped JSON lines, Mezmo's layout) or \"parquet\" (zstd Parquet, "
                             "for analytics tools); it applies to files written from now on", field="format")
        config["format"] = body["format"]
    if "destination" in body:
        config["destination"] = _destination(body["destination"], config.get("destination"))
    if (enabled or (enabled is None and current is None)) and not config.get("destination"):
        raise BadRequest("archiving needs a destination: {\"type\": \"local\", \"path\": …}, {\"type\": \"s3\", \"bucket\": …} "
                         "or {\"type\": \"azure\", \"container\": …}",
                         field="destination")
    return enabled, config, bool(body.get("rotate_key"))


def _destination(given: Any, current: dict[str, Any] | None) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise BadRequest("destination must be an object with a type: local, s3 or azure", field="destination")
    kind = given.get("type")
    allowed = {"local": LOCAL, "s3": S3, "azure": AZURE}.get(kind) if isinstance(kind, str) else None
    if allowed is None:
        raise BadRequest("destination.type must be \"local\", \"s3\" or \"azure\" (Google Cloud Storage: s3 with its endpoint)",
                         field="destination.type")
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise BadRequest(f"unknown field destination.{unknown[0]} for a {kind} destination; it takes {', '.join(sorted(allowed))}",
                         field=f"destination.{unknown[0]}")
    for name, value in given.items():
        if name != "object_lock_days" and value is not None and not isinstance(value, str):
            raise BadRequest(f"destination.{name} must be text", field=f"destination.{name}")
    if kind == "local":
        path = given.get("path") or ""
        if not path or not all(_PATH_PART.match(part) and part not in (".", "..") for part in path.split("/")):
            raise BadRequest("destination.path must be a relative directory under the node's archive_local_root "
                             "(letters, digits, . _ -, parts separated by /)", field="destination.path")
        return {"type": "local", "path": path}
    out = {k: v for k, v in given.items() if v is not None}
    if kind == "azure":
        _check_azure(out)
    else:
        _check_s3(out)
    for name in SECRETS:
        if name in allowed and out.get(name) in (None, SET):
            kept = (current or {}).get(name) if (current or {}).get("type") == kind else None
            out.pop(name, None)
            if kept:
                out[name] = kept
    return out


def _check_azure(out: dict[str, Any]) -> None:
    if not re.match(r"^https?://[^\s/]+", out.get("account_url", "")):
        raise BadRequest("destination.account_url must be the storage account's blob URL, like https://acme.blob.core.windows.net",
                         field="destination.account_url")
    if not _CONTAINER.match(out.get("container", "")):
        raise BadRequest("destination.container must be an Azure container name (3-63 lowercase letters, digits and single -)",
                         field="destination.container")
    if not _ACCOUNT.match(out.get("account_name", "")):
        raise BadRequest("destination.account_name must be the storage account's name (3-24 lowercase letters and digits)",
                         field="destination.account_name")


def _check_s3(out: dict[str, Any]) -> None:
    if not _BUCKET.match(out.get("bucket", "")):
        raise BadRequest("destination.bucket must be an S3 bucket name (3-63 lowercase letters, digits, . and -)",
                         field="destination.bucket")
    endpoint = out.get("endpoint_url", "")
    if endpoint and not re.match(r"^https?://[^\s/]+", endpoint):
        raise BadRequest("destination.endpoint_url must be an http(s) URL", field="destination.endpoint_url")
    if out.get("server_side_encryption", SSE[0]) not in SSE:
        raise BadRequest(f"destination.server_side_encryption must be one of {', '.join(SSE)}", field="destination.server_side_encryption")
    days = out.get("object_lock_days", 0)
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 36500:
        raise BadRequest("destination.object_lock_days must be a whole number of days, 0 (no lock) to 36500",
                         field="destination.object_lock_days")


def public(config: dict[str, Any]) -> dict[str, Any]:
    """The config as anyone may see it: every credential replaced by whether it is set."""
    destination = config.get("destination")
    if destination:
        destination = {k: (SET if k in SECRETS and v else v) for k, v in destination.items()}
    return {**config, "destination": destination}
