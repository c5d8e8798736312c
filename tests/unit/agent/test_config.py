"""Settings from YAML, our variables, LogDNA's file and variables; errors that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from timberyard.agent.config import ConfigError, load, parse_duration, parse_size

NO_CONF = Path("/nonexistent/logdna.conf")


def test_yaml_then_logdna_variables_then_ours_then_flags(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text("server: http://a:1\nkey: from-yaml\nfiles:\n  - /var/log/syslog\n  - {path: /srv/*.log, app: shop, meta: {team: web}}\n"
                    "spool_max_bytes: 10 MB\nflush_interval: 250ms\n")
    config = load(path, env={"LOGDNA_TAGS": "a,b", "TIMBERYARD_AGENT_LOOKBACK": "start"}, logdna_conf=NO_CONF, key="from-flag")
    assert (config.server, config.key, config.tags, config.lookback) == ("http://a:1", "from-flag", ["a", "b"], "start")
    assert [item.path for item in config.files] == [["/var/log/syslog"], ["/srv/*.log"]]
    assert config.files[1].app == "shop" and config.files[1].meta == {"team": "web"}
    assert (config.spool_max_bytes, config.flush_interval) == (10_000_000, 0.25)


def test_a_logdna_conf_and_host_variable_are_enough(tmp_path: Path) -> None:
    conf = tmp_path / "logdna.conf"
    conf.write_text("# LogDNA agent\nkey = abc123\nlogdir = /var/log/app,/opt/x/logs\ntags = prod\nhostname = web-9\n"
                    "exclude = /var/log/app/debug.log\nexclude_regex = .*\\.tmp$\n")
    config = load(None, env={"TIMBERYARD_AGENT_CONFIG": str(tmp_path / "none.yaml"), "MZ_HOST": "logs.internal:7443"}, logdna_conf=conf)
    assert (config.key, config.hostname, config.tags, config.url) == ("abc123", "web-9", ["prod"], "https://logs.internal:7443/logs/agent")
    assert [item.path for item in config.files] == [["/var/log/app"], ["/opt/x/logs"]]
    assert config.exclude == ["/var/log/app/debug.log"] and config.exclude_regex == [r".*\.tmp$"]


@pytest.mark.parametrize(("settings", "message"), [
    ({"lookback": "sometimes"}, "lookback must be one of none, smallfiles, start, tail"),
    ({"server": "logs.example.org"}, "server must be a URL such as https://"),
    ({"redact": "(unclosed"}, "redact: '(unclosed' is not a valid regular expression"),
    ({"spool_max_bytes": "lots"}, "setting 'spool_max_bytes': expected a size such as"),
    ({"metrics": "9898"}, "metrics must be HOST:PORT"),
    ({"ca_file": __file__, "insecure": "true"}, "ca_file and insecure contradict each other"),
    ({"insecure": "perhaps"}, "setting 'insecure': expected true or false"),
])
def test_bad_settings_are_named_with_what_would_be_right(settings: dict[str, str], message: str) -> None:
    env = {f"TIMBERYARD_AGENT_{name.upper()}": value for name, value in settings.items()}
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load(None, env={"TIMBERYARD_AGENT_CONFIG": "/nonexistent.yaml", **env}, logdna_conf=NO_CONF)


def test_unknown_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text("serverr: http://a:1\n")
    with pytest.raises(ConfigError, match="unknown setting.*'serverr'"):
        load(path, env={}, logdna_conf=NO_CONF)
    with pytest.raises(ConfigError, match="unknown variable TIMBERYARD_AGENT_FLUSH"):
        load(None, env={"TIMBERYARD_AGENT_FLUSH": "1", "TIMBERYARD_AGENT_CONFIG": "/nonexistent.yaml"}, logdna_conf=NO_CONF)


def test_sizes_and_durations() -> None:
    assert [parse_size(v) for v in ("1024", "2 KiB", "10MB", "1.5 GiB")] == [1024, 2048, 10_000_000, 1610612736]
    assert [parse_duration(v) for v in ("2", "500ms", "1.5s", "2m")] == [2, 0.5, 1.5, 120]


def test_every_setting_is_documented() -> None:
    import dataclasses

    from timberyard.agent.config import AgentConfig

    doc = (Path(__file__).resolve().parents[3] / "docs" / "agent.md").read_text()
    missing = [field.name for field in dataclasses.fields(AgentConfig) if f"`{field.name}`" not in doc]
    assert missing == [], f"settings missing from docs/agent.md: {missing}"
