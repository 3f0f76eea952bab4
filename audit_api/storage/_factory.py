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
    s3_endpoint: str = "localhost:9000",
    s3_access_key: str = "",
    s3_secret_key: str = "",
    s3_bucket: str = "siteaudit-evidence",
    s3_secure: bool = False,
    s3_region: str = "us-east-1",
    object_lock: bool = True,
    retention_days: int | None = None,
    spool: bool = True,
) -> ObjectStore:
    """`local`: objects in `data_dir/evidence`. `s3`: the bucket, spooled to `data_dir/spool` during
    outages unless `spool=False`. No network here: the bucket is created on `check()` or the first put."""
    data_dir = Path(data_dir)
    if backend == "local":
        return LocalStore(data_dir / "evidence")
    if backend == "s3":
        remote = S3Store(
            s3_endpoint,
            s3_access_key,
            s3_secret_key,
            s3_bucket,
            secure=s3_secure,
            region=s3_region,
            object_lock=object_lock,
            retention_days=retention_days,
        )
        return SpoolingStore(remote, data_dir / "spool") if spool else remote
    raise ValueError(f"unknown storage backend {backend!r}: use 'local' or 's3'")
