"""Runtime configuration from SITEAUDIT_* environment variables (and an optional .env file)."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, IPvAnyNetwork, SecretStr, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

import audit_api
from audit_api.ice import DEFAULT_TURN_TTL_S, IceServer, check_ice_config
from ingest.urls import DEFAULT_DENY_NETWORKS, CameraNetworkPolicy

DEFAULT_SECRET = "change-me"
MIN_SECRET_LENGTH = 32  # HS256 wants a key at least as long as its digest (RFC 7518 §3.2)
_REPO_ROOT = Path(audit_api.__file__).resolve().parents[1]


# A CSP source expression naming an origin (host wildcards and a port wildcard allowed), nothing else.
CspOrigin = Annotated[str, Field(pattern=r"^https?://[A-Za-z0-9.*\[\]:-]+(:(\d{1,5}|\*))?$", max_length=300)]
_ENDPOINT = re.compile(r"(https?://)?[A-Za-z0-9.-]+(:\d{1,5})?|(https?://)?\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


def _json_list(value: object) -> object:
    """SITEAUDIT_ICE_SERVERS arrives as JSON text; a parse error is a validation error (one clear line)."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        return []
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at character {exc.pos})") from None


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
    access_token_minutes: int = Field(
        15, description="Access token lifetime; the pages renew it with the refresh token.", ge=1, le=24 * 60
    )
    refresh_token_hours: int = Field(
        12, description="A sign-in's refresh token lifetime (renewed on every refresh).", ge=1, le=24 * 90
    )
    login_account_failures: int = Field(
        5, description="Failed logins per account within login_account_window_s before 429.", ge=1, le=1000
    )
    login_account_window_s: int = Field(
        15 * 60, description="Moving window of login_account_failures, seconds.", ge=1, le=24 * 3600
    )
    login_address_attempts: int = Field(
        30, description="Login attempts per client address within login_address_window_s.", ge=1, le=100_000
    )
    login_address_window_s: int = Field(
        60, description="Moving window of login_address_attempts, seconds.", ge=1, le=24 * 3600
    )
    password_hash_workers: int = Field(
        2, description="Threads that verify passwords (argon2), apart from the request threads.", ge=1, le=32
    )
    password_hash_nice: int = Field(
        10,
        description="Linux nice value of the hashing threads (argon2's lane threads inherit it), so a login "
        "flood yields the CPU to other requests; 0 keeps the server's priority.",
        ge=0,
        le=19,
    )
    password_hash_queue: int = Field(
        8, description="Logins that may wait for a hashing thread; beyond that 429 at once.", ge=0, le=1000
    )
    storage_backend: Literal["local", "s3"] = Field("local", description="Where evidence objects live.")
    s3_endpoint: str | None = Field(None, description="host:port of the S3/MinIO endpoint.")
    s3_access_key: str | None = Field(None, description="S3 access key id.")
    s3_secret_key: SecretStr | None = Field(None, description="S3 secret key.")
    s3_bucket: str = Field("evidence", description="Evidence bucket.", min_length=3, max_length=63)
    s3_secure: bool = Field(False, description="Use HTTPS to reach S3.")
    s3_region: str | None = Field(None, description="S3 region (optional for MinIO).")
    s3_public_endpoint: str | None = Field(
        None,
        description="host:port or http(s)://host:port that browsers use to reach S3; presigned clip and "
        "snapshot URLs name it (the API and workers keep using s3_endpoint).",
        min_length=1,
    )
    s3_object_lock: bool = Field(True, description="Require (and create) the bucket with object lock (WORM).")
    evidence_short_retention_days: int = Field(
        30, description="Days every evidence object is kept after upload (the S3 COMPLIANCE lock set at "
        "upload, with object lock); unconfirmed evidence older than this is deleted by the retention job.",
        ge=1, le=3650,
    )  # fmt: skip
    evidence_long_retention_days: int = Field(
        1095, description="Days evidence is kept once an inspector confirms its event or signs it off "
        "(the lock is extended to this, counted from the confirmation; COMPLIANCE cannot be shortened).",
        ge=2, le=36500,
    )  # fmt: skip
    retention_job: bool = Field(
        True, description="Run the retention job (extend locks of confirmed evidence, delete expired "
        "unconfirmed evidence) from this API process.",
    )  # fmt: skip
    retention_poll_s: float = Field(
        3600.0, description="How often the retention job runs.", ge=1.0, le=86400.0
    )
    ice_servers: Annotated[list[IceServer], NoDecode, BeforeValidator(_json_list)] = Field(
        default_factory=list,
        description='STUN/TURN servers for WHIP as JSON: [{"urls": "turn:host:3478", "username"?, '
        '"credential"?}]; a TURN entry without credentials gets time-limited ones from turn_secret.',
        max_length=8,
    )
    turn_secret: SecretStr | None = Field(
        None, description="coturn's static-auth-secret: signs time-limited TURN credentials.", min_length=16
    )
    turn_ttl_s: int = Field(
        DEFAULT_TURN_TTL_S, description="Lifetime of issued TURN credentials (seconds).", ge=60, le=7 * 86400
    )
    worker_http_host: str = Field(
        "127.0.0.1", description="Address `siteaudit worker` binds its HTTP endpoint to (WHIP media "
        "signalling, live view, /api/health, /metrics).", min_length=1,
    )  # fmt: skip
    worker_http_port: int = Field(
        8100, description="Port of the worker's HTTP endpoint; 0 picks a free one (advertised in the "
        "camera leases, so the API routes to it).", ge=0, le=65535,
    )  # fmt: skip
    worker_public_url: str | None = Field(
        None,
        description="Base URL phones and the API use to reach this worker (written into its camera leases; "
        "the API redirects WHIP publishers there and forwards live view to it); `{host}` and `{port}` are "
        "filled in (this machine's host name, the bound port), so scaled replicas share one setting. "
        "Default: http://worker_http_host:port (the host name when bound to every address).",
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
    )
    worker_origins: list[CspOrigin] = Field(
        default_factory=list,
        max_length=32,
        description="Origins of the workers' public URLs (CSP sources, e.g. https://*.workers.example.org) "
        "that the phone page may connect to after the API's WHIP redirect (added to connect-src).",
    )
    max_cameras: int = Field(
        8, description="Deployed mode (PostgreSQL): most cameras one `siteaudit worker` leases; N workers "
        "spread the cameras. The embedded SQLite worker runs every camera.", ge=1, le=256,
    )  # fmt: skip
    lease_ttl_s: float = Field(
        9.0, description="Camera lease lifetime (seconds), renewed every third of it: a killed worker's "
        "cameras are claimed by another within about ttl + ttl/3.", ge=1.0, le=300.0,
    )  # fmt: skip
    takeover_continue_s: float = Field(
        60.0, description="A worker that takes a camera over (new lease epoch) continues the previous "
        "epoch's open event of the same kind instead of recording a second one, when it ended at most this "
        "many seconds before the new one started (covers lease expiry + restart).", ge=0.0, le=3600.0,
    )  # fmt: skip
    clip_segment_s: float = Field(
        60.0, description="A review item's whole span (pre-roll + span + post-roll) is stored as MP4 "
        "segments of at most this many seconds, each stored as soon as it is recorded.", ge=5.0, le=600.0,
    )  # fmt: skip
    max_upload_bytes: int = Field(
        10 * 1024 * 1024, description="Largest accepted request body (413 above).", ge=1024
    )
    max_photo_bytes: int = Field(
        8 * 1024 * 1024, description="Largest accepted photo of a corrective action's answer, per photo "
        "(413 above); the answer's request body may hold MAX_PHOTOS_PER_RESPONSE of them.",
        ge=1024, le=64 * 1024 * 1024,
    )  # fmt: skip
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

    live_max_viewers: int = Field(
        10, description="Live viewers per camera at once (in this worker process); one more gets 429.",
        ge=1, le=100,
    )  # fmt: skip
    live_max_fps: float = Field(
        5.0, description="Frames per second sent to each live viewer (the ring holds at most 10 fps).",
        ge=0.5, le=10.0,
    )  # fmt: skip
    live_token_seconds: int = Field(
        60, description="Lifetime of a live-view token (it only has to start a stream).", ge=10, le=3600
    )
    live_stall_timeout_s: float = Field(
        10.0, description="A live viewer that takes no frame for this long is disconnected.", ge=1, le=300
    )
    live_grid_idle_s: float = Field(
        10.0, description="A grid of thumbnails whose frames nobody fetched for this long has closed: its "
        "viewing is audited once (`live.grid_watched`).", ge=2, le=300,
    )  # fmt: skip
    live_max_session_s: float = Field(
        1800.0, description="A live stream ends after this long (the page asks for a new token).",
        ge=10, le=24 * 3600,
    )  # fmt: skip
    public_url: str | None = Field(
        None,
        description="Base URL people open the web app at (links in alert messages); default http://host:port.",
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
    )
    alert_sender: bool = Field(
        True, description="Run the alert delivery loop in this API process (safe on several replicas)."
    )
    alert_max_attempts: int = Field(8, description="Attempts per delivery before it is failed.", ge=1, le=100)
    alert_backoff_s: float = Field(
        10.0, description="Delay after the first failed attempt; doubles after each.", ge=0.05, le=3600
    )
    alert_backoff_max_s: float = Field(
        1800.0, description="Longest delay between two attempts of one delivery.", ge=0.05, le=86400
    )
    alert_timeout_s: float = Field(
        10.0, description="Time one delivery attempt may take (connect and read).", ge=0.1, le=120
    )
    alert_poll_s: float = Field(
        0.25, description="How often the sender looks for due deliveries.", ge=0.02, le=60
    )
    alert_concurrency: int = Field(
        4, description="Deliveries sent at once (a hanging receiver holds only one).", ge=1, le=64
    )
    alert_ack_link_s: int = Field(
        86400, description="How long the one-time acknowledge link in a message stays valid.", ge=60,
        le=30 * 86400,
    )  # fmt: skip
    alert_storm_cooldown_s: float = Field(
        300.0, description="Camera-offline messages per site: at most one per this window; what arrives "
        "meanwhile is folded into the next message, with its count.", ge=0.1, le=86400,
    )  # fmt: skip
    webpush_subject: str = Field(
        "mailto:alerts@siteaudit.invalid", description="VAPID `sub` claim: a mailto: or https: contact "
        "push services can reach the operator at.", pattern=r"^(mailto:|https://)\S+$", max_length=200,
    )  # fmt: skip

    report_scheduler: bool = Field(
        True, description="Generate the periodic site reports (PDF) from this API process; replicas never "
        "generate one report twice (a unique key per site and period).",
    )  # fmt: skip
    report_schedule: Literal["monthly", "weekly"] = Field(
        "monthly", description="Period of the scheduled site reports (the last complete one, site time)."
    )
    report_poll_s: float = Field(
        600.0, description="How often the report scheduler looks for a period without its report.",
        ge=1.0, le=86400.0,
    )  # fmt: skip
    report_lease_s: float = Field(
        900.0, description="A report claimed this long ago and still not stored (a crashed replica) is "
        "generated again by the next scheduler.", ge=10.0, le=86400.0,
    )  # fmt: skip

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

    @model_validator(mode="after")
    def _deployed_mode_consistent(self) -> Settings:
        check_ice_config(self.ice_servers, self.turn_secret.get_secret_value() if self.turn_secret else None)
        public = self.s3_public_endpoint
        if public is not None and not _ENDPOINT.fullmatch(public):
            raise ValueError(
                f"SITEAUDIT_S3_PUBLIC_ENDPOINT {public!r} must be host:port or http(s)://host[:port], no path"
            )
        if self.evidence_short_retention_days >= self.evidence_long_retention_days:
            raise ValueError(
                f"SITEAUDIT_EVIDENCE_SHORT_RETENTION_DAYS ({self.evidence_short_retention_days}) must be "
                f"shorter than SITEAUDIT_EVIDENCE_LONG_RETENTION_DAYS ({self.evidence_long_retention_days})"
            )
        return self

    @property
    def alert_lease_s(self) -> float:
        """How long a claimed delivery stays with its sender: well beyond one attempt's timeout."""
        return self.alert_timeout_s * 3 + 30

    @property
    def web_base_url(self) -> str:
        """The base URL of links in messages, without a trailing slash."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

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
