"""Runtime configuration from SITEAUDIT_* environment variables (and an optional .env file)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

import audit_api
from ingest.urls import DEFAULT_DENY_NETWORKS, CameraNetworkPolicy

DEFAULT_SECRET = "change-me"
MIN_SECRET_LENGTH = 32  # HS256 wants a key at least as long as its digest (RFC 7518 §3.2)
_REPO_ROOT = Path(audit_api.__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Everything the API, worker and CLI read from the environment."""

    model_config = SettingsConfigDict(
        env_prefix="SITEAUDIT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    dev_mode: bool = Field(False, description="Developer mode: the default secret becomes a random one.")
    data_dir: Path = Field(Path("./data"), description="Directory for the SQLite file and local evidence.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default is a SQLite file in data_dir.", min_length=1
    )
    secret_key: SecretStr = Field(
        SecretStr(DEFAULT_SECRET), description="Key that signs access tokens (>= 32 characters)."
    )
    access_token_minutes: int = Field(60, description="Access token lifetime.", ge=1, le=60 * 24 * 30)
    storage_backend: Literal["local", "s3"] = Field("local", description="Where evidence objects live.")
    s3_endpoint: str | None = Field(None, description="host:port of the S3/MinIO endpoint.")
    s3_access_key: str | None = Field(None, description="S3 access key id.")
    s3_secret_key: SecretStr | None = Field(None, description="S3 secret key.")
    s3_bucket: str = Field("evidence", description="Evidence bucket.", min_length=3, max_length=63)
    s3_secure: bool = Field(False, description="Use HTTPS to reach S3.")
    s3_region: str | None = Field(None, description="S3 region (optional for MinIO).")
    max_upload_bytes: int = Field(
        10 * 1024 * 1024, description="Largest accepted request body (413 above).", ge=1024
    )
    host: str = Field("127.0.0.1", description="Address the HTTP server binds.")
    port: int = Field(8000, description="Port the HTTP server binds.", ge=1, le=65535)
    web_dir: Path = Field(_REPO_ROOT / "web", description="Static web pages served at /.")
    models_dir: Path = Field(
        _REPO_ROOT / "models",
        description="Directory the worker loads the detector from (the shipped model's file name in it).",
    )
    camera_deny_networks: list[IPvAnyNetwork] = Field(
        default_factory=lambda: list(CameraNetworkPolicy().deny),
        max_length=256,
        description="CIDRs cameras may not be at (JSON list). Default: link-local and cloud metadata "
        f"addresses, multicast, reserved: {', '.join(DEFAULT_DENY_NETWORKS)}.",
    )
    camera_allow_networks: list[IPvAnyNetwork] = Field(
        default_factory=list,
        max_length=256,
        description="CIDRs allowed even inside a denied network, e.g. a site's own link-local camera "
        'network (JSON list, e.g. ["169.254.10.0/24"]).',
    )

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> Settings:
        secret = self.secret_key.get_secret_value()
        if secret == DEFAULT_SECRET:
            if not self.dev_mode:
                raise ValueError(
                    "SITEAUDIT_SECRET_KEY is still the default 'change-me'; set it to a random value, e.g. "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(32))'` (or set "
                    "SITEAUDIT_DEV_MODE=1 for a throwaway per-process key)"
                )
            # Dev mode: a fresh random key per process; tokens simply do not survive a restart.
            self.secret_key = SecretStr(secrets.token_urlsafe(MIN_SECRET_LENGTH))
        elif len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"SITEAUDIT_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters long")
        s3_ready = self.s3_endpoint and self.s3_access_key and self.s3_secret_key
        if self.storage_backend == "s3" and not s3_ready:
            raise ValueError(
                "storage_backend 's3' needs SITEAUDIT_S3_ENDPOINT, SITEAUDIT_S3_ACCESS_KEY and "
                "SITEAUDIT_S3_SECRET_KEY"
            )
        return self

    @property
    def camera_network_policy(self) -> CameraNetworkPolicy:
        """Which addresses cameras may be at: applied by the API (IP literals) and the worker (resolved)."""
        return CameraNetworkPolicy(
            deny=tuple(self.camera_deny_networks), allow=tuple(self.camera_allow_networks)
        )

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the SQLite file inside data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'siteaudit.db').resolve()}"
