"""Server settings: defaults, overridden by ``AGA_SWARM_*`` environment variables (e.g. AGA_SWARM_IDLE_SECONDS)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..engine.memory import DEFAULT_UPLOAD_TYPES
from ..store.blob import check_blob_url
from ..store.errors import SetupError
from .gcwatch import GC_THRESHOLDS

ENV_PREFIX = "AGA_SWARM_"
STATIC_DIR = Path(__file__).parent / "static"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)

    data_dir: Path | None = Field(None, description="Embedded store directory (SQLite + blobs); "
                                  "default $AGA_SWARM_DATA or ~/.aga_swarm")
    db_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in data_dir")
    blob_url: str | None = Field(None, description="Blob store URL; default data_dir/blobs")
    db_auto_migrate: bool = Field(True, description="Migrate the database schema on startup (under a lock). "
                                  "False: refuse to start when the schema is behind the code; run "
                                  "`aga-swarm db upgrade` at deploy time")
    db_pool_size: int = Field(10, ge=1, description="PostgreSQL connections kept open per process")
    db_max_overflow: int = Field(20, ge=0, description="PostgreSQL connections opened beyond db_pool_size "
                                 "under load (closed when returned)")
    redis_url: str | None = Field(None, description="When set, Socket.IO fans out through Redis so any "
                                  "process can emit to any socket")
    redis_channel: str = Field("aga_swarm", min_length=1, description="Redis pub/sub channel (and key prefix)")
    session_ttl_seconds: float = Field(7 * 24 * 3600.0, gt=0)
    idle_seconds: float = Field(600.0, gt=0, description="A running swarm whose every working node waits on "
                                "the user this long gets an `idle` notice")
    idle_check_seconds: float | None = Field(None, gt=0, description="How often to look for idle swarms; "
                                             "default min(30, idle_seconds / 4)")
    max_body_bytes: int = Field(1_048_576, ge=1024)
    upload_max_file_bytes: int = Field(10 * 1024 * 1024, ge=1, description="Largest file the person may upload "
                                       "into a swarm's memory space (413 above)")
    upload_max_request_bytes: int = Field(25 * 1024 * 1024, ge=1024, description="Largest upload request (all "
                                          "its files together); it replaces max_body_bytes on upload routes")
    upload_max_files: int = Field(10, ge=1, le=100, description="Files one message (a reply, a tell, a goal) "
                                  "or one upload may carry (413 above)")
    upload_types: list[str] = Field(default_factory=lambda: list(DEFAULT_UPLOAD_TYPES), description="Content "
                                    "types accepted for uploads, comma-separated; each file's bytes must show "
                                    "its type (415 otherwise)")
    login_max_failures: int = Field(5, ge=1, description="Logins per (client address, username) within the "
                                    "window, counted before the password is checked; a success starts afresh")
    login_ip_max_failures: int = Field(50, ge=1, description="Failed logins per client address within the window")
    login_window_seconds: float = Field(300.0, gt=0)
    signup_ip_max: int = Field(20, ge=1, description="Signups per client address within the window (each "
                               "costs a bcrypt hash of CPU)")
    signup_window_seconds: float = Field(600.0, gt=0)
    session_purge_seconds: float = Field(3600.0, gt=0, description="How often expired sessions are deleted from "
                                         "the store")
    session_cache_seconds: float = Field(60.0, ge=0, description="Reuse a resolved session this long in-process "
                                         "(0: look it up on every request). Expiry is always exact, and a "
                                         "logout, 'log out everywhere' or password change is pushed to every "
                                         "process's cache at once (through Redis); only a session deleted "
                                         "from the store behind the server's back lives on this long")
    gil_switch_seconds: float = Field(0.001, gt=0, le=0.1, description="Python's thread switch interval in the "
                                      "server (sys.setswitchinterval): how long a waking thread may wait for "
                                      "the GIL")
    gc_freeze: bool = Field(True, description="Once started, move every object the server holds into Python's "
                            "permanent GC generation (gc.freeze), so full collections do not rescan modules "
                            "and the app")
    gc_thresholds: list[int] = Field(default_factory=lambda: list(GC_THRESHOLDS), min_length=3, max_length=3,
                                     description="Python's garbage collection thresholds (gc.set_threshold), "
                                     "comma-separated: allocations before a young collection, then young "
                                     "collections per middle one, middle ones per full one")
    state_cache_bytes: int = Field(64 * 1024 * 1024, ge=0, description="Memory for rendered states (by swarm "
                                   "and seq; a state at a seq never changes); 0 disables")
    cookie_secure: bool = Field(False, description="Mark the session cookie Secure (set behind HTTPS)")
    bcrypt_rounds: int = Field(12, ge=4, le=16)
    hash_concurrency: int = Field(default_factory=lambda: max(1, (os.cpu_count() or 2) // 2), ge=1,
                                  description="Password hashes (bcrypt) running at once; the rest of the cores "
                                  "stay free for other requests. Default: half the cores")
    hash_max_waiting: int = Field(64, ge=0, description="Logins and signups waiting for a hash slot; past this "
                                  "the answer is 503 with Retry-After")
    static_dir: Path = Field(STATIC_DIR, description="Where the built web app is served from")
    actions: list[str] = Field(default_factory=list, description="Modules of custom actions to import at start "
                               "(comma-separated), besides installed packages' 'aga_swarm.actions' entry points")
    cors_origins: list[str] = Field(default_factory=list, description="Extra origins allowed to open a socket "
                                    "(e.g. the Vite dev server); same-origin is always allowed")
    metrics: bool = Field(True, description="Serve Prometheus metrics at /metrics (no user data: counts, "
                          "latencies, queue depth; restrict it at the proxy if the port is public)")
    quota_swarms: int = Field(1000, ge=1, description="Swarms one user may hold (drafts, forks and copies too)")
    quota_running_swarms: int = Field(50, ge=1, description="Swarms of one user running at once")
    quota_forks_per_hour: int = Field(60, ge=1, description="Forks (clones at a seq) one user may make per hour")
    quota_stored_bytes: int = Field(1024**3, ge=1, description="Bytes one user may store (goals, messages, events "
                                    "and memory files); checked before anything a user sends is stored: a swarm "
                                    "created, copied or forked, a goal edited, a reply, a tell, an upload")
    run_workers: bool = Field(True, description="Run the operation runner in this process")
    runner_concurrency: int = Field(32, ge=1)
    runner_thread: bool = Field(True, description="Run the operation runner on a thread of its own (true) or on "
                                "the server's event loop (false: no thread hand-offs or turns at the GIL between "
                                "a reply and its model call, but a long batch of operations holds up HTTP and "
                                "the socket push until it is done)")
    log_level: str = "info"

    @field_validator("blob_url")
    @classmethod
    def _known_blob_store(cls, value: str | None) -> str | None:
        return None if value is None else check_blob_url(value)

    @field_validator("gc_thresholds")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(v < 1 for v in value):
            raise ValueError("each threshold must be at least 1")
        return value

    @field_validator("cors_origins", "actions", "upload_types", "gc_thresholds", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @property
    def idle_check_interval(self) -> float:
        if self.idle_check_seconds is not None:
            return self.idle_check_seconds
        return max(0.1, min(30.0, self.idle_seconds / 4))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``AGA_SWARM_<FIELD>`` variables; keyword overrides win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is not None and raw != "":
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as exc:  # one line per bad setting, named as the operator set it
            raise SettingsError("; ".join(
                f"{ENV_PREFIX}{str(err['loc'][0]).upper() if err['loc'] else ''}: "
                f"{err['msg'].removeprefix('Value error, ')}"
                for err in exc.errors())) from None


class SettingsError(SetupError, ValueError):
    """An ``AGA_SWARM_*`` setting that cannot work; the message names each bad one."""
