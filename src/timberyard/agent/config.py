"""The agent's settings, from (lowest precedence first) built-in defaults, a LogDNA agent's
`/etc/logdna.conf`, the YAML file (`--config`, default `/etc/timberyard/agent.yaml`), LogDNA's
`LOGDNA_*` / `MZ_*` variables, our `TIMBERYARD_AGENT_*` variables, and command-line flags.

Reading LogDNA's file and variables means an existing LogDNA user switches by pointing
`LOGDNA_HOST` at a node and changing nothing else. Every problem is reported with the name of
the setting, where it came from and what a valid value looks like, before anything starts.
"""

from __future__ import annotations

import dataclasses
import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from timberyard.agent import legacy

DEFAULT_CONFIG = Path("/etc/timberyard/agent.yaml")
LOOKBACKS = ("none", "smallfiles", "start", "tail")
ENV_PREFIX = "TIMBERYARD_AGENT_"


class ConfigError(Exception):
    """A setting is missing or wrong; the message names it and says what would be right."""


@dataclass
class FileInput:
    """One `files:` entry: globs or directories to tail, and what to attach to their lines."""

    path: list[str]
    exclude: list[str] = field(default_factory=list)
    app: str = ""  # default: the file's name
    tags: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    multiline: str = ""  # auto (Java/Python/Go stack traces), off, or a regex of a record's first line; "" = the global setting


@dataclass
class AgentConfig:
    server: str = ""
    key: str = ""
    endpoint: str = "/logs/agent"
    hostname: str = field(default_factory=socket.gethostname)
    ip: str = ""
    mac: str = ""
    tags: list[str] = field(default_factory=list)
    files: list[FileInput] = field(default_factory=list)
    include: list[str] = field(default_factory=lambda: ["*.log", "!(*.*)"])  # file names taken from directories
    exclude: list[str] = field(default_factory=lambda: list(legacy.DEFAULT_EXCLUDE))
    exclude_regex: list[str] = field(default_factory=list)
    lookback: str = "smallfiles"
    state_dir: str = "/var/lib/timberyard-agent"
    spool_dir: str = ""  # default: <state_dir>/spool
    spool_max_bytes: int = 256 * 1024 * 1024
    include_lines: list[str] = field(default_factory=list)
    exclude_lines: list[str] = field(default_factory=list)
    redact: list[str] = field(default_factory=list)
    multiline: str = "auto"
    multiline_timeout: float = 0.5
    max_line_bytes: int = 32 * 1024
    partial_line_timeout: float = 5.0
    batch_max_lines: int = 5000
    max_in_flight: int = 2
    batch_max_bytes: int = 2 * 1024 * 1024
    flush_interval: float = 0.5
    gzip_level: int = 2
    timeout: float = 30.0
    ca_file: str = ""
    insecure: bool = False  # no check of the node's certificate: a test set-up's self-signed one
    metrics: str = ""
    poll_interval: float = 0.25
    scan_interval: float = 1.0
    rotate_wait: float = 5.0
    max_open_files: int = 1024
    kubernetes: bool = False
    kubernetes_path: str = "/var/log/containers"
    kubernetes_api: str = "auto"  # auto (in a cluster), off, or the API's URL
    journald: bool = False
    journald_paths: list[str] = field(default_factory=list)
    journalctl: str = "journalctl"

    @property
    def url(self) -> str:
        return self.server.rstrip("/") + self.endpoint

    @property
    def resolved_spool_dir(self) -> Path:
        return Path(self.spool_dir or os.path.join(self.state_dir, "spool"))


NAMES = {f.name for f in dataclasses.fields(AgentConfig)}
LISTS = {f.name for f in dataclasses.fields(AgentConfig) if str(f.type).startswith("list")}
SIZES = {"spool_max_bytes", "max_line_bytes", "batch_max_bytes"}
DURATIONS = {"multiline_timeout", "partial_line_timeout", "flush_interval", "timeout", "poll_interval", "scan_interval", "rotate_wait"}
INTS = {"batch_max_lines", "gzip_level", "max_open_files", "max_in_flight"}
BOOLS = {"kubernetes", "journald", "insecure"}


def load(path: Path | None = None, *, env: dict[str, str] | None = None, logdna_conf: Path = legacy.LOGDNA_CONF, **flags: Any) -> AgentConfig:
    """Settings from every source, checked. `path=None` reads the default file if it exists."""
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {}
    if logdna_conf.is_file():
        values.update(legacy.from_logdna_conf(logdna_conf))
    explicit = path is not None
    path = path or Path(env.get(ENV_PREFIX + "CONFIG", DEFAULT_CONFIG))
    if path.is_file():
        values.update(_from_yaml(path))
    elif explicit:
        raise ConfigError(f"config file {path} does not exist")
    values.update(legacy.from_environment(env))
    values.update(_from_environment(env))
    values.update({name: value for name, value in flags.items() if value is not None})
    return build(values)


def build(values: dict[str, Any], origin: str = "settings") -> AgentConfig:
    """An `AgentConfig` from raw values (strings from variables, YAML types from files)."""
    config = AgentConfig()
    for name, raw in values.items():
        if name not in NAMES:
            raise ConfigError(f"unknown setting {name!r} in {origin}; known settings: {', '.join(sorted(NAMES))}")
        setattr(config, name, _convert(name, raw))
    return _checked(config)


def _from_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        loaded = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path} must hold a mapping of settings (name: value), not a {type(loaded).__name__}")
    unknown = sorted(set(loaded) - NAMES)
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(map(repr, unknown))} in {path}; known settings: {', '.join(sorted(NAMES))}")
    return loaded


def _from_environment(env: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if env.get("TIMBERYARD_URL"):
        values["server"] = env["TIMBERYARD_URL"]
    if env.get("TIMBERYARD_INGESTION_KEY"):
        values["key"] = env["TIMBERYARD_INGESTION_KEY"]
    for name, value in env.items():
        if name.startswith(ENV_PREFIX) and name != ENV_PREFIX + "CONFIG":
            setting = name.removeprefix(ENV_PREFIX).lower()
            if setting not in NAMES:
                raise ConfigError(f"unknown variable {name}; known: {', '.join(ENV_PREFIX + n.upper() for n in sorted(NAMES))}")
            values[setting] = value
    return values


def _convert(name: str, raw: Any) -> Any:
    try:
        if name == "files":
            return [_file_input(entry) for entry in (raw.split(",") if isinstance(raw, str) else raw or [])]
        if name in LISTS:
            return _list(raw)
        if name in SIZES:
            return parse_size(raw)
        if name in DURATIONS:
            return parse_duration(raw)
        if name in INTS:
            return int(raw)
        if name in BOOLS:
            return _bool(raw)
        if name == "key" and isinstance(raw, str) and raw.startswith("file:"):
            return Path(raw.removeprefix("file:")).read_text().strip()
        return "" if raw is None else str(raw)
    except (ValueError, TypeError, OSError) as exc:
        raise ConfigError(f"setting {name!r}: {exc}") from None


def _file_input(entry: Any) -> FileInput:
    if isinstance(entry, str):
        return FileInput(path=[entry.strip()])
    if not isinstance(entry, dict) or "path" not in entry:
        raise ValueError(f"each files entry is a path or a mapping with a path (and exclude, app, tags, meta, multiline); got {entry!r}")
    known = {f.name for f in dataclasses.fields(FileInput)}
    unknown = sorted(set(entry) - known)
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)} in files entry {entry['path']!r}; known: {', '.join(sorted(known))}")
    meta = entry.get("meta") or {}
    if not isinstance(meta, dict):
        raise ValueError(f"meta of files entry {entry['path']!r} must be a mapping")
    return FileInput(
        path=_list(entry["path"]), exclude=_list(entry.get("exclude")), app=str(entry.get("app") or ""),
        tags=_list(entry.get("tags")), meta=meta, multiline=str(entry.get("multiline") or ""),
    )


def _list(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(raw, list | tuple):
        return [str(part) for part in raw]
    raise ValueError(f"expected a list or comma-separated text, got {raw!r}")


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on", "always"):
        return True
    if text in ("0", "false", "no", "off", "never", ""):
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": 1024**2,
               "g": 1000**3, "gb": 1000**3, "gib": 1024**3, "t": 1000**4, "tb": 1000**4, "tib": 1024**4}


def parse_size(raw: Any) -> int:
    """`1048576`, `10 MB`, `256MiB`, `2 GiB` → bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(raw))
    if not match or match.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"expected a size such as 1048576, 10 MB or 256MiB, got {raw!r}")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def parse_duration(raw: Any) -> float:
    """`0.5` (seconds), `500ms`, `5s`, `2m` → seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|)\s*", str(raw))
    if not match:
        raise ValueError(f"expected a duration such as 0.5, 500ms, 5s or 2m, got {raw!r}")
    return float(match.group(1)) * {"ms": 0.001, "s": 1, "": 1, "m": 60, "h": 3600}[match.group(2)]


def _checked(config: AgentConfig) -> AgentConfig:
    if config.lookback not in LOOKBACKS:
        raise ConfigError(f"lookback must be one of {', '.join(LOOKBACKS)}, got {config.lookback!r}")
    if config.server and not re.match(r"https?://[^/\s]+", config.server):
        raise ConfigError(f"server must be a URL such as https://logs.example.org:7443, got {config.server!r}")
    if not 0 <= config.gzip_level <= 9:
        raise ConfigError(f"gzip_level must be 0 (off) to 9, got {config.gzip_level}")
    if not 1 <= config.max_in_flight <= 8:
        raise ConfigError(f"max_in_flight must be 1 to 8, got {config.max_in_flight}")
    if config.batch_max_lines < 1 or config.batch_max_bytes < 1024:
        raise ConfigError("batch_max_lines must be at least 1 and batch_max_bytes at least 1 KiB")
    if config.max_line_bytes < 256:
        raise ConfigError(f"max_line_bytes must be at least 256, got {config.max_line_bytes}")
    if config.metrics and not re.fullmatch(r"\[?[\w.:-]*\]?:\d{1,5}", config.metrics):
        raise ConfigError(f"metrics must be HOST:PORT such as 127.0.0.1:9898, got {config.metrics!r}")
    if config.ca_file and not Path(config.ca_file).is_file():
        raise ConfigError(f"ca_file {config.ca_file} does not exist")
    if config.ca_file and config.insecure:
        raise ConfigError("ca_file and insecure contradict each other: give the CA file, or skip the check")
    for name in ("include_lines", "exclude_lines", "redact", "exclude_regex"):
        for pattern in getattr(config, name):
            _regex(name, pattern)
    for multiline in [config.multiline, *(item.multiline for item in config.files)]:
        if multiline not in ("auto", "off", ""):
            _regex("multiline", multiline)
    return config


def _regex(name: str, pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"{name}: {pattern!r} is not a valid regular expression ({exc})") from None


def require_destination(config: AgentConfig) -> None:
    """The agent cannot start without a node and a key; say every way to give them."""
    if not config.server:
        raise ConfigError(
            "no server to send to: set `server: https://HOST:PORT` in the config file, "
            "TIMBERYARD_URL, LOGDNA_HOST (with LOGDNA_USE_SSL=false for plain HTTP) or --server"
        )
    if not config.key:
        raise ConfigError(
            "no ingestion key: set `key:` in the config file (or `key: file:/path`), TIMBERYARD_INGESTION_KEY, "
            "LOGDNA_INGESTION_KEY, `key =` in /etc/logdna.conf, or --key"
        )
