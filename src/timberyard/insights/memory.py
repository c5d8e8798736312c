"""The anomaly detectors' memory in the data directory, so a restart does not make them learn again.

One file, `<data_dir>/insights/detectors.msgpack`: msgpack (no pickle: loading it runs no code)
of a map with the format version (`FORMAT`), when it was taken (`saved_at`, epoch ms, the
watch's clock), the write-ahead log's epoch and the last record the detectors had seen (so a
replay at start does not count those lines twice), and `Detectors.state()`. It is written
whole (temporary file, fsync, rename). A file that is missing is a first start; one that cannot
be read, is of another format or does not fit is logged and ignored (the next save replaces
it), and the detectors start learning: the node starts either way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import msgspec

from timberyard.core.files import replace_atomically
from timberyard.insights import packed
from timberyard.insights.detectors import Detectors

log = logging.getLogger(__name__)

FILE = "detectors.msgpack"
FORMAT = 1


@dataclass(frozen=True)
class Seen:
    """The write-ahead log records the detectors had seen: those up to `seq` of log `epoch`."""

    epoch: str
    seq: int


def encode(state: dict, saved_at: int, seen: Seen | None) -> bytes:
    wal = {"epoch": seen.epoch, "seq": seen.seq} if seen else None
    return packed.encode({"format": FORMAT, "saved_at": saved_at, "wal": wal, "detectors": state})


def save(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(path, payload)


def load(path: Path, detectors: Detectors, now_ms: int) -> tuple[Detectors, Seen | None]:
    """The detectors as saved in `path` (into `detectors`, made with today's limits), and what
    they had seen; `detectors` untouched and None when there is nothing usable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return detectors, None
    except OSError as error:
        log.warning("the anomaly detectors' saved state cannot be read; they learn again", extra={"path": str(path), "error": str(error)})
        return detectors, None
    try:
        saved = msgspec.msgpack.decode(raw)
        if not isinstance(saved, dict) or saved.get("format") != FORMAT:
            found = saved.get("format") if isinstance(saved, dict) else None
            raise ValueError(f"format {found!r}, this release reads {FORMAT}")
        loaded = Detectors(detectors.novelty)
        loaded.load(saved["detectors"], int(saved["saved_at"]), now_ms)
        wal = saved["wal"]
        seen = Seen(str(wal["epoch"]), int(wal["seq"])) if wal else None
    except (msgspec.DecodeError, ValueError, KeyError, TypeError, IndexError, AttributeError) as error:
        log.warning("the anomaly detectors' saved state is not usable; they learn again",
                    extra={"path": str(path), "error": f"{type(error).__name__}: {error}"})
        return detectors, None
    log.info("anomaly detectors restored", extra={"path": str(path), "bytes": len(raw), "saved_at": saved["saved_at"]})
    return loaded, seen
