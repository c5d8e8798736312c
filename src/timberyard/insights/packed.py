"""Integer arrays as plain data for the detectors' snapshot: no pickle, nothing executable.

The detectors' `state()` holds numpy arrays (copies, quick to take under the watch's lock);
`encode` turns them into msgpack, each array packed on the way (the slow part, compression,
outside the lock). `pack` keeps an array of counts or minutes as the narrowest of a few integer types that holds
it, zlib-compressed (the hourly rings of quiet keys are mostly zeros), with its shape; `unpack`
reads only those types back and checks the sizes, so a damaged or hostile file is a
ValueError, never code run or memory blown up.
"""

from __future__ import annotations

import math
import zlib

import msgspec
import numpy as np

_TYPES = ("u1", "u2", "u4", "i8")


def encode(state: object) -> bytes:
    """msgpack of `state`, its numpy arrays packed."""
    return msgspec.msgpack.encode(state, enc_hook=_packed)


def _packed(value: object) -> object:
    if isinstance(value, np.ndarray):
        return pack(value)
    raise TypeError(f"the detectors' snapshot cannot keep a {type(value).__name__}")  # a detector's state() is wrong


def pack(values: np.ndarray) -> dict:
    values = np.asarray(values, np.int64)
    kind = "i8"
    if values.size and values.min() >= 0:
        kind = next(t for t in _TYPES if t == "i8" or values.max() <= np.iinfo(np.dtype(t)).max)
    return {"type": kind, "shape": list(values.shape), "data": zlib.compress(values.astype(f"<{kind}").tobytes(), 1)}


def unpack(packed: dict, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """The int64 array `pack` was given; `shape` (when given) must be its shape."""
    kind, dims = packed["type"], tuple(int(d) for d in packed["shape"])
    if kind not in _TYPES or any(d < 0 for d in dims) or (shape is not None and dims != shape):
        raise ValueError(f"unexpected array {kind} {dims}")
    size = math.prod(dims) * np.dtype(kind).itemsize
    raw = zlib.decompressobj()
    try:
        data = raw.decompress(packed["data"], size + 1)
    except zlib.error as error:
        raise ValueError(f"array data: {error}") from None
    if len(data) != size or raw.unconsumed_tail:
        raise ValueError(f"array data is not {size} bytes")
    return np.frombuffer(data, f"<{kind}").astype(np.int64).reshape(dims)
