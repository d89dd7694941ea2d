"""Clip store on a local (or mounted) filesystem: ``file:///path``.

Layout: the object of key ``a/b/c.mp4`` is ``<root>/a/b/c.mp4``; its metadata is the sidecar
``<root>/a/b/.c.mp4.meta.json`` (encoded values, see ``footy.storage.base``). Both are
written to a hidden temporary file in the same folder, flushed and fsync'ed, then renamed
into place, so a reader never sees a half-written clip. Hidden files are never listed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from footy.storage.base import (
    ClipStorage,
    MissingSourceError,
    StorageBackendError,
    StorageVerifyError,
    StoredObject,
    decode_metadata,
    encode_metadata,
    validate_key,
)

_COPY_CHUNK = 1024 * 1024


class LocalClipStorage(ClipStorage):
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"LocalClipStorage({str(self.root)!r})"

    # ------------------------------------------------------------------ paths

    def _path(self, key: str) -> Path:
        validate_key(key)
        path = self.root.joinpath(*key.split("/"))
        if self.root not in path.parents:  # belt and braces: validate_key refuses ".."
            raise StorageBackendError(f"key escapes the storage root: {key!r}")
        return path

    @staticmethod
    def _sidecar(path: Path) -> Path:
        return path.with_name(f".{path.name}.meta.json")

    def url_for(self, key: str) -> str:
        return self._path(key).as_uri()

    # ------------------------------------------------------------------ operations

    def stat(self, key: str) -> StoredObject | None:
        path = self._path(key)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageBackendError(f"stat {path}: {exc}") from exc
        return StoredObject(url=path.as_uri(), key=key, size=size)

    def get(self, key: str, dest: str | os.PathLike[str]) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise MissingSourceError(f"no object {key!r} in {self.root}")
        self._copy_atomic(path, Path(dest))
        return Path(dest)

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    @contextlib.contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        """Read in place: the object already is a local file."""
        path = self._path(key)
        if not path.is_file():
            raise MissingSourceError(f"no object {key!r} in {self.root}")
        yield path

    def put(
        self, local_path: str | Path, key: str, metadata: dict[str, str], size: int
    ) -> StoredObject:
        src = Path(local_path)
        path = self._path(key)
        if not src.is_file():
            raise MissingSourceError(f"no such file: {src}")
        encoded = encode_metadata(metadata)
        existing = self.stat(key)
        if existing is not None and existing.size == size:
            if not self._sidecar(path).exists():
                self._write_atomic_text(self._sidecar(path), json.dumps(encoded, indent=1))
            return existing
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._copy_atomic(src, path)
        except OSError as exc:
            raise StorageBackendError(f"write {path}: {exc}") from exc
        stored = self.stat(key)
        if stored is None or stored.size != size:
            self.delete(key)
            got = None if stored is None else stored.size
            raise StorageVerifyError(f"{key}: stored size {got} != expected {size}; removed")
        try:
            self._write_atomic_text(self._sidecar(path), json.dumps(encoded, indent=1))
        except OSError as exc:
            self.delete(key)
            raise StorageBackendError(f"write metadata of {key}: {exc}") from exc
        return stored

    def delete(self, key: str) -> None:
        path = self._path(key)
        for target in (path, self._sidecar(path)):
            try:
                target.unlink(missing_ok=True)
            except OSError as exc:
                raise StorageBackendError(f"delete {target}: {exc}") from exc
        # prune now-empty folders up to the root (best effort, racing writers win)
        parent = path.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def list(self, prefix: str = "") -> list[StoredObject]:
        if not self.root.is_dir():
            return []
        # start from the deepest folder the prefix fully names
        folder_parts = prefix.split("/")[:-1]
        start = self.root.joinpath(*folder_parts) if folder_parts else self.root
        if not start.is_dir():
            return []
        found: list[StoredObject] = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if name.startswith("."):
                    continue
                full = Path(dirpath, name)
                key = full.relative_to(self.root).as_posix()
                if not key.startswith(prefix):
                    continue
                try:
                    size = full.stat().st_size
                except FileNotFoundError:  # deleted meanwhile
                    continue
                found.append(StoredObject(url=full.as_uri(), key=key, size=size))
        found.sort(key=lambda o: o.key)
        return found

    def metadata(self, key: str) -> dict[str, str]:
        sidecar = self._sidecar(self._path(key))
        try:
            return decode_metadata(json.loads(sidecar.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise StorageBackendError(f"read metadata of {key}: {exc}") from exc

    # ------------------------------------------------------------------ atomic writes

    @staticmethod
    def _copy_atomic(src: Path, dst: Path) -> None:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
        try:
            with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
                shutil.copyfileobj(inp, out, _COPY_CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, dst)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    @staticmethod
    def _write_atomic_text(dst: Path, text: str) -> None:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, dst)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
