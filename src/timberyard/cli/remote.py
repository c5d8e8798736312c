"""What the commands that talk to a node share: where it is (`--server`), how to trust its
certificate (`--cacert`, `--insecure`), the key (`--key`), and a client built from them.

The certificate options are kept on the click context rather than passed to every command:
every command that takes `--server` takes them too, and builds its client with `client()` or
`verify()`.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

DEFAULT_URL = "http://127.0.0.1:7080"

F = TypeVar("F", bound=Callable[..., Any])


def _keep(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    ctx.meta[f"timberyard.{param.name}"] = value


def server_option(command: F) -> F:
    """`--server` (passed to the command) with `--cacert` and `--insecure` (kept for `verify`)."""
    command = click.option(
        "--insecure", is_flag=True, expose_value=False, callback=_keep,
        help="Do not check the server's certificate (a test node only: anyone between could read the key).",
    )(command)
    command = click.option(
        "--cacert", envvar="TIMBERYARD_CACERT", metavar="FILE", expose_value=False, callback=_keep,
        type=click.Path(path_type=Path, dir_okay=False, exists=True),
        help="PEM file of the CA (or the self-signed certificate) that the server's certificate is checked against (or TIMBERYARD_CACERT).",
    )(command)
    return click.option(
        "--server", envvar="TIMBERYARD_URL", default=DEFAULT_URL, show_default=True, help="The node's URL (or TIMBERYARD_URL)."
    )(command)


def trust() -> tuple[str, bool]:
    """The current command's `--cacert` file ("" for the system's CAs) and `--insecure`."""
    meta = click.get_current_context().meta
    cacert, insecure = str(meta.get("timberyard.cacert") or ""), bool(meta.get("timberyard.insecure"))
    if cacert and insecure:
        raise click.UsageError("--cacert and --insecure contradict each other; give one")
    return cacert, insecure


def verify() -> ssl.SSLContext | bool:
    """How the current command checks the server's certificate."""
    cacert, insecure = trust()
    if insecure:
        return False
    if cacert:
        try:
            return ssl.create_default_context(cafile=str(cacert))
        except ssl.SSLError as exc:
            raise click.BadParameter(f"{cacert} holds no PEM certificate ({exc.reason or exc})", param_hint="--cacert") from None
    return True


class KeyOption(click.Option):
    """`--key`; when missing, the error names its environment variable and where keys come from."""

    def __init__(self, *args: Any, what: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.what = what

    def process_value(self, ctx: click.Context, value: Any) -> Any:
        try:
            return super().process_value(ctx, value)
        except click.MissingParameter:
            raise click.MissingParameter(
                ctx=ctx, param=self,
                message=f"Give {self.what} with --key or the environment variable {self.envvar} "
                "(the node's first start printed one; `timberyard keys create` makes more)",
            ) from None


def key_option(envvar: str, what: str) -> Callable[[F], F]:
    return click.option("--key", cls=KeyOption, what=what, envvar=envvar, required=True, help=f"{what.capitalize()} (or {envvar}).")


service_key_option = key_option("TIMBERYARD_SERVICE_KEY", "an admin service key")
read_key_option = key_option("TIMBERYARD_SERVICE_KEY", "a service key")
ingestion_key_option = key_option("TIMBERYARD_INGESTION_KEY", "an ingestion key")


def warn(message: str) -> None:
    click.secho(message, fg="yellow", err=True)


def client(server: str, key: str, **options: Any) -> Any:
    """A NodeClient for the current command (three attempts unless told), reporting retries."""
    from timberyard.client import NodeClient

    return NodeClient(server, key, verify=verify(), **{"max_attempts": 3, "on_retry": warn, **options})
