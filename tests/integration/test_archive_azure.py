"""Archives to Azure Blob Storage, through the azure-storage-blob SDK, against Azurite.

Azurite is Microsoft's Azure Storage emulator (npm), run as a real process on loopback: the node
talks to it over HTTP exactly as to Azure; nothing in the node is mocked. The packages come from
the npm registry into .venv/azurite on first use (scripts/test installs Node.js). The account and
key are Azurite's documented development ones, public by design."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from integration.test_archive_live import SETTLE_S, send_hours
from emulators import listening
from node_packages import npm_installed
from servers import Server, call, free_port, run_cli, start_server
from timberyard.archive import envelope

HERE = Path(__file__).resolve().parent / "azurite"
INSTALL_DIR = Path(__file__).resolve().parents[2] / ".venv" / "azurite"
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    npm_installed(HERE, INSTALL_DIR, ("package.json",), "node_modules/.bin/azurite-blob", timeout=600)
    binary = INSTALL_DIR / "node_modules" / ".bin" / "azurite-blob"
    port = free_port()
    location = tmp_path_factory.mktemp("azurite")
    command = [str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(location), "--silent",
               "--skipApiVersionCheck"]
    with listening(command, f"http://127.0.0.1:{port}/", "azurite"):
        yield f"http://127.0.0.1:{port}/{ACCOUNT}"


def test_an_encrypted_archive_lands_in_an_azure_container_and_verifies(tmp_path: Path, azurite: str) -> None:
    service = BlobServiceClient(azurite, credential={"account_name": ACCOUNT, "account_key": KEY})
    container = service.create_container("acme-logs")
    server: Server = start_server(tmp_path / "node", TIMBERYARD_ARCHIVE_SETTLE_S=str(SETTLE_S),
                                  TIMBERYARD_ALERTS_OUTBOUND_ALLOW="127.0.0.1")
    try:
        destination = {"type": "azure", "account_url": azurite, "container": "acme-logs", "prefix": "tenant-a",
                       "account_name": ACCOUNT, "account_key": KEY}
        bad = call(server, "PUT", "/api/v1/archive", server.service_key, json={"destination": {**destination, "container": "No_Such"}})
        assert bad.status_code == 400 and bad.json()["field"] == "destination.container"
        put = call(server, "PUT", "/api/v1/archive", server.service_key, json={"encryption": True, "destination": destination})
        assert put.status_code == 200 and KEY not in put.text and put.json()["destination"]["account_key"] == "***set***"
        assert call(server, "POST", "/api/v1/archive/test", server.service_key).json()["ok"] is True

        sent = send_hours(server, "azure", 2, 40)
        result = call(server, "POST", "/api/v1/archive/run", server.service_key).json()
        assert result["lines"] == sent and all(f["key"].endswith(".json.gz.enc") for f in result["files"])
        body = container.download_blob("tenant-a/" + result["files"][0]["key"]).readall()
        assert body[:4] == envelope.MAGIC and b"azure " not in body

        found = call(server, "GET", "/api/v1/archive/search", server.service_key,
                     params={"q": "azure", "from": "2d", "to": "now", "limit": 1000}).json()
        assert len(found["lines"]) == sent and all(line["archived"] for line in found["lines"])

        account = result["files"][0]["key"].split("/")[-1].split(".")[0]
        verify = ["archive", "verify", "--account", account, "--azure-container", "acme-logs", "--azure-prefix", "tenant-a",
                  "--azure-account-url", azurite, "--azure-account-name", ACCOUNT, "--from", "1d", "--data-dir", str(server.data_dir)]
        assert b"archive intact" in run_cli(*verify, env={"AZURE_STORAGE_KEY": KEY}).stdout
        container.delete_blob("tenant-a/" + result["files"][0]["key"])
        gone = run_cli(*verify, env={"AZURE_STORAGE_KEY": KEY}, check=False)
        assert gone.returncode == 1 and b"deleted" in gone.stdout

        wrong = call(server, "PUT", "/api/v1/archive", server.service_key,
                     json={"destination": {**destination, "account_key": "d3Jvbmcga2V5IGZvciB0aGUgdGVzdA=="}})
        assert wrong.status_code == 200
        probe = call(server, "POST", "/api/v1/archive/test", server.service_key).json()
        assert probe["ok"] is False and "azure://acme-logs/tenant-a/" in probe["error"]
        assert KEY not in server.log_path.read_text()
    finally:
        server.stop()
