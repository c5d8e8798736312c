"""LogDNA's export shape of a line: what /v1/export returns and what alert notifications carry."""

from __future__ import annotations

from typing import Any

RESERVED = {"_ts", "_host", "_app", "_line", "level", "_file", "_tag", "_lid", "_ip", "_mac", "_env", "_label", "_annotation", "_meta", "_template"}


def export_line(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row in LogDNA's export shape: reserved `_` fields, then the meta fields."""
    meta = row["fields"]
    line: dict[str, Any] = {}
    if meta:
        line.update((k, v) for k, v in meta.items() if k not in RESERVED)
    line.update(
        {
            "_ts": row["ts_ms"],
            "_host": row["host"],
            "_app": row["app"],
            "_line": row["line"],
            "level": row["level"],
            "_file": row["file"],
            "_tag": row["tags"],
            "_lid": str(row["id"]),
            "_ip": row["ip"],
            "_mac": row["mac"],
        }
    )
    if row["env"]:
        line["_env"] = row["env"]
    if row["labels"]:
        line["_label"] = row["labels"]
    if row["annotations"]:
        line["_annotation"] = row["annotations"]
    if row["template"]:
        line["_template"] = str(row["template"])
    if meta:
        line["_meta"] = meta
    return line
