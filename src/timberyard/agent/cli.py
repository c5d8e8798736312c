"""`timberyard agent` (also installed as `timberyard-agent`): run the collector agent."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from timberyard.agent.config import DEFAULT_CONFIG, ConfigError, FileInput, load
from timberyard.agent.state import StateDirBusy


@click.command("agent", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help=f"YAML settings file. [default: {DEFAULT_CONFIG}, if it exists]")
@click.option("--server", help="The node's URL, e.g. https://logs.example.org:7443 (or TIMBERYARD_URL, LOGDNA_HOST).")
@click.option("--key", help="An ingestion key (or TIMBERYARD_INGESTION_KEY, LOGDNA_INGESTION_KEY).")
@click.option("--file", "files", multiple=True, metavar="PATH", help="A file, glob or directory to tail (repeatable; adds to the config's).")
@click.option("--state-dir", help="Where offsets and the spool live. [default: /var/lib/timberyard-agent]")
@click.option("--metrics", metavar="HOST:PORT", help="Serve the agent's metrics for Prometheus, e.g. 127.0.0.1:9898.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info", show_default=True)
@click.option("--check", is_flag=True, help="Print the settings in effect and the files that would be tailed, then exit.")
def main(config_path: Path | None, server: str | None, key: str | None, files: tuple[str, ...], state_dir: str | None,
         metrics: str | None, log_level: str, check: bool) -> None:
    """Ship log files, container logs and the journal to a node, continuously.

    Offsets are saved only after the node acknowledged the lines, so a crash or a restart
    re-sends at most what was in flight; while the node is unreachable, batches wait in a
    spool on disk. Rotation (rename, copytruncate, kubelet) and truncation are followed.

    \b
    timberyard agent --server https://logs.example.org:7443 --key KEY --file '/var/log/*.log'
    timberyard agent --config /etc/timberyard/agent.yaml --metrics 127.0.0.1:9898
    timberyard agent --check          # what would be read, and with which settings

    Settings: docs/agent.md. A LogDNA agent's /etc/logdna.conf and LOGDNA_*/MZ_* variables
    are read too: point LOGDNA_HOST at the node and nothing else needs to change.
    """
    from timberyard.agent.discovery import Discovery
    from timberyard.agent.runner import Agent

    logging.basicConfig(level=log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    try:
        config = load(config_path, server=server, key=key, state_dir=state_dir, metrics=metrics)
        if not (config.files or files or config.kubernetes or config.journald):
            config.files.append(FileInput(path=["/var/log"]))  # LogDNA's default: the host's logs
        if files:
            config.files.extend(FileInput(path=[path]) for path in files)
        if check:
            shown = {name: value for name, value in vars(config).items() if name != "files"}
            shown["key"] = f"{config.key[:4]}… ({len(config.key)} characters)" if config.key else ""
            shown["files"] = [vars(item) for item in config.files]
            click.echo(json.dumps(shown, indent=2, default=str, ensure_ascii=False))
            for path in sorted(Discovery(config).scan()):
                click.echo(f"tails {path}")
            return
        Agent(config).run()
    except (ConfigError, StateDirBusy) as exc:  # problems the person can fix: one line, not a traceback
        raise click.ClickException(str(exc)) from None
