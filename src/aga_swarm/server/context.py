"""What the routes share: settings, the SwarmService, the store, the realtime hub and the account limiters."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request

from ..service import SwarmService
from ..store import accounts
from ..store.accounts import Session
from ..store.database import Database
from .cache import StateCache
from .hashgate import HashGate
from .quotas import Quotas
from .ratelimit import LoginLimiter, SignupLimiter
from .realtime import Realtime
from .settings import Settings

T = TypeVar("T")
SESSION_CACHE_MAX = 50_000
"""Sessions kept in the cache; past it the oldest goes."""
OFFLOAD_THREADS = 40
"""Threads for blocking store calls (anyio's default thread limit, which ``run_in_threadpool`` used)."""


def _offload_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=OFFLOAD_THREADS, thread_name_prefix="aga-offload")


@dataclass
class ServerContext:
    settings: Settings
    service: SwarmService
    realtime: Realtime
    limiter: LoginLimiter
    signups: SignupLimiter
    states: StateCache
    hashes: HashGate
    quotas: Quotas = field(default_factory=Quotas)
    _sessions: dict[str, tuple[float, Session]] = field(default_factory=dict)
    _pool: ThreadPoolExecutor = field(default_factory=_offload_pool)

    @property
    def db(self) -> Database:
        return self.service.db

    async def offload(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a blocking store call on the thread pool, off the event loop, in a copy of the caller's context
        (a request's trace span). A plain executor, not anyio's ``to_thread`` (``run_in_threadpool``): that
        one's cancel scope and capacity limiter cost about as much as the hand-off itself, on every reply."""
        call = functools.partial(fn, *args, **kwargs) if kwargs else fn
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, contextvars.copy_context().run, call, *(() if kwargs else args))

    async def write(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a blocking store write (a reply) where it costs least: on SQLite, on the runner's own thread,
        between its operations; elsewhere (PostgreSQL, no runner thread) as ``offload`` does.

        SQLite has one writer: a reply's transaction on an offload thread only waited for the runner's
        transaction to let go of the write lock, and took turns at the GIL with it. On the runner's loop it
        runs between the runner's operations instead, and the model call it hands over (``Runner.adopt``)
        starts on that same loop with no thread hop; the answers of the model calls that start together
        then commit together (``GroupCommit.commit_together``). With the runner on this very loop
        (``runner_thread`` off) it runs right here, inline."""
        runner = self.service.runner
        target = runner.loop
        here = asyncio.get_running_loop()
        if not (self.db.is_sqlite and runner.accepts_handoff()) or target is None:
            return await self.offload(fn, *args, **kwargs)
        if target is here:  # the runner is a task on this loop (``runner_thread`` off): no hand-off at all
            return contextvars.copy_context().run(fn, *args, **kwargs)
        done: asyncio.Future[Any] = here.create_future()
        context = contextvars.copy_context()

        def call() -> None:
            try:
                result = context.run(fn, *args, **kwargs)
            except BaseException as exc:  # handed to the awaiting request, as the thread pool's future does
                here.call_soon_threadsafe(_settle, done, None, exc)
            else:
                here.call_soon_threadsafe(_settle, done, result, None)

        try:
            target.call_soon_threadsafe(call)
        except RuntimeError:  # the runner's loop closed meanwhile (the server is stopping)
            return await self.offload(fn, *args, **kwargs)
        return await done

    def close(self) -> None:
        """Let the offload threads go once the calls already handed to them are done."""
        self._pool.shutdown(wait=True)

    async def resolve_session(self, token: str) -> Session | None:
        """The live session for a token, from a short in-process cache or the store."""
        ttl = self.settings.session_cache_seconds
        hashed = accounts.token_hash(token)
        now = time.time()
        hit = self._sessions.get(hashed)
        if hit is not None and now - hit[0] < ttl and hit[1].expires_at.timestamp() > now:
            return hit[1]
        session: Session | None = await self.offload(accounts.resolve_session, self.db, token)
        if session is None:
            self._sessions.pop(hashed, None)
        elif ttl > 0:
            cache = self._sessions
            cache.pop(hashed, None)
            cache[hashed] = (now, session)  # newest last
            if len(cache) > SESSION_CACHE_MAX:
                del cache[next(iter(cache))]  # the oldest
        return session

    def forget_session(self, token_hash: str) -> None:
        self._sessions.pop(token_hash, None)


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.done():  # the request went away (cancelled) meanwhile: the write stands, nobody awaits it
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


async def get_ctx(request: Request) -> ServerContext:
    """The server's context (a dependency of every route). ``async`` so FastAPI calls it on the event loop: a
    plain function dependency runs on the thread pool, a thread hand-off per request for an attribute read."""
    ctx: ServerContext | None = getattr(request.app.state, "ctx", None)
    if ctx is None:  # pragma: no cover - only when the app runs without its lifespan
        raise RuntimeError("the server is not started (lifespan did not run)")
    return ctx
