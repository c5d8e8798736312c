"""Archives across a kill -9 of a real node mid-run (JSON and Parquet), and to S3 through boto3.

The S3 test runs moto's server (`python -m moto.server`), an S3 emulator, as a real process on
loopback: the node talks to it over HTTP exactly as to AWS; nothing in the node is mocked."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import orjson
import pytest

from archive_files import export_lines
from emulators import moto_s3
from servers import Server, call, run_cli, start_server
from timberyard.archive import envelope, layout

HOUR_MS = 3_600_000
SETTLE_S = 1


def send_hours(server: Server, tag: str, hours: int, per_hour: int) -> int:
    """Lines spread over the last `hours` hours, so a run has many files to upload."""
    now = int(time.time() * 1000)
    lines = [{"line": f"{tag} {h}-{n}", "app": "live", "timestamp": now - h * HOUR_MS} for h in range(hours) for n in range(per_hour)]
    before = server.metric("timberyard_store_lines_total")
    response = server.ingest(lines)
    assert response.status_code == 200, response.text
    server.wait_stored(before + len(lines))
    time.sleep(SETTLE_S + 0.2)
    return len(lines)


def archived(root: Path, fmt: str) -> list[str]:
    return [line["_line"] for path in sorted(root.rglob("*" + layout.EXTENSIONS[fmt])) for line in export_lines(path.read_bytes(), fmt)]


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_kill_9_during_a_run_leaves_no_duplicate_and_loses_nothing(tmp_path: Path, fmt: str) -> None:
    root = tmp_path / "archives"
    pattern = "*" + layout.EXTENSIONS[fmt]
    server = start_server(tmp_path / "node", TIMBERYARD_ARCHIVE_SETTLE_S=str(SETTLE_S), TIMBERYARD_ARCHIVE_LOCAL_ROOT=str(root))
    try:
        settings = {"destination": {"type": "local", "path": "k"}, "format": fmt}
        assert call(server, "PUT", "/api/v1/archive", server.service_key, json=settings).status_code == 200
        sent = send_hours(server, "a", 20, 2000)  # a run of about a second: long enough to be killed in the middle
        run = threading.Thread(target=lambda: _swallow(lambda: call(server, "POST", "/api/v1/archive/run", server.service_key)))
        run.start()
        deadline = time.monotonic() + 30
        while not any(root.rglob(pattern)) and time.monotonic() < deadline:
            pass  # spin: kill the moment the first file of the run exists, before its digest and record
        server.kill()
        run.join()
        uploaded_before_kill = len(list(root.rglob(pattern)))
        server.start()
        assert uploaded_before_kill >= 1
        status = call(server, "GET", "/api/v1/archive/status", server.service_key).json()
        # Either the run is still pending, or the node's archive chore (it runs at start) has redone it already.
        assert status["interrupted_run_pending"] or status["files"] >= uploaded_before_kill, (status, uploaded_before_kill)
        done = call(server, "POST", "/api/v1/archive/run", server.service_key)
        assert done.status_code == 200, done.text
        sent += send_hours(server, "b", 3, 100)
        assert call(server, "POST", "/api/v1/archive/run", server.service_key).status_code == 200
        texts = archived(root / "k", fmt)
        assert len(texts) == sent and len(set(texts)) == sent  # every line, once
        pem = tmp_path / "node.pem"
        pem.write_bytes(run_cli("archive", "public-key", "--data-dir", str(server.data_dir)).stdout)
        account = next((root / "k").rglob(pattern)).name.split(".")[0]
        verified = run_cli("archive", "verify", "--account", account, "--dir", str(root / "k"), "--public-key", str(pem), "--from", "2d")
        assert b"archive intact" in verified.stdout
    finally:
        if server.process is not None:
            server.stop()


def _swallow(work: object) -> None:
    try:
        work()  # type: ignore[operator]
    except httpx.TransportError:
        pass  # the node was killed under the request


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    with moto_s3() as url:
        yield url


def test_encrypted_archive_to_s3_with_sse_and_object_lock(tmp_path: Path, s3: str) -> None:
    creds = {"aws_access_key_id": "AKIAEMULATOR", "aws_secret_access_key": "emulator-secret-key-0123456789"}
    client = boto3.client("s3", endpoint_url=s3, region_name="us-east-1", **creds)
    client.create_bucket(Bucket="acme-logs", ObjectLockEnabledForBucket=True)
    server = start_server(tmp_path / "node", TIMBERYARD_ARCHIVE_SETTLE_S=str(SETTLE_S),
                          TIMBERYARD_ALERTS_OUTBOUND_ALLOW="127.0.0.1")
    try:
        settings = {"encryption": True, "destination": {
            "type": "s3", "bucket": "acme-logs", "prefix": "tenant-a", "endpoint_url": s3, "region": "us-east-1",
            "access_key_id": creds["aws_access_key_id"], "secret_access_key": creds["aws_secret_access_key"],
            "server_side_encryption": "AES256", "object_lock_days": 1}}
        put = call(server, "PUT", "/api/v1/archive", server.service_key, json=settings)
        assert put.status_code == 200 and creds["aws_secret_access_key"] not in put.text
        assert call(server, "POST", "/api/v1/archive/test", server.service_key).json()["ok"] is True
        sent = send_hours(server, "s3", 2, 50)
        result = call(server, "POST", "/api/v1/archive/run", server.service_key).json()
        assert result["lines"] == sent and all(f["key"].endswith(".json.gz.enc") for f in result["files"])
        key = "tenant-a/" + result["files"][0]["key"]
        stored = client.get_object(Bucket="acme-logs", Key=key)
        body = stored["Body"].read()
        assert body[:4] == envelope.MAGIC and b"s3 " not in body
        assert stored.get("ServerSideEncryption") == "AES256"
        sealed = tmp_path / "file.json.gz.enc"
        sealed.write_bytes(body)
        opened = run_cli("archive", "decrypt", "--data-dir", str(server.data_dir), "--account",
                         result["files"][0]["key"].split("/")[-1].split(".")[0], str(sealed)).stdout
        assert sum(1 for line in gzip.decompress(opened).splitlines() if orjson.loads(line)["_line"].startswith("s3 ")) \
            == result["files"][0]["lines"]
        assert stored.get("ObjectLockMode") == "COMPLIANCE" and stored.get("ObjectLockRetainUntilDate") is not None
        pem = tmp_path / "node.pem"
        pem.write_bytes(run_cli("archive", "public-key", "--data-dir", str(server.data_dir)).stdout)
        account = result["files"][0]["key"].split("/")[-1].split(".")[0]
        env = {"AWS_ACCESS_KEY_ID": creds["aws_access_key_id"], "AWS_SECRET_ACCESS_KEY": creds["aws_secret_access_key"]}
        verify = ["archive", "verify", "--account", account, "--s3-bucket", "acme-logs", "--s3-prefix", "tenant-a",
                  "--endpoint-url", s3, "--region", "us-east-1", "--public-key", str(pem), "--from", "1d"]
        assert b"archive intact" in run_cli(*verify, env=env).stdout
        client.put_object(Bucket="acme-logs", Key="tenant-a/" + result["files"][0]["key"].replace(".json.gz.enc", ".9.json.gz.enc"), Body=b"x")
        bad = run_cli(*verify, env=env, check=False)
        assert bad.returncode == 1 and b"added:" in bad.stdout
        assert creds["aws_secret_access_key"] not in server.log_path.read_text()
    finally:
        server.stop()
