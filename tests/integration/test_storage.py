"""footy.storage against a real filesystem and a real moto S3 server (no mocks)."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from footy.errors import ConfigError
from footy.storage import (
    ClipStorage,
    InvalidKeyError,
    LocalClipStorage,
    MissingSourceError,
    S3ClipStorage,
    StorageAccessError,
    StorageVerifyError,
    clip_key,
    decode_metadata,
    encode_metadata,
    storage_from_url,
)

pytestmark = pytest.mark.integration

META = {
    "goal_id": "1035037_50_1100_Goal_1",
    "fixture_id": "1035037",
    "player": "Kylian Mbappé",
    "team": "Bayern München",
    "minute": "45+2",
    "source_url": "https://video.twimg.com/ext_tw_video/1/pu/vid/1280x720/a.mp4?tag=12",
    "width": "1280",
    "height": "720",
    "duration": "12.4",
}


@pytest.fixture(scope="module")
def s3_factory(moto_endpoint: str) -> Callable[[], Any]:
    def make() -> Any:
        return boto3.client(
            "s3",
            endpoint_url=moto_endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
            config=Config(max_pool_connections=16, retries={"max_attempts": 2}),
        )

    return make


@pytest.fixture
def bucket(s3_factory: Callable[[], Any]) -> str:
    name = f"footy-test-{uuid.uuid4().hex[:12]}"
    s3_factory().create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> ClipStorage:
    if request.param == "local":
        return LocalClipStorage(tmp_path / "clips")
    factory = request.getfixturevalue("s3_factory")
    name = request.getfixturevalue("bucket")
    return storage_from_url(f"s3://{name}/clips", s3_client_factory=factory)


def _clip(tmp_path: Path, size: int = 50_000, seed: bytes = b"a") -> tuple[Path, str]:
    data = (hashlib.sha256(seed).digest() * (size // 32 + 1))[:size]
    path = tmp_path / f"src-{seed.hex()}-{size}.mp4"
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def _read(storage: ClipStorage, key: str) -> bytes:
    if isinstance(storage, LocalClipStorage):
        return (storage.root / key).read_bytes()
    assert isinstance(storage, S3ClipStorage)
    body = storage.client.get_object(Bucket=storage.bucket, Key=f"{storage.prefix}/{key}")
    return body["Body"].read()


# --------------------------------------------------------------------------- keys/metadata


def test_clip_key() -> None:
    digest = hashlib.sha256(b"x").hexdigest()
    assert clip_key(1035037, "1035037_50_1100_Goal_1", digest) == (
        f"1035037/1035037_50_1100_Goal_1/{digest[:16]}.mp4"
    )
    for bad in [(1, "a/b", digest), (1, "g", "nothex"), ("", "g", digest), (1, "..", digest)]:
        with pytest.raises(InvalidKeyError):
            clip_key(*bad)


def test_metadata_encoding_is_ascii_and_reversible() -> None:
    encoded = encode_metadata({**META, "note": "100% Ødegaard – 90'"})
    assert all(v.isascii() for v in encoded.values())
    assert encoded["player"] == "Kylian Mbapp%C3%A9"
    assert encoded["source_url"] == META["source_url"]  # ASCII stays readable
    assert decode_metadata(encoded) == {**META, "note": "100% Ødegaard – 90'"}


# --------------------------------------------------------------------------- both backends


def test_put_stat_metadata_url(storage: ClipStorage, tmp_path: Path) -> None:
    src, digest = _clip(tmp_path)
    key = clip_key(META["fixture_id"], META["goal_id"], digest)
    assert not storage.exists(key) and storage.stat(key) is None
    stored = storage.put(src, key, META, src.stat().st_size)
    assert stored.key == key and stored.size == 50_000
    assert stored.url == storage.url_for(key)
    assert storage.exists(key)
    assert storage.metadata(key) == META
    assert _read(storage, key) == src.read_bytes()
    if isinstance(storage, S3ClipStorage):
        assert stored.url == f"s3://{storage.bucket}/clips/{key}"
        raw = storage.client.head_object(Bucket=storage.bucket, Key=f"clips/{key}")
        assert raw["Metadata"]["player"] == "Kylian Mbapp%C3%A9"
        assert raw["ContentType"] == "video/mp4"
    else:
        assert isinstance(storage, LocalClipStorage)
        assert stored.url == (storage.root / key).as_uri()
        leftovers = [p.name for p in (storage.root / key).parent.iterdir()]
        assert sorted(leftovers) == sorted([f"{digest[:16]}.mp4", f".{digest[:16]}.mp4.meta.json"])


def test_same_clip_twice_is_one_object(storage: ClipStorage, tmp_path: Path) -> None:
    src, digest = _clip(tmp_path, seed=b"first")
    other, _ = _clip(tmp_path, seed=b"other")  # same size, different bytes
    key = clip_key(1, "g1", digest)
    first = storage.put(src, key, META, 50_000)
    second = storage.put(other, key, META, 50_000)  # present with the same size: no upload
    assert first == second
    assert _read(storage, key) == src.read_bytes()
    assert [o.key for o in storage.list("1/")] == [key]


def test_different_size_replaces_object(storage: ClipStorage, tmp_path: Path) -> None:
    small, digest = _clip(tmp_path, size=1000)
    big, _ = _clip(tmp_path, size=3000)
    key = clip_key(1, "g1", digest)
    storage.put(small, key, META, 1000)
    assert storage.put(big, key, META, 3000).size == 3000
    assert _read(storage, key) == big.read_bytes()


def test_size_verify_failure_removes_object(storage: ClipStorage, tmp_path: Path) -> None:
    src, digest = _clip(tmp_path)
    key = clip_key(1, "g1", digest)
    with pytest.raises(StorageVerifyError) as info:
        storage.put(src, key, META, 50_001)  # the caller expected another size
    assert info.value.transient is True
    assert not storage.exists(key)
    assert storage.list("") == []
    assert storage.metadata(key) == {}
    if isinstance(storage, LocalClipStorage):
        assert not any(storage.root.rglob("*")) or all(p.is_dir() for p in storage.root.rglob("*"))


def test_delete_and_list_prefix(storage: ClipStorage, tmp_path: Path) -> None:
    keys = []
    for fixture, goal, seed in [(1, "a", b"1"), (1, "b", b"2"), (2, "a", b"3"), (12, "a", b"4")]:
        src, digest = _clip(tmp_path, size=100 + len(keys), seed=seed)
        keys.append(storage.put(src, clip_key(fixture, goal, digest), META, 100 + len(keys)).key)
    assert [o.key for o in storage.list()] == sorted(keys)
    assert [o.key for o in storage.list("1/")] == sorted(keys[:2])
    assert [o.key for o in storage.list("1")] == sorted([keys[0], keys[1], keys[3]])
    assert [o.size for o in storage.list("2/")] == [102]
    storage.delete(keys[0])
    storage.delete(keys[0])  # deleting twice is fine
    assert not storage.exists(keys[0])
    assert storage.metadata(keys[0]) == {}
    assert [o.key for o in storage.list("1/")] == [keys[1]]


def test_missing_source_is_permanent(storage: ClipStorage, tmp_path: Path) -> None:
    with pytest.raises(MissingSourceError) as info:
        storage.put(tmp_path / "nope.mp4", "1/g/abcdef0123456789.mp4", META, 10)
    assert info.value.transient is False


@pytest.mark.parametrize("key", ["", "/abs.mp4", "a//b.mp4", "../x.mp4", "a/.hidden.mp4"])
def test_bad_keys_are_refused(storage: ClipStorage, key: str) -> None:
    with pytest.raises(InvalidKeyError):
        storage.exists(key)


# --------------------------------------------------------------------------- S3 specifics


def test_s3_list_follows_pagination(s3_factory: Callable[[], Any], bucket: str) -> None:
    client = s3_factory()
    total = 1105
    keys = [f"clips/7/goal_{i % 3}/{i:016x}.mp4" for i in range(total)]
    keys_outside = ["clips2/7/g/0000000000000000.mp4", "other/7/x.mp4"]

    def put(key: str) -> None:
        client.put_object(Bucket=bucket, Key=key, Body=b"x" * 3)

    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(put, keys + keys_outside))

    default = S3ClipStorage(s3_factory(), bucket, "clips")
    listed = default.list()
    assert len(listed) == total
    assert default.last_list_pages == 2  # 1000 + 105
    assert {o.key for o in listed} == {k.removeprefix("clips/") for k in keys}
    assert all(o.size == 3 for o in listed)

    small_pages = S3ClipStorage(s3_factory(), bucket, "clips", page_size=100)
    assert len(small_pages.list("7/")) == total
    assert small_pages.last_list_pages == 12
    assert len(small_pages.list("7/goal_1/")) == len([k for k in keys if "/goal_1/" in k])


def test_s3_missing_bucket_is_access_error(s3_factory: Callable[[], Any], tmp_path: Path) -> None:
    storage = S3ClipStorage(s3_factory(), f"no-such-{uuid.uuid4().hex[:8]}")
    src, digest = _clip(tmp_path)
    with pytest.raises(StorageAccessError) as info:
        storage.put(src, clip_key(1, "g", digest), META, 50_000)
    assert info.value.transient is False
    with pytest.raises(StorageAccessError):
        storage.list()


# --------------------------------------------------------------------------- factory


def test_storage_from_url(s3_factory: Callable[[], Any], tmp_path: Path) -> None:
    s3 = storage_from_url("s3://my-bucket/footy/clips/", s3_client_factory=s3_factory)
    assert isinstance(s3, S3ClipStorage)
    assert (s3.bucket, s3.prefix) == ("my-bucket", "footy/clips")
    assert s3.url_for("1/g/a.mp4") == "s3://my-bucket/footy/clips/1/g/a.mp4"
    bare = storage_from_url("s3://my-bucket", s3_client_factory=s3_factory)
    assert isinstance(bare, S3ClipStorage) and bare.prefix == ""

    local = storage_from_url(f"file://{tmp_path}/store")
    assert isinstance(local, LocalClipStorage)
    assert local.root == (tmp_path / "store").resolve()
    assert local.url_for("1/g/a.mp4") == (tmp_path / "store/1/g/a.mp4").resolve().as_uri()

    for bad in ["", "   ", "http://x/y", "gs://b/p", "s3://", "file://host/x", "/plain/path"]:
        with pytest.raises(ConfigError):
            storage_from_url(bad, s3_client_factory=s3_factory)


def test_local_storage_roundtrip_via_env_style_url(tmp_path: Path) -> None:
    root = tmp_path / "with space"
    storage = storage_from_url(root.as_uri())
    src, digest = _clip(tmp_path)
    stored = storage.put(src, clip_key(9, "g", digest), META, 50_000)
    assert Path(stored.url.removeprefix("file://").replace("%20", " ")).is_file()
    assert os.path.getsize(root / stored.key) == 50_000


def test_get_copies_the_object_and_refuses_a_missing_key(
    storage: ClipStorage, tmp_path: Path
) -> None:
    src, digest = _clip(tmp_path, seed=b"get")
    key = clip_key(META["fixture_id"], META["goal_id"], digest)
    storage.put(src, key, META, src.stat().st_size)
    copy = storage.get(key, tmp_path / "copy.mp4")
    assert copy.read_bytes() == src.read_bytes()
    with storage.local_file(key) as local:
        assert local.read_bytes() == src.read_bytes()
    with pytest.raises(MissingSourceError):
        storage.get("1/none/0000000000000000.mp4", tmp_path / "missing.mp4")
    assert not (tmp_path / "missing.mp4").exists()
