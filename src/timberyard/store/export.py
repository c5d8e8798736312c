"""LogDNA's export shape of a line: what /v1/export returns, what alert notifications carry and
what archive files hold.

`export_line` shapes a row read from the store; `EXPORT_JSON` is the same line built by the
store itself as JSON text (for the archive exporter, which writes millions of lines and should
do no Python work per line), `EXPORT_COLUMNS_SQL` the same fields as columns (for Parquet
archives). tests/unit/store/test_export_conformance.py holds them equal, key order included,
on rows with the odd cases.
"""

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


_RESERVED_ARRAY = "[" + ", ".join(f"'{key}'" for key in sorted(RESERVED)) + "]"

# `export_line` in SQL over the log table's columns: `EXPORT_JSON_WITH` goes in the query's WITH
# clause, `EXPORT_JSON` is the line's JSON text. The meta fields are `fields` as ClickHouse
# serializes it (the text /v1/export parses, so the same keys in the same order), less its
# top-level reserved keys: when the text holds no `"_` and no `"level"` no key can be reserved
# and the object's inside is used as it is; otherwise it is split into its top-level keys and raw
# values and rebuilt without them. 64-bit integers must be written as numbers, as the store's
# reads do: a query using these sets `output_format_json_quote_64bit_integers = 0`.
EXPORT_JSON_WITH = (
    "toJSONString(fields) AS export_fields, "
    "if(NOT multiSearchAny(export_fields, ['\"_', '\"level\"']), "
    "substring(export_fields, 2, length(export_fields) - 2), "
    "arrayStringConcat(arrayMap(kv -> concat(toJSONString(kv.1), ':', kv.2), "
    f"arrayFilter(kv -> NOT has({_RESERVED_ARRAY}, kv.1), JSONExtractKeysAndValuesRaw(export_fields))), ',')) AS export_meta"
)
EXPORT_JSON = (
    "concat('{', export_meta, if(export_meta = '', '', ','), "
    "'\"_ts\":', toString(toUnixTimestamp64Milli(ts)), ',\"_host\":', toJSONString(host), ',\"_app\":', toJSONString(app), "
    "',\"_line\":', toJSONString(line), ',\"level\":', toJSONString(level), ',\"_file\":', toJSONString(file), "
    "',\"_tag\":', toJSONString(tags), ',\"_lid\":\"', toString(id), '\",\"_ip\":', toJSONString(ip), ',\"_mac\":', toJSONString(mac), "
    "if(env = '', '', concat(',\"_env\":', toJSONString(env))), "
    "if(empty(labels), '', concat(',\"_label\":', toJSONString(labels))), "
    "if(empty(annotations), '', concat(',\"_annotation\":', toJSONString(annotations))), "
    "if(template = 0, '', concat(',\"_template\":\"', toString(template), '\"')), "
    "if(export_fields = '{}', '', concat(',\"_meta\":', export_fields)), '}')"
)

# The `/v1/export` fields as columns, for Parquet archives: what EXPORT_JSON writes, less the
# meta fields copied to the top level (`_meta` holds them all, as JSON text: a column per field
# would give every file its own schema). `_ts` stays a DateTime64(3, 'UTC'), read out as an
# Arrow timestamp in ms; the fields JSON leaves out when unset are NULL here. Maps and lists are
# empty rather than NULL, as a reader iterating them expects.
EXPORT_COLUMNS_SQL = (
    "ts AS _ts, host AS _host, app AS _app, line AS _line, level, file AS _file, tags AS _tag, toString(id) AS _lid, "
    "ip AS _ip, mac AS _mac, nullIf(env, '') AS _env, labels AS _label, annotations AS _annotation, "
    "if(template = 0, NULL, toString(template)) AS _template, "
    "if(toJSONString(fields) = '{}', NULL, toJSONString(fields)) AS _meta"
)
