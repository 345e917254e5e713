"""The server's in-process session cache (``ServerContext.resolve_session``): bounded, the oldest entry goes
first, and a session revoked through the server is forgotten at once (a session deleted from the store behind
the server's back lives on until the cache's time runs out: ``AGA_SWARM_SESSION_CACHE_SECONDS``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete

from aga_swarm.server import context
from aga_swarm.server.context import ServerContext
from aga_swarm.server.realtime import Realtime
from aga_swarm.server.settings import Settings
from aga_swarm.service import SwarmService
from aga_swarm.store import accounts
from aga_swarm.store import tables as t


def make_ctx(svc: SwarmService) -> ServerContext:
    settings = Settings()
    return ServerContext(settings=settings, service=svc, realtime=Realtime(settings), limiter=None,  # type: ignore[arg-type]
                         signups=None, states=None, hashes=None)  # type: ignore[arg-type]


def sessions(svc: SwarmService, n: int) -> list[accounts.IssuedSession]:
    out = []
    for i in range(n):
        user = accounts.create_user(svc.db, f"cache-user-{i}", "a long unguessable password", rounds=4)
        out.append(accounts.create_session(svc.db, user))
    return out


def delete_from_store(svc: SwarmService, issued: accounts.IssuedSession) -> None:
    with svc.db.tx() as conn:
        conn.execute(delete(t.sessions).where(t.sessions.c.token_hash == issued.session.token_hash))


async def test_the_cache_is_bounded_and_drops_its_oldest_entry(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "SESSION_CACHE_MAX", 2)
    svc = SwarmService(data_dir=tmp_path)
    try:
        ctx = make_ctx(svc)
        first, second, third = sessions(svc, 3)
        for issued in (first, second, third):
            found = await ctx.resolve_session(issued.token)
            assert found is not None and found.user.id == issued.session.user.id
        assert list(ctx._sessions) == [second.session.token_hash, third.session.token_hash]
        for issued in (first, third):
            delete_from_store(svc, issued)
        assert await ctx.resolve_session(first.token) is None  # dropped from the cache: read again, gone
        assert await ctx.resolve_session(third.token) is not None  # cached: deleted behind the server's back
        ctx.forget_session(third.session.token_hash)  # what a revocation through the server does
        assert await ctx.resolve_session(third.token) is None
    finally:
        svc.close()
