"""The clip store interface, keys and metadata encoding shared by the backends.

Metadata encoding (S3 user metadata must be ASCII): values are **percent-encoded UTF-8**,
with only the characters that need it encoded -- non-ASCII, control characters and ``%``
itself -- so ASCII values stay readable (``"Kylian Mbappé"`` -> ``"Kylian Mbapp%C3%A9"``)
and :func:`decode_metadata` (``urllib.parse.unquote``) restores the exact original.
Transliteration was rejected because it loses information (``"Ødegaard"`` -> ``"Odegaard"``
cannot be reversed). The local backend stores the same encoded values in its sidecar so
both backends return identical metadata.
"""

from __future__ import annotations

import abc
import contextlib
import re
import string
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from footy.errors import FootyError, PermanentError, TransientError

ENV_STORAGE_URL = "FOOTY_STORAGE_URL"

#: Metadata keys a stored clip carries (callers may add more lowercase keys).
METADATA_KEYS: tuple[str, ...] = (
    "goal_id",
    "fixture_id",
    "player",
    "team",
    "minute",
    "source_url",
    "width",
    "height",
    "duration",
)

_SAFE = "".join(ch for ch in string.printable if ch not in "%\t\n\r\x0b\x0c")
_META_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_BAD_KEY_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


class ClipStorageError(FootyError):
    """Base of the storage errors."""


class StorageVerifyError(ClipStorageError, TransientError):
    """The stored object does not have the expected size; it was removed again."""


class StorageBackendError(ClipStorageError, TransientError):
    """The backend failed (network, 5xx, throttling): worth retrying later."""


class StorageAccessError(ClipStorageError, PermanentError):
    """Credentials, permissions or a missing bucket: retrying will not help."""


class MissingSourceError(ClipStorageError, PermanentError):
    """The local file to store does not exist (or is not a regular file)."""


class InvalidKeyError(ClipStorageError, PermanentError):
    """An object key that is empty, absolute, has ``..``/hidden segments or odd characters."""


@dataclass(frozen=True)
class StoredObject:
    url: str
    key: str
    size: int


def clip_key(fixture_id: object, goal_id: object, sha256: str) -> str:
    """``{fixture_id}/{goal_id}/{sha256[:16]}.mp4`` -- the same clip always maps to one key."""
    digest = str(sha256).lower()
    if not re.fullmatch(r"[0-9a-f]{16,64}", digest):
        raise InvalidKeyError(f"not a sha256 hex digest: {sha256!r}")
    for part in (fixture_id, goal_id):
        if "/" in str(part):
            raise InvalidKeyError(f"'/' in key part {part!r}")
    key = f"{fixture_id}/{goal_id}/{digest[:16]}.mp4"
    validate_key(key)
    return key


def validate_key(key: str) -> str:
    if not isinstance(key, str) or not key:
        raise InvalidKeyError(f"empty object key: {key!r}")
    if len(key) > 1024:
        raise InvalidKeyError(f"object key too long ({len(key)} chars)")
    if _BAD_KEY_CHARS.search(key):
        raise InvalidKeyError(f"control character or backslash in object key {key!r}")
    for segment in key.split("/"):
        # empty segments ("a//b", "/a"), ".."/"." and hidden names (local sidecars and temp
        # files are dot-files) are refused
        if not segment or segment.startswith(".") or segment != segment.strip():
            raise InvalidKeyError(f"bad segment {segment!r} in object key {key!r}")
    return key


def encode_metadata(metadata: dict[str, object]) -> dict[str, str]:
    """ASCII-safe metadata: lowercase keys, percent-encoded values (see module doc)."""
    out: dict[str, str] = {}
    for raw_key, value in metadata.items():
        key = str(raw_key).strip().lower()
        if not _META_KEY.fullmatch(key):
            raise InvalidKeyError(f"bad metadata key {raw_key!r}")
        out[key] = quote("" if value is None else str(value), safe=_SAFE)
    return out


def decode_metadata(metadata: dict[str, str]) -> dict[str, str]:
    return {k.lower(): unquote(v) for k, v in metadata.items()}


class ClipStorage(abc.ABC):
    """Where finished clips live. Keys are relative (``clip_key``); implementations map them
    under their own root/prefix."""

    @abc.abstractmethod
    def put(
        self, local_path: str | Path, key: str, metadata: dict[str, str], size: int
    ) -> StoredObject:
        """Store ``local_path`` under ``key``.

        Idempotent: when ``key`` already holds an object of ``size`` bytes nothing is
        uploaded and that object is returned. After an upload the stored size must equal
        ``size``; otherwise the object is removed and :class:`StorageVerifyError` raised.
        """

    @abc.abstractmethod
    def stat(self, key: str) -> StoredObject | None:
        """The stored object, or None when ``key`` does not exist."""

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key`` (and its metadata); deleting a missing key is not an error."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> list[StoredObject]:
        """Every object whose key starts with ``prefix``, sorted by key (all pages)."""

    @abc.abstractmethod
    def url_for(self, key: str) -> str:
        """The URL recorded for ``key`` (``s3://bucket/...`` or ``file:///...``)."""

    def share_url(self, key: str, seconds: int) -> str | None:
        """A URL anyone can open for ``seconds`` (a presigned GET), or None when the backend
        cannot make one (a local folder)."""
        del key, seconds
        return None

    def local_path(self, key: str) -> Path | None:
        """The object's own file when the backend is a local folder and it exists (to serve
        it in place), else None."""
        del key
        return None

    @abc.abstractmethod
    def metadata(self, key: str) -> dict[str, str]:
        """Decoded metadata of ``key`` (empty dict when absent)."""

    @abc.abstractmethod
    def get(self, key: str, dest: str | Path) -> Path:
        """Copy the object of ``key`` to ``dest`` (size-verified); MissingSourceError if absent."""

    @contextlib.contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        """A readable local file with the object's bytes, removed afterwards if it is a copy."""
        with tempfile.TemporaryDirectory(prefix="footy-storage-") as workdir:
            yield self.get(key, Path(workdir) / Path(key).name)
