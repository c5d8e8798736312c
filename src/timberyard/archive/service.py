"""What the archive API and CLI do, apart from HTTP: change settings (keys made and rotated
here), describe them without credentials, report status, probe a destination."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from timberyard.archive import config, envelope
from timberyard.archive.destination import DestinationError, check_reachable, open_destination
from timberyard.core.errors import NotFound
from timberyard.core.outbound import OutboundPolicy
from timberyard.core.records import ID_COUNTER_BITS
from timberyard.meta import archives
from timberyard.meta.sealing import Sealer
from timberyard.meta.archives import ArchiveRecord
from timberyard.meta.info import iso


def check_new_destination(body: dict[str, Any], outbound: OutboundPolicy) -> None:
    """Refuse a PUT whose new destination the outbound policy does not allow. Called before
    `configure`'s transaction: a DNS lookup must not hold the metadata database."""
    if isinstance(body.get("destination"), dict):
        check_reachable(body["destination"], outbound)


def configure(session: Session, sealer: Sealer, account_id: str, body: dict[str, Any], actor: str) -> tuple[ArchiveRecord, bool]:
    """Apply a PUT body; (the record now, whether a new archive key was made current)."""
    current = archives.get(session, sealer, account_id)
    enabled, new_config, rotate = config.merged(current.config if current else None, body)
    if enabled is None:
        enabled = current.enabled if current else True
    keys = dict(current.keys) if current else {}
    current_key = current.current_key if current else ""
    rotated = rotate or not keys
    if rotated:
        current_key, key = envelope.new_key()
        keys[current_key] = key
    record = archives.save_settings(session, sealer, account_id, enabled, new_config, keys, current_key, actor)
    return record, rotated and bool(current)


def view(record: ArchiveRecord | None) -> dict[str, Any]:
    """The settings as GET/PUT answer them: credentials masked, key ids but never keys."""
    if record is None:
        return {"configured": False, "enabled": False, **config.DEFAULTS}
    return {"configured": True, "enabled": record.enabled, **config.public(record.config),
            "key_ids": sorted(record.keys), "current_key_id": record.current_key, "updated_at": iso(record.updated_at)}


def status(session: Session, sealer: Sealer, account_id: str, lag_s: float | None) -> dict[str, Any]:
    record = archives.get(session, sealer, account_id)
    if record is None:
        raise NotFound("archiving is not configured for this account; PUT /api/v1/archive first")
    files, lines = archives.file_totals(session, account_id)
    watermark_ms = record.watermark_id >> ID_COUNTER_BITS
    return {
        "enabled": record.enabled, "watermark_id": str(record.watermark_id),
        "watermark": iso_ms(watermark_ms) if record.watermark_id else None, "lag_s": lag_s,
        "last_run_at": iso(record.last_run_at), "last_success_at": iso(record.last_success_at),
        "last_error": record.last_error or None, "files": files, "lines": lines,
        "digest_sequence": record.digest_sequence, "last_digest": record.digest_key,
        "interrupted_run_pending": record.pending_through_id is not None,
    }


def probe(record: ArchiveRecord | None, local_root: Path, outbound: OutboundPolicy) -> dict[str, Any]:
    """Write, read back and delete a small object, as the exporter would; {"ok", "error"}."""
    if record is None:
        raise NotFound("archiving is not configured for this account; PUT /api/v1/archive first")
    key = f"timberyard-probe/{record.account_id}.{os.urandom(6).hex()}.txt"
    data = b"timberyard archive destination probe\n"
    try:
        destination = open_destination(record.config["destination"], local_root, outbound)
        destination.put(key, data)
        if destination.get(key) != data:
            return {"ok": False, "error": f"{destination.describe()}: the probe object read back differs from what was written"}
        destination.remove(key)
    except DestinationError as exc:
        return {"ok": False, "error": exc.message}
    return {"ok": True, "error": None, "destination": destination.describe()}


def iso_ms(ms: int) -> str | None:
    return iso(datetime.fromtimestamp(ms / 1000, UTC))
