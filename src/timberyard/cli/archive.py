"""`timberyard archive ...`: an account's archives. configure/status/test/run talk to the node's
API with an admin service key; verify reads the destination itself with the node's public key
(what an auditor has), and public-key prints that key from the data directory."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from timberyard.archive.layout import FORMATS
from timberyard.cli import _settings, data_dir_option, main
from timberyard.cli.remote import client as _client
from timberyard.cli.remote import read_key_option, server_option, service_key_option


@main.group()
def archive() -> None:
    """Archives: every account's lines, hourly, to a directory, an S3-compatible bucket or an
    Azure Blob container, optionally encrypted, with signed digests (see docs/archives.md).

    \b
      timberyard archive configure --s3-bucket acme-logs --region eu-west-1 --access-key-id AKIA… --encrypt
          (the secret key from TIMBERYARD_ARCHIVE_SECRET_KEY)
      timberyard archive configure --azure-container logs --azure-account-name acme \\
          --azure-account-url https://acme.blob.core.windows.net   (the key from TIMBERYARD_ARCHIVE_AZURE_KEY)
      timberyard archive configure --format parquet   (files from now on: Parquet, for analytics)
      timberyard archive test
      timberyard archive run
      timberyard archive status
      timberyard archive public-key > timberyard-archive.pem
      timberyard archive verify --account ACCOUNT_ID --dir /mnt/archive --public-key timberyard-archive.pem --from 7d
      timberyard archive search 'error app:nginx' --from '2026-11-02' --to '2026-11-03'
      timberyard archive restore --from '2026-11-02T00:00:00Z' --to '2026-11-02T23:59:59Z'
    """


@archive.command("configure")
@server_option
@service_key_option
@click.option("--enable/--disable", "enabled", default=None, help="Turn archiving on or off [default: on when first configured].")
@click.option("--local", "local_path", metavar="PATH", help="Archive to this directory under the node's archive_local_root.")
@click.option("--s3-bucket", help="Archive to this S3 (or S3-compatible, e.g. GCS) bucket.")
@click.option("--s3-prefix", default=None, help="s3: key prefix inside the bucket.")
@click.option("--endpoint-url", default=None, help="s3: the service's URL (MinIO, Ceph, https://storage.googleapis.com); AWS when omitted.")
@click.option("--region", default=None, help="s3: the bucket's region.")
@click.option("--access-key-id", default=None, help="s3: access key id.")
@click.option("--secret-access-key", envvar="TIMBERYARD_ARCHIVE_SECRET_KEY", default=None,
              help="s3: secret access key (better: TIMBERYARD_ARCHIVE_SECRET_KEY, out of the process list).")
@click.option("--sse", type=click.Choice(("AES256", "aws:kms")), default=None, help="s3: server-side encryption header.")
@click.option("--object-lock-days", type=int, default=None, help="s3: S3 Object Lock COMPLIANCE retention, in days.")
@click.option("--azure-container", default=None, help="Archive to this Azure Blob Storage container.")
@click.option("--azure-account-url", default=None, help="azure: the storage account's blob URL, https://ACCOUNT.blob.core.windows.net.")
@click.option("--azure-account-name", default=None, help="azure: the storage account's name.")
@click.option("--azure-account-key", envvar="TIMBERYARD_ARCHIVE_AZURE_KEY", default=None,
              help="azure: the storage account's key (better: TIMBERYARD_ARCHIVE_AZURE_KEY, out of the process list).")
@click.option("--azure-prefix", default=None, help="azure: name prefix inside the container.")
@click.option("--encrypt/--no-encrypt", "encryption", default=None, help="Client-side AES-256-GCM encryption of each file.")
@click.option("--format", "file_format", type=click.Choice(FORMATS), default=None,
              help="Files written from now on: json (gzipped JSON lines, Mezmo's layout) or parquet (for analytics tools).")
@click.option("--rotate-key", is_flag=True, help="Make a new archive key current (old files keep opening with old keys).")
def configure(server: str, key: str, enabled: bool | None, local_path: str | None, s3_bucket: str | None, rotate_key: bool,
              encryption: bool | None, azure_container: str | None, azure_account_url: str | None, azure_account_name: str | None,
              azure_account_key: str | None, azure_prefix: str | None, file_format: str | None, **s3: Any) -> None:
    """Change the account's archive settings; prints them as the node now has them."""
    if sum(1 for given in (local_path, s3_bucket, azure_container) if given) > 1:
        raise click.UsageError("give one of --local, --s3-bucket and --azure-container")
    body: dict[str, Any] = {}
    if enabled is not None:
        body["enabled"] = enabled
    if encryption is not None:
        body["encryption"] = encryption
    if file_format is not None:
        body["format"] = file_format
    if rotate_key:
        body["rotate_key"] = True
    if local_path:
        body["destination"] = {"type": "local", "path": local_path}
    elif s3_bucket:
        names = {"s3_prefix": "prefix", "endpoint_url": "endpoint_url", "region": "region", "access_key_id": "access_key_id",
                 "secret_access_key": "secret_access_key", "sse": "server_side_encryption", "object_lock_days": "object_lock_days"}
        body["destination"] = {"type": "s3", "bucket": s3_bucket, **{names[k]: v for k, v in s3.items() if v is not None}}
    elif azure_container:
        given = {"account_url": azure_account_url, "account_name": azure_account_name, "account_key": azure_account_key,
                 "prefix": azure_prefix}
        body["destination"] = {"type": "azure", "container": azure_container, **{k: v for k, v in given.items() if v is not None}}
    with _client(server, key) as client:
        answer = client.request("PUT", "/api/v1/archive", json=body).json()
    click.echo(json.dumps(answer, indent=2))


@archive.command("status")
@server_option
@service_key_option
def status(server: str, key: str) -> None:
    """Watermark, lag, last run and error, files delivered."""
    with _client(server, key) as client:
        answer = client.request("GET", "/api/v1/archive/status").json()
    click.echo(json.dumps(answer, indent=2))


@archive.command("test")
@server_option
@service_key_option
def test(server: str, key: str) -> None:
    """Write, read back and delete a probe object at the destination; exit 1 if that fails."""
    with _client(server, key) as client:
        outcome = client.request("POST", "/api/v1/archive/test").json()
    if not outcome["ok"]:
        raise click.ClickException(f"destination failed: {outcome['error']}")
    click.echo(f"ok: wrote, read and deleted a probe object in {outcome['destination']}")


@archive.command("run")
@server_option
@service_key_option
def run(server: str, key: str) -> None:
    """Archive what is ready now instead of waiting for the next interval."""
    with _client(server, key, timeout=600) as client:
        result = client.request("POST", "/api/v1/archive/run").json()
    click.echo(f"archived {result['lines']} lines in {len(result['files'])} files; archived up to {result['watermark']}")
    for f in result["files"]:
        click.echo(f"  {f['key']}  {f['lines']} lines  {f['bytes']} bytes  sha256 {f['sha256']}")


@archive.command("public-key")
@data_dir_option
def public_key(data_dir: Path | None) -> None:
    """Print the node's public key (PEM) that checks archive digests (the audit trail's key)."""
    from timberyard.auth.signing import public_key_pem
    from timberyard.cli.audit import _data_dir_key

    click.echo(public_key_pem(_data_dir_key(_settings(data_dir, None).data_dir)), nl=False)


@archive.command("verify")
@click.option("--account", required=True, help="The account id (as in the archive's file names).")
@click.option("--from", "from_", default="7d", show_default=True, help="From this time (epoch, ISO 8601, or like 7d, yesterday).")
@click.option("--to", default="now", show_default=True, help="Up to this time, in the same forms.")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False, exists=True), help="The archive is this directory.")
@click.option("--s3-bucket", help="The archive is this S3 bucket (credentials: the usual AWS_* variables or profile).")
@click.option("--s3-prefix", default="", help="s3: key prefix inside the bucket.")
@click.option("--endpoint-url", default=None, help="s3: the service's URL when not AWS.")
@click.option("--region", default=None, help="s3: the bucket's region.")
@click.option("--azure-container", default=None, help="The archive is this Azure Blob container (key: AZURE_STORAGE_KEY).")
@click.option("--azure-account-url", default=None, help="azure: the storage account's blob URL.")
@click.option("--azure-account-name", default=None, help="azure: the storage account's name.")
@click.option("--azure-prefix", default="", help="azure: name prefix inside the container.")
@click.option("--public-key", "public_keys", multiple=True, type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Trust digests signed by this public key (repeat for older keys). [default: the data directory's key]")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(account: str, from_: str, to: str, directory: Path | None, s3_bucket: str | None, s3_prefix: str,
           endpoint_url: str | None, region: str | None, azure_container: str | None, azure_account_url: str | None,
           azure_account_name: str | None, azure_prefix: str, public_keys: tuple[Path, ...], data_dir: Path | None,
           as_json: bool) -> None:
    """Check the archive's files against its signed digest chain: modified, deleted and added
    files, a broken or forged chain; note the hours with no delivery. Exit 1 on any problem."""
    from timberyard.archive.verify import verify as check
    from timberyard.auth.signing import load_public_key
    from timberyard.cli.audit import _data_dir_key
    from timberyard.search.timeparse import parse_time

    if sum(1 for given in (directory, s3_bucket, azure_container) if given) != 1:
        raise click.UsageError("give the archive as --dir PATH, --s3-bucket NAME or --azure-container NAME")
    if directory:
        from timberyard.archive.localdir import LocalDirectory

        destination: Any = LocalDirectory(directory)
    elif azure_container:
        from timberyard.archive.azure import AzureContainer

        if not (azure_account_url and azure_account_name):
            raise click.UsageError("--azure-container needs --azure-account-url and --azure-account-name")
        destination = AzureContainer({"container": azure_container, "account_url": azure_account_url, "prefix": azure_prefix,
                                      "account_name": azure_account_name, "account_key": os.environ.get("AZURE_STORAGE_KEY", "")})
    else:
        from timberyard.archive.s3 import S3Bucket

        destination = S3Bucket({"bucket": s3_bucket, "prefix": s3_prefix, "endpoint_url": endpoint_url, "region": region})
    keys = [load_public_key(p) for p in public_keys] or [_data_dir_key(_settings(data_dir, None).data_dir)]
    now = datetime.now(UTC)
    report = check(destination, account, parse_time(from_, now=now, end=False), parse_time(to, now=now, end=True), keys)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for note in report.notes:
            click.echo(f"note: {note}")
        for problem in report.problems:
            click.echo(f"problem: {problem}")
        if report.ok:
            click.echo(f"archive intact: {report.digests} signed digests and {report.files} files verified")
    if not report.ok:
        if not as_json:
            click.secho(f"archive FAILED verification: {len(report.problems)} problem(s)", fg="red", err=True)
        raise SystemExit(1)


@archive.command("decrypt")
@data_dir_option
@click.option("--account", required=True, help="The account id whose archive keys opened the file.")
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write here [default: stdout].")
def decrypt(data_dir: Path | None, account: str, source: Path, output: Path | None) -> None:
    """Open an encrypted archive file (.json.gz.enc, .parquet.enc) into its plain bytes, with the account's
    archive keys from the data directory's metadata database (read beside a running node)."""
    from timberyard.archive.envelope import open_sealed
    from timberyard.auth.logins import load_or_create_key
    from timberyard.core.errors import ConfigError, NotFound
    from timberyard.meta import archives
    from timberyard.meta.sealing import Sealer
    from timberyard.meta.database import MetaDB

    settings = _settings(data_dir, None)
    key_file = settings.data_dir / archives.KEY_FILE
    if not key_file.exists():
        raise ConfigError(f"no archive key file at {key_file}; is {settings.data_dir} the node's data directory?")
    meta = MetaDB.open(settings.resolved_metadata_url)
    try:
        record = meta.transact(archives.get, Sealer(load_or_create_key(key_file)), account, write=False)
    finally:
        meta.close()
    if record is None:
        raise NotFound(f"account {account!r} has no archive settings in {settings.data_dir}")
    plain = open_sealed(source.read_bytes(), record.keys)
    if output is None:
        click.get_binary_stream("stdout").write(plain)
    else:
        output.write_bytes(plain)


@archive.command("search")
@click.argument("query", required=False, default="")
@server_option
@read_key_option
@click.option("--from", "from_", default="1d", show_default=True, help="Start: epoch, ISO 8601, or an expression like 7d, yesterday.")
@click.option("--to", default="now", show_default=True, help="End, in the same forms.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000),
              help="Lines per page, newest first (with --all, every page is printed).")
@click.option("--all", "every_page", is_flag=True, help="Print every matching line, page after page, not only the newest page.")
@click.option("--cursor", help="Continue after a page: the cursor the last page printed to stderr (--from/--to are then ignored).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--raw", is_flag=True, help="Only the raw log lines.")
def search(query: str, server: str, key: str, from_: str, to: str, limit: int, every_page: bool, cursor: str | None,
           as_json: bool, raw: bool) -> None:
    """Search archived lines with the query language, newest first, reading the archive's files
    where they are (nothing is re-ingested). One page of --limit lines, then the cursor of the
    next page on stderr; --all follows the cursors to the last matching line."""
    import sys

    from timberyard.cli import _print_tail_line

    colour = sys.stdout.isatty() and not (as_json or raw)
    printed = 0
    with _client(server, key, timeout=600) as client:
        while True:
            params = {"q": query, "limit": limit, **({"cursor": cursor} if cursor else {"from": from_, "to": to})}
            page = client.request("GET", "/api/v1/archive/search", params=params).json()
            for line in page["lines"]:
                if raw:
                    click.echo(line["line"])
                else:
                    _print_tail_line(line, as_json, colour)
            printed += len(page["lines"])
            cursor = page["next_cursor"]
            if cursor is None or not every_page:
                break
    if not printed:
        click.echo(f"no archived lines match in {page['files']} archive file(s) of the range; widen it with --from/--to", err=True)
    elif cursor is not None:
        click.echo(f"more archived lines match: --cursor {cursor} prints the next page, --all prints them all", err=True)


@archive.command("restore")
@server_option
@service_key_option
@click.option("--from", "from_", required=True, help="Start: epoch, ISO 8601, or an expression like 7d, yesterday.")
@click.option("--to", required=True, help="End, in the same forms.")
def restore(server: str, key: str, from_: str, to: str) -> None:
    """Put the archived lines of a range back into the store (source `archive-restore`, their own
    times). Lines still in the store, or restored before, are skipped; running it again after an
    interruption finishes the job."""
    import orjson
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    done: dict[str, Any] = {}
    with _client(server, key, timeout=600) as client, client.stream(
        "POST", "/api/v1/archive/restore", json={"from": from_, "to": to}
    ) as response, Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=False
    ) as progress:
        task = progress.add_task("restoring", total=None)
        for raw in response.iter_lines():
            event = orjson.loads(raw)
            if event["event"] == "start":
                progress.update(task, total=event["lines"], description=f"restoring {event['files']} file(s)")
            elif event["event"] == "file":
                progress.advance(task, event["lines"])
            elif event["event"] == "error":
                raise click.ClickException(f"restore stopped: {event['error']} (run it again to resume)")
            else:
                done = event
    if not done:
        raise click.ClickException("the server ended the restore without its totals; run it again to resume")
    click.echo(f"restored {done['restored']:,} lines from {done['files']} archive file(s); "
               f"{done['duplicates']:,} already in the store, {done['expired']:,} past retention")
