"""Node settings: defaults, overridden by a TOML file, then TIMBERYARD_* variables, then flags.

Every field here is a documented option (README, "Configuration"); tests/unit/test_docs.py
fails when one is not.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from timberyard.core.errors import ConfigError

ENV_PREFIX = "TIMBERYARD_"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./timberyard-data")
    http_host: str = "127.0.0.1"
    http_port: int = 7080
    tls_cert: str = ""
    tls_key: str = ""
    forwarded_allow_ips: str = ""
    http_max_connections: int = 1000
    http_header_timeout_s: int = 10
    http_body_timeout_s: int = 30
    http_keep_alive_s: int = 15
    access_log: bool = False
    metrics_token: str = ""
    wal_encryption_key_file: str = ""
    store_url: str = ""
    metadata_url: str = ""
    max_body_bytes: int = 10 * 1024 * 1024
    max_decompressed_bytes: int = 100 * 1024 * 1024
    max_line_bytes: int = 32 * 1024
    max_timestamp_skew_s: int = 24 * 3600
    max_fields_per_account: int = 1000
    parse_lines: bool = True
    insights_templates: bool = True
    insights_anomalies: bool = True
    insights_learn_minutes: int = 60
    wal_max_bytes: int = 128 * 1024 * 1024
    wal_segment_bytes: int = 64 * 1024 * 1024
    batch_max_lines: int = 100_000
    batch_max_wait_ms: int = 1000
    retention_days: int = 30
    audit_retention_days: int = 2190
    tail_max_pending_lines: int = 50_000
    tail_max_per_principal: int = 10
    session_idle_timeout_s: int = 900
    session_max_age_s: int = 43200
    syslog_udp: str = ""
    syslog_tcp: str = ""
    syslog_tls: str = ""
    syslog_relp: str = ""
    syslog_relp_tls: str = ""
    syslog_account: str = ""
    syslog_idle_timeout_s: int = 600
    syslog_max_connections: int = 10_000
    syslog_udp_buffer_bytes: int = 32 * 1024 * 1024
    syslog_tls_client_ca: str = ""
    syslog_tls_client_accounts: str = ""
    alerts_outbound_allow: str = ""
    archive_interval_s: int = 3600
    archive_settle_s: int = 30
    archive_local_root: str = ""
    log_level: str = "info"
    log_format: str = "auto"
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"chdb://{(self.data_dir / 'store').resolve()}"

    @property
    def resolved_metadata_url(self) -> str:
        return self.metadata_url or f"sqlite:///{(self.data_dir / 'metadata.sqlite3').resolve()}"

    @property
    def resolved_archive_local_root(self) -> Path:
        return Path(self.archive_local_root).expanduser() if self.archive_local_root else self.data_dir / "archives"

    @property
    def wal_dir(self) -> Path:
        return self.data_dir / "wal"


def option_names() -> list[str]:
    return [f.name for f in fields(Settings) if f.name != "extra"]


def load_settings(
    config_file: Path | None = None,
    environ: dict[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build settings from (lowest to highest) defaults, a TOML file, the environment, flags."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            values.update(tomllib.loads(Path(config_file).read_text()))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {config_file}: {exc}") from exc
    for name in option_names():
        env_value = environ.get(ENV_PREFIX + name.upper())
        if env_value is not None:
            values[name] = env_value
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(values) - set(option_names()))
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}; known: {', '.join(option_names())}")
    return Settings(**{name: _coerce(name, value) for name, value in values.items()})


def _coerce(name: str, value: Any) -> Any:
    """Environment values are text; file values must already have the right TOML type."""
    kind = {f.name: f.type for f in fields(Settings)}[name]
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.strip().lower() in ("true", "1", "yes")
        raise ConfigError(f"setting {name} must be true or false, got {value!r}")
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
    elif kind == "Path" and isinstance(value, str | Path):
        return Path(value).expanduser()
    elif isinstance(value, str):
        return value
    raise ConfigError(f"setting {name} must be {'a whole number' if kind == 'int' else 'text'}, got {value!r}")


def replace(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(settings, **changes)
