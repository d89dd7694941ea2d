"""Clip storage for tasks: ``$FOOTY_STORAGE_URL`` -> a :class:`~footy.storage.ClipStorage`.

* ``s3://bucket/prefix``: the boto3 client comes from the Amazon provider's ``S3Hook`` on
  connection ``aws_default`` (credentials, region and ``endpoint_url`` for MinIO live there).
* ``file:///absolute/path``: a local or mounted folder.
* unset: the embedded default, :data:`DEFAULT_STORAGE_URL` (``.footy/storage`` in the
  checkout) -- the only place that default is defined.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from footy.storage import ENV_STORAGE_URL, ClipStorage, storage_from_url

AWS_CONN_ID = "aws_default"
DEFAULT_STORAGE_URL = (Path(__file__).resolve().parents[2] / ".footy" / "storage").as_uri()


def storage_url() -> str:
    return os.environ.get(ENV_STORAGE_URL, "").strip() or DEFAULT_STORAGE_URL


def _s3_client() -> Any:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook  # only when S3 is configured

    return S3Hook(aws_conn_id=AWS_CONN_ID).get_conn()


def clip_storage() -> ClipStorage:
    """The configured clip store (called inside tasks, never at DAG parse time)."""
    return storage_from_url(storage_url(), s3_client_factory=_s3_client)
