"""Trying a rule on sample lines: what it would do to each, through the real stages, with
nothing stored, counted, registered or logged."""

from __future__ import annotations

from typing import Any, cast

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.errors import BadRequest
from timberyard.core.fields import FieldColumns
from timberyard.ingest.batch import LineBatch
from timberyard.ingest.logdna import Request, decode
from timberyard.ingest.rules.check import CheckedRule, RuleError
from timberyard.ingest.rules.compiled import AccountRules, ExcludeRule, ParseRule, RedactRule, RetainRule, first_matches
from timberyard.ingest.stages.context import Context
from timberyard.ingest.stages.normalise import normalise
from timberyard.ingest.stages.parse import parse as parse_stage
from timberyard.ingest.stages.redact import apply_redactions
from timberyard.parse.format import extract

MAX_SAMPLES = 100
MAX_SAMPLE_CHARS = 32 * 1024
SAMPLES = "samples"

SAMPLE_RETENTION_DAYS = 100 * 365  # so no sample is dropped as too old

class _AsParsed:
    """Field kinds as the sender and the parsers give them (the first value's kind wins): a
    sample run registers no field, as the account's field types hold only what was stored."""

    def columns(self, length: int, rows: Any, problems: Any) -> FieldColumns:
        return FieldColumns.from_rows(length, rows)

    def conform(self, fields: Any, problems: Any) -> None:
        return None

def sample_batch(account: str, samples: object) -> LineBatch:
    """Sample lines as a batch: each a string, or an object in LogDNA's line shape
    (`{"line": ..., "app": ..., "meta": {...}}`) for scopes that look at more than the text."""
    if not isinstance(samples, list) or not 1 <= len(samples) <= MAX_SAMPLES:
        raise RuleError(f"samples must be a list of 1 to {MAX_SAMPLES} lines (strings, or objects like {{\"line\": ..., \"app\": ...}})", SAMPLES)
    items = []
    for index, sample in enumerate(samples):
        item = {"line": sample} if isinstance(sample, str) else sample
        if not isinstance(item, dict) or not isinstance(item.get("line"), str):
            raise RuleError(f"samples[{index}] must be a string or an object with a line", SAMPLES)
        if len(item["line"]) > MAX_SAMPLE_CHARS:
            raise RuleError(f"samples[{index}] is longer than {MAX_SAMPLE_CHARS:,} characters", SAMPLES)
        items.append(item)
    try:
        return decode(orjson.dumps({"lines": items}), Request(account=account, hostname="sample"), ingester="test")
    except BadRequest as exc:
        raise RuleError(exc.message.replace("$.lines", "samples"), SAMPLES) from None

def run_samples(batch: LineBatch, checked: CheckedRule, received_ms: int) -> dict[str, Any]:
    """Run the stages on `batch` with only `checked`'s rule and report, per line, what it did."""
    rule = checked.compiled
    rules = AccountRules(
        parsers=(rule,) if isinstance(rule, ParseRule) else (),
        redactions=(rule,) if isinstance(rule, RedactRule) else (),
        exclusions=(rule,) if isinstance(rule, ExcludeRule) else (),
    )
    context = Context(
        received_ms=received_ms,
        first_id=0,
        retention_days=SAMPLE_RETENTION_DAYS,
        max_line_bytes=MAX_SAMPLE_CHARS * 4,
        max_skew_ms=0,
        rules=rules,
        field_types=cast(Any, _AsParsed()),
    )
    normalise(batch, context)
    count = len(batch)
    warnings: list[str] = []
    extracted: list[dict[str, Any]] = [{} for _ in range(count)]
    excluded = [False] * count
    retention: list[int | None] = [None] * count  # None: the account's
    if isinstance(rule, ParseRule):
        lines = batch.column("line")
        within = rule.scope(batch.table()) if rule.scope is not None else pa.repeat(True, count)
        found = extract(rule.format, lines, received_ms)
        matched = pc.and_(within, found.matched)
        warnings.extend(_conversion_warnings(rule, lines, matched))
        flags = matched.to_pylist()
        for path, values in found.fields.items():
            for index, value in enumerate(values.to_pylist()):
                if flags[index] and value is not None:
                    extracted[index][path] = value
        parse_stage(batch, context)
    else:
        parse_stage(batch, context)
        if isinstance(rule, RedactRule):
            matched = apply_redactions(batch, rules.redactions)[0]
        elif isinstance(rule, ExcludeRule):
            matched = first_matches(batch.table(), rules.exclusions)[0]
            excluded = matched.to_pylist()
        else:
            assert isinstance(rule, RetainRule)
            matched = first_matches(batch.table(), (rule,))[0]
            retention = [rule.days if flag else None for flag in matched.to_pylist()]
    flags = matched.to_pylist()
    if not any(flags):
        warnings.append(f"no sample line matched this {checked.kind} rule")
    preserve = isinstance(rule, ExcludeRule) and rule.preserve_for_tail
    results = [
        {
            "matched": flag,
            "line": text,
            "level": level,
            "format": fmt,
            "fields": fields,
            **({"extracted": extracted[index]} if isinstance(rule, ParseRule) else {}),
            "excluded": excluded[index],
            "stored": not excluded[index],
            "live_tail": not excluded[index] or preserve,
            **({"retention_days": retention[index]} if isinstance(rule, RetainRule) else {}),
        }
        for index, (flag, text, level, fmt, fields) in enumerate(
            zip(
                flags,
                batch.column("line").to_pylist(),
                batch.column("level").to_pylist(),
                batch.column("format").to_pylist(),
                batch.fields.rows(range(count)),
            )
        )
    ]
    return {
        "kind": checked.kind,
        "rule": {"kind": checked.kind, "name": checked.name, **checked.definition},
        "lines": count,
        "matched": sum(flags),
        "results": results,
        "warnings": warnings,
    }

def _conversion_warnings(rule: ParseRule, lines: pa.Array, matched: pa.BooleanArray) -> list[str]:
    """Values a typed field captured but could not convert (they are left out)."""
    if not rule.format.kinds:
        return []
    raw = pc.extract_regex(lines, rule.format.pattern)
    typed = extract(rule.format, lines, 0).fields
    warnings = []
    for group, kind in rule.format.kinds.items():
        path = rule.format.field_name(group)
        captured = pc.struct_field(raw, group)
        bad = pc.and_(pc.and_(matched, pc.not_equal(pc.fill_null(captured, ""), "")), typed[path].is_null())
        for index in pc.indices_nonzero(pc.fill_null(bad, False)).to_pylist()[:5]:
            article = "an" if kind == "int" else "a"
            warnings.append(
                f"sample {index + 1} (1-based): {path} = {captured[index].as_py()!r} is not {article} {kind}; the field is left out"
            )
    return warnings
