"""The realtime pump's ordering and notices, without a server."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from aga_swarm.schemas import EventType, SwarmEvent
from aga_swarm.server import realtime
from aga_swarm.server.realtime import Realtime, notices_for
from aga_swarm.server.settings import Settings


def ev(seq: int, swarm: str = "s1", type_: EventType = EventType.JOURNAL, **data: object) -> SwarmEvent:
    return SwarmEvent(swarm_id=swarm, seq=seq, ts=datetime.now(UTC), type=type_, data=dict(data))


def seqs(batches: list[tuple[str, list[SwarmEvent]]]) -> list[int]:
    return [e.seq for _, events in batches for e in events]


def test_batches_are_put_back_in_order() -> None:
    rt = Realtime(Settings())
    assert seqs(rt._accept(("u", [ev(1), ev(2)]))) == [1, 2]
    assert rt._accept(("u", [ev(5)])) == []  # gap: 3-4 missing
    assert rt._accept(("u", [ev(4)])) == []
    assert seqs(rt._accept(("u", [ev(3)]))) == [3, 4, 5]
    assert seqs(rt._accept(("u", [ev(1, "s2")]))) == [1]  # other swarms are independent
    assert not rt._held


def test_a_gap_that_never_fills_is_released(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rt = Realtime(Settings())
    rt._accept(("u", [ev(1)]))
    assert rt._accept(("u", [ev(7)])) == [] and rt._accept(("u", [ev(5)])) == []
    assert rt._release_expired() == []
    monkeypatch.setattr(realtime.time, "monotonic", lambda: time.monotonic_ns() / 1e9 + 1)
    assert seqs(rt._release_expired()) == [5, 7]
    assert seqs(rt._accept(("u", [ev(8)]))) == [8]


def test_no_holding_with_redis() -> None:
    rt = Realtime(Settings(redis_url="redis://127.0.0.1:6379/0"))
    rt._accept(("u", [ev(1)]))
    assert seqs(rt._accept(("u", [ev(9)]))) == [9]  # another process pushed 2-8


def test_notices() -> None:
    spawn = [ev(1, type_=EventType.SWARM_STATUS, status="running"),
             ev(2, type_=EventType.NODE_SPAWNED, node={"id": "n", "parent_id": None})]
    assert notices_for(spawn) == []
    assert notices_for([ev(3, type_=EventType.SWARM_STATUS, status="paused")]) == [
        {"swarm_id": "s1", "kind": "paused", "status": "paused"}]
    assert notices_for([ev(4, type_=EventType.SWARM_STATUS, status="running")])[0]["kind"] == "resumed"
    assert notices_for([ev(5, type_=EventType.SWARM_STATUS, status="failed")])[0]["kind"] == "finished"


async def test_the_session_sweep_spares_sockets_that_connect_while_it_queries() -> None:
    """The sweep asked the store which of its sockets' sessions were live and then judged every socket,
    including one that connected meanwhile (its session was not in the question, so not in the answer):
    that socket was cut. The store is stood in for by a function that lets a socket connect mid-query."""
    from types import SimpleNamespace

    rt = Realtime(Settings())
    cut: list[str] = []

    async def disconnect(sid: str) -> None:
        cut.append(sid)

    rt.sio.disconnect = disconnect  # type: ignore[method-assign]
    far = time.time() + 3600
    rt._sockets["old"] = realtime._Sock("u1", "hash-old", far)
    rt._sockets["gone"] = realtime._Sock("u2", "hash-gone", far)
    rt._by_session = {"hash-old": {"old"}, "hash-gone": {"gone"}}

    async def offload(fn, db, hashes):  # type: ignore[no-untyped-def]
        rt._sockets["new"] = realtime._Sock("u3", "hash-new", far)  # connects while the query runs
        rt._by_session["hash-new"] = {"new"}
        return {h for h in hashes if h != "hash-gone"}  # "hash-gone" was revoked

    rt._ctx = SimpleNamespace(offload=offload, db=None)  # type: ignore[assignment]
    await rt.sweep_sessions()
    assert cut == ["gone"]
