"""The line object the read APIs (search, context, live tail) return for a stored row."""

from __future__ import annotations

from typing import Any


K8S_FIELDS = ("namespace", "pod", "container", "node")


def line_object(row: dict[str, Any]) -> dict[str, Any]:
    """`row` has the store's columns, with the time as `ts_ms` (epoch ms) and `fields` as the
    nested object the store returns."""
    return {
        "id": str(row["id"]),
        "ts": row["ts_ms"],
        "host": row["host"],
        "app": row["app"],
        "level": row["level"],
        "line": row["line"],
        "file": row["file"],
        "env": row["env"],
        "tags": row["tags"],
        "fields": row["fields"],
        "format": row["format"],
        "ingester": row["ingester"],
        "template": str(row["template"]),  # a string, like `id`: JavaScript numbers stop at 2^53
        "labels": row["labels"],
        "annotations": row["annotations"],
        "k8s": {name: row[f"k8s_{name}"] for name in K8S_FIELDS},
    }
