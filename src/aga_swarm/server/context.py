"""What the routes share: settings, the SwarmService, the store, the realtime hub and the login limiter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from ..api import SwarmService
from ..store.database import Database
from .ratelimit import LoginLimiter
from .settings import Settings

if TYPE_CHECKING:
    from .realtime import Realtime

T = TypeVar("T")


@dataclass
class ServerContext:
    settings: Settings
    service: SwarmService
    realtime: Realtime
    limiter: LoginLimiter

    @property
    def db(self) -> Database:
        return self.service.db

    async def offload(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a blocking store call off the event loop (reads, and writes that publish no events)."""
        return await run_in_threadpool(fn, *args, **kwargs)


def get_ctx(request: Request) -> ServerContext:
    ctx: ServerContext | None = getattr(request.app.state, "ctx", None)
    if ctx is None:  # pragma: no cover - only when the app runs without its lifespan
        raise RuntimeError("the server is not started (lifespan did not run)")
    return ctx
