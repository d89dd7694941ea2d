"""Fixtures shared by the integration tests: a real S3 API endpoint (moto's server) and clip
storage on it or on a local folder (a module may define its own ``storage``)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from footy.storage import ClipStorage, LocalClipStorage, S3ClipStorage


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="testing",
        aws_secret_access_key="testing", region_name="us-east-1",
        config=Config(max_pool_connections=16, retries={"max_attempts": 2}),
    )  # fmt: skip


@pytest.fixture
def s3_storage(moto_endpoint: str) -> S3ClipStorage:
    """A fresh bucket on the moto server, objects under ``clips/``."""
    client = s3_client(moto_endpoint)
    bucket = f"footy-test-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=bucket)
    return S3ClipStorage(client, bucket, "clips")


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> ClipStorage:
    """Each test that asks for it runs twice: on a local folder and on the S3 endpoint."""
    if request.param == "local":
        return LocalClipStorage(tmp_path / "store")
    return request.getfixturevalue("s3_storage")
