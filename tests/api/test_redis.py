"""Several server processes behind one store: with AGA_SWARM_REDIS_URL set, an event committed by one
process reaches a socket held by another (python-socketio's AsyncRedisManager)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

from .conftest import ApiBackend
from .helpers import Recorder, Server, agent_message, awaiting_chat, create_swarm, signup, status_event

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture(scope="module")
def redis_pair(api_backend: ApiBackend) -> Iterator[tuple[Server, Server]]:
    if not _redis_available():
        pytest.fail("Redis is not reachable at 127.0.0.1:6379")
    env = {"AGA_SWARM_REDIS_URL": REDIS_URL, "AGA_SWARM_REDIS_CHANNEL": f"aga_test_{uuid.uuid4().hex[:8]}"}
    data = api_backend.tmp_root / f"redis-shared-data-{api_backend.name}"
    store = api_backend.new_store()
    # process B serves HTTP only (no runner), so everything B commits is pushed by B, through Redis
    a = api_backend.start("redis-a", env, store=store, data_dir=data)
    b = api_backend.start("redis-b", {**env, "AGA_SWARM_RUN_WORKERS": "false"}, store=store, data_dir=data)
    yield a, b
    b.stop()
    a.stop()
    api_backend.drop_store(store)


async def test_events_cross_processes(redis_pair: tuple[Server, Server]) -> None:
    a, b = redis_pair
    acct = await signup(b)
    acct_on_a = acct.__class__(a, acct.user, acct.username, acct.password, acct.token)
    rec = await Recorder(a).connect(acct.token)  # the socket lives in process A
    batched = await Recorder(a, batch=True).connect(acct.token)  # and one that takes batches
    try:
        async with acct.http() as http_b, acct_on_a.http() as http_a:
            swarm = await create_swarm(http_b, "Ask the user for a name\nDo the paperwork")  # spawned via B
            sid = swarm["id"]
            # spawn's events were committed and emitted by B; A's socket has them
            await rec.wait_event(sid, lambda e: e["seq"] == 1 and e["type"] == "swarm_status",
                                 what="B's spawn event on A's socket")
            question = await rec.wait_event(sid, agent_message(), what="the question (run by A's runner)")
            chat = await awaiting_chat(http_a, sid)
            assert chat["id"] == question["data"]["message"]["chat_id"]
            # the reply goes to B; its events (B) and the resumed node's (A) all reach the socket
            r = await http_b.post(f"/api/swarms/{sid}/chats/{chat['id']}/messages", json={"content": "Ada"})
            assert r.status_code == 202
            await rec.wait_event(sid, lambda e: e["type"] == "message_posted"
                                 and e["data"]["message"]["role"] == "user", what="B's reply event")
            await rec.wait_event(sid, status_event("completed"), what="completion")
            await rec.wait_notice(sid, "finished")
            await rec.quiet(sid, 0.3)
            got = sorted(e["seq"] for e in rec.swarm_events(sid))
            assert got == list(range(1, got[-1] + 1)), "every event arrived exactly once"
            await batched.quiet(sid, 0.3)
            assert sorted(e["seq"] for e in batched.swarm_events(sid)) == got, "and once in batches"
            assert batched.singles == 0 and len(batched.packets) < len(got) and not rec.packets
    finally:
        await rec.close()
        await batched.close()


async def test_idle_notice_sent_once_across_processes(redis_pair: tuple[Server, Server]) -> None:
    a, _ = redis_pair
    acct = await signup(a)
    rec = await Recorder(a).connect(acct.token)
    try:
        async with acct.http() as http:
            swarm = await create_swarm(http, "Ask the user about a deadline")
            await rec.wait_notice(swarm["id"], "idle", timeout=10)
            await rec.quiet(swarm["id"], 1.0)
            await asyncio.sleep(1.0)
            idle = [n for n in rec.notices if n["swarm_id"] == swarm["id"] and n["kind"] == "idle"]
            assert len(idle) == 1, idle  # both processes look; Redis lets only one send
    finally:
        await rec.close()


async def test_a_socketless_worker_pushes_through_redis(redis_pair: tuple[Server, Server]) -> None:
    """What an `aga-swarm worker` process does: commit events and push them with RedisEmitter."""
    from datetime import UTC, datetime

    from aga_swarm.schemas import EventType, SwarmEvent
    from aga_swarm.server.realtime import RedisEmitter

    a, _ = redis_pair

    class FakeEngine:
        listeners: list = []  # type: ignore[type-arg]

    acct = await signup(a)
    rec = await Recorder(a).connect(acct.token)
    batched = await Recorder(a, batch=True).connect(acct.token)
    engine = FakeEngine()
    emitter = RedisEmitter(REDIS_URL, channel=a.env["AGA_SWARM_REDIS_CHANNEL"])
    await emitter.start(engine)
    try:
        now = datetime.now(UTC)
        events = [SwarmEvent(swarm_id="sX", seq=1, ts=now, type=EventType.JOURNAL, node_id="n",
                             data={"step": "s", "text": "hi"}),
                  SwarmEvent(swarm_id="sX", seq=2, ts=now, type=EventType.SWARM_STATUS,
                             data={"status": "completed", "reason": None})]
        for listener in engine.listeners:
            listener(acct.id, events)
            listener("someone-else", [events[0].model_copy(update={"swarm_id": "sY"})])
        await rec.wait_notice("sX", "finished")
        assert [e["seq"] for e in rec.swarm_events("sX")] == [1, 2]
        assert rec.swarm_events("sX")[0] == events[0].model_dump(mode="json")
        assert not rec.swarm_events("sY")
        await batched.wait_notice("sX", "finished")
        assert batched.packets == [[e.model_dump(mode="json") for e in events]] and batched.singles == 0
    finally:
        await emitter.stop(engine)
        await rec.close()
        await batched.close()
