"""LogDNA (Mezmo) agent configuration, read as our settings.

A LogDNA user keeps `/etc/logdna.conf` (the v1 agent's properties file: `key`, `logdir`,
`exclude`, `exclude_regex`, `tags`, `hostname`) and the v2/v3 agent's variables
(`LOGDNA_INGESTION_KEY`, `LOGDNA_HOST`, ... and their `MZ_*` spellings); the agent reads both,
so switching means pointing `LOGDNA_HOST` (or `MZ_HOST`) at a Timberyard node.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

LOGDNA_CONF = Path("/etc/logdna.conf")

# LogDNA's default exclusions (binary accounting files, sar data), plus rotated and compressed
# copies: they hold lines already read from the live file.
DEFAULT_EXCLUDE = (
    "/var/log/wtmp", "/var/log/btmp", "/var/log/utmp", "/var/log/wtmpx", "/var/log/btmpx", "/var/log/utmpx",
    "/var/log/lastlog", "/var/log/faillog", "/var/log/tallylog", "/var/log/asl/**", "/var/log/sa/**",
    "/var/log/sar*", "/var/log/journal/**", "/var/log/pods/**",
    "*.gz", "*.xz", "*.bz2", "*.zst", "*.zip", "*.[0-9]", "*.old", "*-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]",
)

# logdna.conf key → our setting
_CONF_KEYS = {"key": "key", "logdir": "files", "exclude": "exclude", "exclude_regex": "exclude_regex", "tags": "tags", "hostname": "hostname"}

# Variable suffix (after LOGDNA_ or MZ_) → our setting; the deprecated names LogDNA still reads too.
_ENV = {
    "INGESTION_KEY": "key", "AGENT_KEY": "key",
    "LOG_DIRS": "files", "LOGDIR": "files",
    "TAGS": "tags", "HOSTNAME": "hostname", "IP": "ip", "MAC": "mac",
    "EXCLUSION_RULES": "exclude", "EXCLUDE": "exclude",
    "EXCLUSION_REGEX_RULES": "exclude_regex", "EXCLUDE_REGEX": "exclude_regex",
    "INCLUSION_RULES": "include", "INCLUDE": "include",
    "LINE_EXCLUSION_REGEX": "exclude_lines", "LINE_INCLUSION_REGEX": "include_lines", "REDACT_REGEX": "redact",
    "LOOKBACK": "lookback", "DB_PATH": "state_dir", "RETRY_DIR": "spool_dir", "RETRY_DISK_LIMIT": "spool_max_bytes",
    "INGEST_BUFFER_SIZE": "batch_max_bytes", "ENDPOINT": "endpoint",
}
_DEPRECATED = {"LDLOGHOST": "LOGDNA_HOST", "LOGDNA_LOGHOST": "LOGDNA_HOST", "LDLOGPATH": "LOGDNA_ENDPOINT",
               "LDLOGSSL": "LOGDNA_USE_SSL", "LOG_DIRS": "LOGDNA_LOG_DIRS", "COMPRESS": "LOGDNA_USE_COMPRESSION",
               "GZIP_COMPRESS_LEVEL": "LOGDNA_GZIP_LEVEL"}


def from_logdna_conf(path: Path) -> dict[str, Any]:
    """The settings a v1 agent's properties file (`name = value` or `name: value`) gives."""
    values: dict[str, Any] = {}
    for raw in path.read_text(errors="replace").splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        name, _, value = line.replace(":", "=", 1).partition("=") if "=" not in line else line.partition("=")
        setting = _CONF_KEYS.get(name.strip().lower())
        if setting:
            values[setting] = value.strip()
    return values


def from_environment(env: dict[str, str]) -> dict[str, Any]:
    """The settings LogDNA's variables give; `MZ_*` wins over `LOGDNA_*` (Mezmo's newer names)."""
    env = {**{new: env[old] for old, new in _DEPRECATED.items() if old in env and new not in env}, **env}
    values: dict[str, Any] = {}
    for prefix in ("LOGDNA_", "MZ_"):
        for suffix, setting in _ENV.items():
            if env.get(prefix + suffix):
                values[setting] = env[prefix + suffix]
        if env.get(prefix + "INGEST_TIMEOUT"):
            values["timeout"] = f"{env[prefix + 'INGEST_TIMEOUT']}ms"
        if env.get(prefix + "METRICS_PORT"):
            values["metrics"] = f"0.0.0.0:{env[prefix + 'METRICS_PORT']}"  # LogDNA serves them to Prometheus on every address
        if env.get(prefix + "JOURNALD_PATHS"):
            values["journald"], values["journald_paths"] = True, env[prefix + "JOURNALD_PATHS"]
        if env.get(prefix + "USE_K8S_LOG_ENRICHMENT", "").lower() == "never":
            values["kubernetes_api"] = "off"
        if env.get(prefix + "USE_COMPRESSION", "").lower() == "false":
            values["gzip_level"] = 0
        elif env.get(prefix + "GZIP_LEVEL"):
            values["gzip_level"] = env[prefix + "GZIP_LEVEL"]
        if env.get(prefix + "HOST"):
            secure = env.get(prefix + "USE_SSL", "true").lower() != "false"
            host = env[prefix + "HOST"].removeprefix("https://").removeprefix("http://").rstrip("/")
            values["server"] = f"{'https' if secure else 'http'}://{host}"
    return values
