"""Node settings (config.settings): defaults < TOML file < TIMBERYARD_* environment < flags."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from timberyard.config.settings import Settings, load_settings, option_names
from timberyard.core.errors import ConfigError


@pytest.fixture
def config_file(tmp_path: Path):
    def write(text: str) -> Path:
        path = tmp_path / "timberyard.toml"
        path.write_text(text)
        return path

    return write


def test_defaults() -> None:
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.data_dir == Path("./timberyard-data")
    assert settings.http_host == "127.0.0.1"
    assert settings.http_port == 7080
    assert settings.max_line_bytes == 32 * 1024
    assert settings.max_timestamp_skew_s == 24 * 3600
    assert settings.retention_days == 30
    assert settings.log_level == "info"


def test_derived_locations_follow_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(environ={}, data_dir=tmp_path)
    assert settings.wal_dir == tmp_path / "wal"
    assert settings.resolved_store_url == f"chdb://{(tmp_path / 'store').resolve()}"
    assert settings.resolved_metadata_url == f"sqlite:///{(tmp_path / 'metadata.sqlite3').resolve()}"
    explicit = load_settings(environ={}, store_url="chdb:///elsewhere", metadata_url="sqlite:///x.db")
    assert (explicit.resolved_store_url, explicit.resolved_metadata_url) == ("chdb:///elsewhere", "sqlite:///x.db")


def test_toml_file_overrides_defaults(config_file) -> None:
    path = config_file('http_port = 9000\nhttp_host = "0.0.0.0"\nmax_line_bytes = 1024\nlog_format = "text"\n')
    settings = load_settings(path, environ={})
    assert (settings.http_port, settings.http_host, settings.max_line_bytes, settings.log_format) == (
        9000,
        "0.0.0.0",
        1024,
        "text",
    )
    assert settings.retention_days == 30


def test_environment_overrides_the_file(config_file) -> None:
    path = config_file("http_port = 9000\nretention_days = 7\n")
    settings = load_settings(path, environ={"TIMBERYARD_HTTP_PORT": "9100", "TIMBERYARD_LOG_LEVEL": "debug"})
    assert settings.http_port == 9100
    assert settings.retention_days == 7
    assert settings.log_level == "debug"


def test_explicit_overrides_win_and_none_means_not_given(config_file) -> None:
    path = config_file("http_port = 9000\n")
    environ = {"TIMBERYARD_HTTP_PORT": "9100", "TIMBERYARD_RETENTION_DAYS": "14"}
    settings = load_settings(path, environ=environ, http_port=9200, retention_days=None)
    assert settings.http_port == 9200
    assert settings.retention_days == 14


def test_os_environ_is_read_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMBERYARD_BATCH_MAX_LINES", "5000")
    assert load_settings().batch_max_lines == 5000


def test_every_option_has_an_environment_variable() -> None:
    flags = {f.name for f in fields(Settings) if f.type == "bool"}
    environ = {"TIMBERYARD_" + name.upper(): "false" if name in flags else "7" for name in option_names()}
    settings = load_settings(environ=environ)
    for name in option_names():
        assert str(getattr(settings, name)) == ("False" if name in flags else "7"), name


@pytest.mark.parametrize(("text", "value"), [("true", True), ("FALSE", False), (" yes ", True), ("0", False)])
def test_switches_read_true_and_false(text: str, value: bool) -> None:
    assert load_settings(environ={"TIMBERYARD_PARSE_LINES": text}).parse_lines is value


def test_a_switch_that_is_neither_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="parse_lines must be true or false"):
        load_settings(environ={"TIMBERYARD_PARSE_LINES": "sometimes"})


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ("htp_port = 1\n", "htp_port"),
        ("extra = 1\n", "extra"),
        ("[server]\nport = 1\n", "server"),
    ],
)
def test_unknown_setting_in_the_file_is_named(config_file, toml: str, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file(toml), environ={})
    assert f"unknown setting(s): {named};" in caught.value.message
    assert "http_port" in caught.value.message  # and the known ones are listed


def test_unknown_override_is_named() -> None:
    with pytest.raises(ConfigError, match="unknown setting\\(s\\): bogus_flag"):
        load_settings(environ={}, bogus_flag=1)


def test_unknown_environment_variables_are_not_settings() -> None:
    assert load_settings(environ={"TIMBERYARD_NOT_A_SETTING": "x", "HTTP_PORT": "1"}) == Settings()


@pytest.mark.parametrize("value", ["abc", "", "80.5", "1e3", "0x50"])
def test_bad_int_in_the_environment(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"TIMBERYARD_HTTP_PORT": value})
    assert caught.value.message == f"setting http_port must be a whole number, got {value!r}"


@pytest.mark.parametrize("toml", ['http_port = "many"', "http_port = true", "http_port = [1]", "http_port = 80.5"])
def test_bad_int_in_the_file(config_file, toml: str) -> None:
    with pytest.raises(ConfigError, match="setting http_port must be a whole number"):
        load_settings(config_file(toml + "\n"), environ={})


def test_a_quoted_number_in_the_file_is_read() -> None:
    assert load_settings(environ={}, http_port="8081").http_port == 8081


@pytest.mark.parametrize("text", ["http_port = ", "[unclosed", "x = 'a\n"])
def test_malformed_toml_is_a_config_error(config_file, text: str) -> None:
    path = config_file(text)
    with pytest.raises(ConfigError, match=f"cannot read config file {path}"):
        load_settings(path, environ={})


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "absent.toml", environ={})


def test_paths_are_expanded(monkeypatch: pytest.MonkeyPatch, config_file, tmp_path: Path) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    path = config_file('data_dir = "~/tydata"\n')
    assert load_settings(path, environ={}).data_dir == home / "tydata"
    assert load_settings(environ={"TIMBERYARD_DATA_DIR": "~/from-env"}).data_dir == home / "from-env"
    assert load_settings(environ={}, data_dir="~/from-flag").data_dir == home / "from-flag"
    assert load_settings(environ={}, data_dir=Path("~/as-path")).data_dir == home / "as-path"
    assert load_settings(environ={}, data_dir="/abs/dir").data_dir == Path("/abs/dir")
