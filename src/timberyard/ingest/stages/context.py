"""What the stages know about the batch they work on besides its lines."""

from __future__ import annotations

from dataclasses import dataclass

from timberyard.ingest.field_types import AccountFieldTypes
from timberyard.ingest.rules.compiled import AccountRules
from timberyard.insights.book import TemplateBook


@dataclass(frozen=True)
class Context:
    received_ms: int  # when the batch arrived (the time bits of its first id)
    first_id: int
    retention_days: int  # the account's
    max_line_bytes: int
    max_skew_ms: int  # 0: keep every time
    rules: AccountRules  # the account's parsing, redaction and exclusion rules
    field_types: AccountFieldTypes  # the first kind seen of each of the account's fields
    parse_lines: bool = True  # read JSON, logfmt and the built-in formats (custom rules apply either way)
    templates: TemplateBook | None = None  # the node's template miners; None: templates are off
