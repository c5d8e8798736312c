"""The fixed vocabularies of an alert definition, in a leaf module the CLI can import cheaply."""

from __future__ import annotations

KINDS = ("presence", "absence", "index_rate", "archive_lag", "anomaly", "security")
INTERVALS = {"30s": 30, "1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "6h": 21600, "12h": 43200, "24h": 86400}
TIMINGS = ("immediate", "end_of_interval")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
