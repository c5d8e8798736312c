"""S3-compatible object storage (AWS S3, MinIO, Ceph, Wasabi; Google Cloud Storage through its
XML API at https://storage.googleapis.com with HMAC keys) as an archive destination, via boto3.

Promise: a PUT is atomic (S3 never shows part of an object) and, once answered, durable as the
service promises. Optional server-side encryption (`ServerSideEncryption`: AES256 or aws:kms)
and S3 Object Lock in COMPLIANCE mode (`object_lock_days`: nobody, root included, can delete or
overwrite an object version before then; the bucket must have Object Lock enabled).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from timberyard.archive.destination import DestinationError, ObjectMissing


class S3Bucket:
    def __init__(self, config: dict[str, Any]) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = config["bucket"]
        self.prefix = config.get("prefix", "").strip("/")
        self.sse = config.get("server_side_encryption") or ""
        self.lock_days = int(config.get("object_lock_days") or 0)
        self._client = boto3.client(
            "s3",
            endpoint_url=config.get("endpoint_url") or None,
            region_name=config.get("region") or None,
            aws_access_key_id=config.get("access_key_id") or None,
            aws_secret_access_key=config.get("secret_access_key") or None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10, read_timeout=60),
        )

    def describe(self) -> str:
        return f"s3 bucket {self.bucket}" + (f" prefix {self.prefix}/" if self.prefix else "")

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> None:
        extra: dict[str, Any] = {}
        if self.sse:
            extra["ServerSideEncryption"] = self.sse
        if self.lock_days:
            extra["ObjectLockMode"] = "COMPLIANCE"
            extra["ObjectLockRetainUntilDate"] = datetime.now(UTC) + timedelta(days=self.lock_days)
        self._call("write", key, self._client.put_object, Bucket=self.bucket, Key=self._key(key), Body=data, **extra)

    def get(self, key: str) -> bytes:
        answer = self._call("read", key, self._client.get_object, Bucket=self.bucket, Key=self._key(key))
        return bytes(answer["Body"].read())

    def fetch(self, key: str, out: BinaryIO) -> None:
        self._call("read", key, self._client.download_fileobj, Bucket=self.bucket, Key=self._key(key), Fileobj=out)

    def list(self, prefix: str) -> list[str]:
        found: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        strip = len(self._key(""))
        pages = paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix))
        self._call("list", prefix, lambda: [found.extend(o["Key"][strip:] for o in page.get("Contents", [])) for page in pages])
        return sorted(found)

    def remove(self, key: str) -> None:
        self._call("delete", key, self._client.delete_object, Bucket=self.bucket, Key=self._key(key))

    def _call(self, what: str, key: str, operation: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return operation(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            if code in ("NoSuchKey", "404"):
                raise ObjectMissing(f"s3://{self.bucket}/{self._key(key)} does not exist") from None
            raise DestinationError(
                f"cannot {what} s3://{self.bucket}/{self._key(key)}: {code or 'error'}: {error.get('Message', '')}".rstrip(": ")
            ) from None
        except BotoCoreError as exc:
            raise DestinationError(f"cannot {what} s3://{self.bucket}/{self._key(key)}: {exc}") from None
