"""Azure Blob Storage (and Azurite, its emulator) as an archive destination, via the
azure-storage-blob SDK with a storage account's shared key.

Promise: an upload commits a block blob whole (a reader sees the previous blob or the new one,
never part of one) and, once answered, is durable as the account's redundancy promises. Write
once, read many is Azure's immutability policy on the container (time-based retention, set in
Azure); it has no per-upload header like S3 Object Lock.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from timberyard.archive.destination import DestinationError, ObjectMissing


class AzureContainer:
    def __init__(self, config: dict[str, Any]) -> None:
        from azure.storage.blob import BlobServiceClient

        self.container = config["container"]
        self.prefix = config.get("prefix", "").strip("/")
        credential = {"account_name": config["account_name"], "account_key": config.get("account_key") or ""}
        service = BlobServiceClient(config["account_url"], credential=credential, connection_timeout=10, read_timeout=60)
        self._client = service.get_container_client(self.container)

    def describe(self) -> str:
        return f"azure container {self.container}" + (f" prefix {self.prefix}/" if self.prefix else "")

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> None:
        self._call("write", key, lambda: self._client.upload_blob(self._key(key), data, overwrite=True))

    def get(self, key: str) -> bytes:
        return bytes(self._call("read", key, lambda: self._client.download_blob(self._key(key)).readall()))

    def fetch(self, key: str, out: BinaryIO) -> None:
        self._call("read", key, lambda: self._client.download_blob(self._key(key)).readinto(out))

    def list(self, prefix: str) -> list[str]:
        strip = len(self._key(""))
        names = self._call("list", prefix, lambda: [blob.name for blob in self._client.list_blobs(name_starts_with=self._key(prefix))])
        return sorted(name[strip:] for name in names)

    def remove(self, key: str) -> None:
        self._call("delete", key, lambda: self._client.delete_blob(self._key(key)))

    def _call(self, what: str, key: str, operation: Any) -> Any:
        from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError

        where = f"azure://{self.container}/{self._key(key)}"
        try:
            return operation()
        except ResourceNotFoundError as exc:
            if getattr(exc, "error_code", None) == "ContainerNotFound":
                raise DestinationError(f"cannot {what} {where}: the container {self.container} does not exist") from None
            raise ObjectMissing(f"{where} does not exist") from None
        except HttpResponseError as exc:
            raise DestinationError(f"cannot {what} {where}: {exc.error_code or exc.status_code}: {exc.reason or ''}".rstrip(": ")) from None
        except AzureError as exc:
            raise DestinationError(f"cannot {what} {where}: {exc.message or type(exc).__name__}") from None
