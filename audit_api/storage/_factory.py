"""Build the configured object store (called from settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from ._base import ObjectStore
from ._local import LocalStore
from ._s3 import S3Store
from ._spool import SpoolingStore


def open_store(
    backend: Literal["local", "s3"],
    *,
    data_dir: Path,
    s3_endpoint: str | None = None,
    s3_access_key: str | None = None,
    s3_secret_key: str | None = None,
    s3_bucket: str = "evidence",
    s3_secure: bool = False,
    s3_region: str | None = None,
    s3_public_endpoint: str | None = None,
    object_lock: bool = True,
    retention_days: int | None = None,
    spool: bool = True,
) -> ObjectStore:
    """`local`: objects in `data_dir/evidence`. `s3`: the bucket, spooled to `data_dir/spool` during
    outages unless `spool=False`; presigned URLs name `s3_public_endpoint` when browsers reach S3 by
    another address. No network here: the bucket is created on `check()` or the first put."""
    data_dir = Path(data_dir)
    if backend == "local":
        return LocalStore(data_dir / "evidence")
    if backend == "s3":
        if not s3_endpoint:
            raise ValueError("storage backend 's3' needs an endpoint (host:port or http(s)://host:port)")
        remote = S3Store(
            s3_endpoint,
            s3_access_key or "",
            s3_secret_key or "",
            s3_bucket,
            secure=s3_secure,
            region=s3_region or "us-east-1",
            object_lock=object_lock,
            retention_days=retention_days,
            public_endpoint=s3_public_endpoint,
        )
        return SpoolingStore(remote, data_dir / "spool") if spool else remote
    raise ValueError(f"unknown storage backend {backend!r}: use 'local' or 's3'")
