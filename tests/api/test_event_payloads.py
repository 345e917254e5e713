"""Through a real server: every event of a scripted run, as the socket pushed it and as the history endpoint pages
it, validates against its type's payload model (the union the OpenAPI document exports as ``SwarmEvent``)."""

from __future__ import annotations

from aga_swarm.schemas import EventType
from aga_swarm.schemas.events import validate_event

from ..engine.helpers import EVERY_EVENT_GOAL
from .helpers import Recorder, Server, create_swarm, full_history, poll, signup, status_event


async def test_every_event_the_api_sends_validates_against_its_model(server: Server) -> None:
    acct = await signup(server)
    rec = await Recorder(server).connect(acct.token)
    try:
        async with acct.http() as http:
            sid = (await create_swarm(http, EVERY_EVENT_GOAL))["id"]
            r = await http.put(f"/api/swarms/{sid}/auto_approve", json={"enabled": True, "tool": "memory.write"})
            assert r.status_code == 200, r.text
            assert (await http.post(f"/api/swarms/{sid}/pause")).status_code == 200
            assert (await http.post(f"/api/swarms/{sid}/resume")).status_code == 200

            async def answer_or_done() -> bool:
                swarm = (await http.get(f"/api/swarms/{sid}")).json()
                if swarm["status"] != "running":
                    return True
                for chat in (await http.get(f"/api/swarms/{sid}/chats")).json():
                    if chat["status"] == "awaiting_user":
                        r = await http.post(f"/api/swarms/{sid}/chats/{chat['id']}/messages",
                                            json={"content": "Blue, like the sea."})
                        assert r.status_code == 202, r.text
                return False

            await poll(answer_or_done, timeout=120, interval=0.2, what="the swarm to end")
            await rec.wait_event(sid, status_event("completed"), timeout=30, what="completion")
            history = await full_history(http, sid, limit=40)
            await rec.quiet(sid, 0.2)
            pushed = rec.swarm_events(sid)
    finally:
        await rec.close()
    assert [e["seq"] for e in pushed] == [e["seq"] for e in history] == list(range(1, len(history) + 1))
    for event in [*history, *pushed]:
        validate_event(event)
    assert {e["type"] for e in history} == {t.value for t in EventType}, "the run covers every event type"
