"""Per-user limits the operator sets (``AGA_SWARM_QUOTA_*``): swarms held, swarms running, forks per hour, and
stored bytes. Past one, the request is refused with 429 and a sentence naming the limit.

The checks of one user run one at a time in this process (a lock per user), so a burst of parallel creates
cannot slip past a limit together; across several server processes a burst can overshoot by at most one
request per process.
"""

from __future__ import annotations

import time
import weakref
from asyncio import Lock
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import HTTPException

from ..service import OwnerUsage, SwarmService
from .settings import Settings


class QuotaSource(Protocol):
    """What the checks need of the server's context (``ServerContext``)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def service(self) -> SwarmService: ...
    async def offload(self, fn: Any, *args: Any, **kwargs: Any) -> Any: ...

FORK_WINDOW_SECONDS = 3600.0


class QuotaExceeded(HTTPException):
    def __init__(self, reason: str) -> None:
        super().__init__(429, reason)


class Quotas:
    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def guard(self, ctx: QuotaSource, user_id: str, *, new_swarm: bool = False, run: bool = False,
                    fork: bool = False) -> AsyncIterator[OwnerUsage]:
        """Check the user's limits for what the request is about to do, and hold their lock while it does it."""
        lock = self._locks.get(user_id)
        if lock is None:
            lock = self._locks[user_id] = Lock()
        async with lock:
            usage: OwnerUsage = await ctx.offload(ctx.service.owner_usage, user_id,
                                                  forks_since=time.time() - FORK_WINDOW_SECONDS)
            s = ctx.settings
            if new_swarm and usage.swarms >= s.quota_swarms:
                raise QuotaExceeded(f"you have {usage.swarms} swarms, the most one user may hold here "
                                    f"({s.quota_swarms}); delete some to make room")
            if new_swarm and usage.stored_bytes >= s.quota_stored_bytes:
                raise QuotaExceeded(f"your swarms store {usage.stored_bytes:,} bytes, the most one user may store "
                                    f"here ({s.quota_stored_bytes:,}); delete some to make room")
            if fork and usage.forks >= s.quota_forks_per_hour:
                raise QuotaExceeded(f"you made {usage.forks} forks in the last hour, the most one user may make "
                                    f"here ({s.quota_forks_per_hour} per hour); try again later")
            if run and usage.running >= s.quota_running_swarms:
                raise QuotaExceeded(f"you have {usage.running} swarms running, the most one user may run at once "
                                    f"here ({s.quota_running_swarms}); pause or wait for one to finish")
            yield usage
