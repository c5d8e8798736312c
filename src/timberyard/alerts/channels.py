"""Channel kinds, and the rules every channel follows whatever its kind: checked on save
(the outbound policy included, so a webhook to 127.0.0.1 is refused before it is stored), and
shown to clients with every secret masked.

A mask is "••••" followed by the secret's last 4 characters (only "••••" for secrets shorter
than 12), enough to tell two keys apart and useless to an attacker. A change that sends a mask
back where the secret was keeps the stored secret, so a client can edit a channel it read
without ever knowing its secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from timberyard.alerts.notifiers import email, pagerduty, slack, webhook
from timberyard.core.outbound import OutboundPolicy
from timberyard.core.errors import BadRequest
from timberyard.meta.alert_channels import ChannelInfo
from timberyard.meta.info import iso

KINDS: dict[str, ModuleType] = {"webhook": webhook, "email": email, "slack": slack, "pagerduty": pagerduty}
MASK = "••••"
MAX_NAME_CHARS = 100


def kind_of(kind: str) -> ModuleType:
    if kind not in KINDS:
        raise BadRequest(f"kind must be one of {', '.join(KINDS)}", field="kind")
    return KINDS[kind]


def name_from(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= MAX_NAME_CHARS or not value.strip().isprintable():
        raise BadRequest(f"name is required: 1 to {MAX_NAME_CHARS} printable characters", field="name")
    return value.strip()


def checked_new(fields: Mapping[str, Any], policy: OutboundPolicy) -> tuple[str, str, dict[str, Any]]:
    """(name, kind, config) of a channel to create from the request's fields."""
    _refuse_unknown(fields, ("name", "kind", "config"))
    kind = kind_of(fields.get("kind"))  # type: ignore[arg-type]
    config = fields.get("config", {})
    if not isinstance(config, dict):
        raise BadRequest("config must be an object", field="config")
    _refuse_unknown(config, kind.FIELDS)
    return name_from(fields.get("name")), fields["kind"], kind.check(config, policy)


def checked_change(channel: ChannelInfo, changes: Mapping[str, Any], policy: OutboundPolicy) -> tuple[str, dict[str, Any]]:
    """(name, config) after a change: config fields given replace the stored ones, masks keep them."""
    _refuse_unknown(changes, ("name", "config"))
    kind = KINDS[channel.kind]
    given = changes.get("config", {})
    if not isinstance(given, dict):
        raise BadRequest("config must be an object", field="config")
    _refuse_unknown(given, kind.FIELDS)
    config = _unmasked({**channel.config, **given}, channel.config, kind.SECRETS)
    name = name_from(changes["name"]) if "name" in changes else channel.name
    return name, kind.check(config, policy)


def public(channel: ChannelInfo) -> dict[str, object]:
    """What the API shows of a channel: everything, secrets masked."""
    return {
        "id": channel.id,
        "name": channel.name,
        "kind": channel.kind,
        "config": _masked(channel.config, KINDS[channel.kind].SECRETS),
        "created_by": channel.created_by,
        "created_at": iso(channel.created_at),
        "updated_at": iso(channel.updated_at),
    }


def mask(secret: str) -> str:
    return MASK + secret[-4:] if len(secret) >= 12 else MASK


def _masked(config: dict[str, Any], secrets: tuple[str, ...]) -> dict[str, Any]:
    shown = dict(config)
    for path in secrets:
        if path.endswith(".*"):
            field = path[:-2]
            shown[field] = {key: mask(value) for key, value in config.get(field, {}).items()}
        elif isinstance(config.get(path), str):
            shown[path] = mask(config[path])
    return shown


def _unmasked(config: dict[str, Any], stored: dict[str, Any], secrets: tuple[str, ...]) -> dict[str, Any]:
    """`config` with every value equal to the mask of the stored secret put back to that secret."""
    result = dict(config)
    for path in secrets:
        if path.endswith(".*"):
            field = path[:-2]
            given, kept = config.get(field), stored.get(field, {})
            if isinstance(given, dict):
                result[field] = {
                    key: kept[key] if key in kept and value == mask(kept[key]) else value for key, value in given.items()
                }
        elif isinstance(stored.get(path), str) and config.get(path) == mask(stored[path]):
            result[path] = stored[path]
    return result


def _refuse_unknown(fields: Mapping[str, Any], known: tuple[str, ...]) -> None:
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(unknown)}; expected {', '.join(known)}")
