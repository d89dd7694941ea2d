"""Clip store in an S3 bucket (or any S3 API: MinIO, moto): ``s3://bucket/prefix``.

The boto3 client is supplied by the caller (the Airflow layer passes
``S3Hook("aws_default").get_conn()``), so this module never reads credentials itself.
Listing always follows ``list_objects_v2`` pagination (continuation tokens) to the end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from footy.storage.base import (
    ClipStorage,
    MissingSourceError,
    StorageAccessError,
    StorageBackendError,
    StorageVerifyError,
    StoredObject,
    decode_metadata,
    encode_metadata,
    validate_key,
)

_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
_ACCESS_CODES = {
    "403",
    "AccessDenied",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "NoSuchBucket",
    "InvalidBucketName",
    "AccountProblem",
    "ExpiredToken",
    "InvalidToken",
}


def _error_code(exc: BaseException | None) -> str:
    """The S3 error code of ``exc`` or of what it wraps (boto3's S3UploadFailedError wraps
    the ClientError)."""
    seen = 0
    while exc is not None and seen < 5:
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            code = (response.get("Error") or {}).get("Code")
            if code:
                return str(code)
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return ""


class S3ClipStorage(ClipStorage):
    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        *,
        page_size: int = 1000,
        content_type: str = "video/mp4",
    ) -> None:
        if not bucket:
            raise ValueError("bucket is required")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.page_size = max(1, min(int(page_size), 1000))
        self.content_type = content_type
        #: pages read by the last :meth:`list` call (observability and tests)
        self.last_list_pages = 0

    def __repr__(self) -> str:
        return f"S3ClipStorage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    # ------------------------------------------------------------------ keys

    def _full(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _relative(self, full_key: str) -> str:
        if self.prefix:
            return full_key[len(self.prefix) + 1 :]
        return full_key

    def url_for(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._full(key)}"

    def share_url(self, key: str, seconds: int) -> str | None:
        """A presigned GET of the object, valid ``seconds`` (signed locally, no request)."""
        try:
            return str(self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": self._full(key)},
                ExpiresIn=seconds))  # fmt: skip
        except Exception as exc:  # botocore raises several types
            raise self._wrap(exc, f"presign {key}") from exc

    # ------------------------------------------------------------------ errors

    def _wrap(self, exc: Exception, what: str) -> Exception:
        code = _error_code(exc)
        message = f"s3://{self.bucket}: {what}: {exc}"
        if code in _ACCESS_CODES:
            return StorageAccessError(message)
        return StorageBackendError(message)

    def _head(self, full_key: str) -> dict[str, Any] | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=full_key)
        except Exception as exc:  # botocore ClientError / connection errors
            if _error_code(exc) in _MISSING_CODES:
                return None
            raise self._wrap(exc, f"head {full_key}") from exc

    # ------------------------------------------------------------------ operations

    def stat(self, key: str) -> StoredObject | None:
        full = self._full(key)
        head = self._head(full)
        if head is None:
            return None
        return StoredObject(url=self.url_for(key), key=key, size=int(head["ContentLength"]))

    def get(self, key: str, dest: str | Path) -> Path:
        full = self._full(key)
        head = self._head(full)
        if head is None:
            raise MissingSourceError(f"no object s3://{self.bucket}/{full}")
        dest = Path(dest)
        try:
            self.client.download_file(self.bucket, full, str(dest))
        except Exception as exc:
            dest.unlink(missing_ok=True)
            raise self._wrap(exc, f"get {full}") from exc
        if dest.stat().st_size != int(head["ContentLength"]):
            dest.unlink(missing_ok=True)
            raise StorageVerifyError(f"get {full}: size differs from the stored object")
        return dest

    def put(
        self, local_path: str | Path, key: str, metadata: dict[str, str], size: int
    ) -> StoredObject:
        full = self._full(key)
        if not Path(local_path).is_file():
            raise MissingSourceError(f"no such file: {local_path}")
        encoded = encode_metadata(metadata)
        existing = self.stat(key)
        if existing is not None and existing.size == size:
            return existing
        try:
            self.client.upload_file(
                str(local_path),
                self.bucket,
                full,
                ExtraArgs={"Metadata": encoded, "ContentType": self.content_type},
            )
        except Exception as exc:
            raise self._wrap(exc, f"upload {full}") from exc
        stored = self.stat(key)
        if stored is None or stored.size != size:
            self.delete(key)
            got = None if stored is None else stored.size
            raise StorageVerifyError(f"{self.url_for(key)}: stored size {got} != {size}; removed")
        return stored

    def delete(self, key: str) -> None:
        full = self._full(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=full)
        except Exception as exc:
            if _error_code(exc) in _MISSING_CODES:
                return
            raise self._wrap(exc, f"delete {full}") from exc

    def list(self, prefix: str = "") -> list[StoredObject]:
        full_prefix = f"{self.prefix}/{prefix}" if self.prefix else prefix
        found: list[StoredObject] = []
        pages = 0
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": full_prefix}
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(**kwargs, PaginationConfig={"PageSize": self.page_size}):
                pages += 1
                for item in page.get("Contents", ()):
                    full_key = item["Key"]
                    key = self._relative(full_key)
                    found.append(
                        StoredObject(
                            url=f"s3://{self.bucket}/{full_key}",
                            key=key,
                            size=int(item["Size"]),
                        )
                    )
        except Exception as exc:
            raise self._wrap(exc, f"list {full_prefix!r}") from exc
        self.last_list_pages = pages
        found.sort(key=lambda o: o.key)
        return found

    def metadata(self, key: str) -> dict[str, str]:
        head = self._head(self._full(key))
        if head is None:
            return {}
        return decode_metadata(head.get("Metadata") or {})
