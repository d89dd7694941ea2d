"""Clip storage: one interface (:class:`ClipStorage`), a local-filesystem and an S3 backend,
chosen by URL (``FOOTY_STORAGE_URL``): ``s3://bucket/prefix`` or ``file:///path``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from footy.errors import ConfigError
from footy.storage.base import (
    ENV_STORAGE_URL,
    METADATA_KEYS,
    ClipStorage,
    ClipStorageError,
    InvalidKeyError,
    MissingSourceError,
    StorageAccessError,
    StorageBackendError,
    StorageVerifyError,
    StoredObject,
    clip_key,
    decode_metadata,
    encode_metadata,
    validate_key,
)
from footy.storage.local import LocalClipStorage
from footy.storage.s3 import S3ClipStorage

S3ClientFactory = Callable[[], Any]


def _default_s3_client() -> Any:
    import boto3

    return boto3.client("s3")


def storage_from_url(url: str, *, s3_client_factory: S3ClientFactory | None = None) -> ClipStorage:
    """``s3://bucket[/prefix]`` -> :class:`S3ClipStorage` (client from ``s3_client_factory``,
    default ``boto3.client("s3")``); ``file:///abs/path`` -> :class:`LocalClipStorage`.
    Anything else raises :class:`ConfigError`."""
    if not url or not url.strip():
        raise ConfigError(f"storage URL is empty (set {ENV_STORAGE_URL})")
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "s3":
        if not parts.netloc:
            raise ConfigError(f"storage URL {url!r} names no bucket")
        if parts.query or parts.fragment:
            raise ConfigError(f"storage URL {url!r} must not have a query or fragment")
        factory = s3_client_factory or _default_s3_client
        return S3ClipStorage(factory(), parts.netloc, unquote(parts.path).strip("/"))
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ConfigError(f"storage URL {url!r}: file URLs must be file:///absolute/path")
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise ConfigError(f"storage URL {url!r}: path must be absolute")
        return LocalClipStorage(path)
    raise ConfigError(f"unsupported storage URL {url!r}: use s3://bucket/prefix or file:///path")


def storage_from_env(
    environ: dict[str, str] | None = None, *, s3_client_factory: S3ClientFactory | None = None
) -> ClipStorage:
    env = os.environ if environ is None else environ
    return storage_from_url(env.get(ENV_STORAGE_URL, ""), s3_client_factory=s3_client_factory)


__all__ = [
    "ENV_STORAGE_URL",
    "METADATA_KEYS",
    "ClipStorage",
    "ClipStorageError",
    "InvalidKeyError",
    "LocalClipStorage",
    "MissingSourceError",
    "S3ClipStorage",
    "S3ClientFactory",
    "StorageAccessError",
    "StorageBackendError",
    "StorageVerifyError",
    "StoredObject",
    "clip_key",
    "decode_metadata",
    "encode_metadata",
    "storage_from_env",
    "storage_from_url",
    "validate_key",
]
