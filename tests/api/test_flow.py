"""Swarms run through the API with the scripted model: the full conversation, races, pause/resume,
reconnect catch-up and the idle notice. Events are observed with a real Socket.IO client."""

from __future__ import annotations

import asyncio

from sqlalchemy import create_engine, text

from .helpers import (
    Recorder,
    Server,
    agent_message,
    awaiting_chat,
    create_swarm,
    full_history,
    signup,
    status_event,
)

GOAL = "Ask the user which colour the poster should use\nWrite a haiku about the sea\nList three facts about whales"


def seqs(events: list[dict]) -> list[int]:  # type: ignore[type-arg]
    return [e["seq"] for e in events]


async def full_run(server: Server) -> None:
    acct = await signup(server)
    rec = await Recorder(server).connect(acct.token)
    try:
        async with acct.http() as http:
            swarm = await create_swarm(http, GOAL)
            sid = swarm["id"]

            # the agent's question arrives over the socket
            first = await rec.wait_event(sid, agent_message(), what="the agent's question")
            msg = first["data"]["message"]
            chat_id = msg["chat_id"]
            assert "which colour" in msg["content"] and msg["index"] == 0
            chats = (await http.get(f"/api/swarms/{sid}/chats")).json()
            assert chats[0]["id"] == chat_id and chats[0]["status"] == "awaiting_user"
            assert chats[0]["awaiting_since"] is not None

            # a too-short reply gets a follow-up
            r = await http.post(f"/api/swarms/{sid}/chats/{chat_id}/messages", json={"content": "ok"})
            assert r.status_code == 202, r.text
            reply = r.json()
            assert reply["role"] == "user" and reply["content"] == "ok" and reply["reply_to"] == msg["id"]
            follow = await rec.wait_event(sid, agent_message(chat_id, 2), what="the follow-up")
            assert "more" in follow["data"]["message"]["content"]

            # a proper reply closes the chat and the swarm completes
            r = await http.post(f"/api/swarms/{sid}/chats/{chat_id}/messages",
                                json={"content": "Blue, like the sea at noon."})
            assert r.status_code == 202
            closing = await rec.wait_event(sid, agent_message(chat_id, 4), what="the closing message")
            assert "Thank you" in closing["data"]["message"]["content"]
            await rec.wait_event(sid, status_event("completed"), what="completion")
            notice = await rec.wait_notice(sid, "finished")
            assert notice == {"swarm_id": sid, "kind": "finished", "status": "completed"}

            state = (await http.get(f"/api/swarms/{sid}/state")).json()
            assert state["status"] == "completed"
            assert all(n["lifecycle"] == "done" for n in state["nodes"].values())
            assert len(state["nodes"]) == 4
            root = state["nodes"][state["root_node_id"]]
            assert "Blue, like the sea" in root["report"]
            chats = (await http.get(f"/api/swarms/{sid}/chats")).json()
            assert next(c for c in chats if c["id"] == chat_id)["status"] == "closed"
            messages = (await http.get(f"/api/swarms/{sid}/chats/{chat_id}/messages")).json()
            assert [m["role"] for m in messages] == ["agent", "user", "agent", "user", "agent"]

            node_id = msg["chat_id"].removeprefix("chat-")
            detail = (await http.get(f"/api/swarms/{sid}/nodes/{node_id}")).json()
            assert detail["node"]["id"] == node_id and detail["journal"]
            assert detail["llm_calls"] and detail["llm_calls"][0]["messages"], "prompts are in the developer log"

            # the socket saw exactly the history, in order
            history = await full_history(http, sid, limit=50)
            assert seqs(history) == list(range(1, state["seq"] + 1))
            await rec.quiet(sid, 0.2)
            assert seqs(rec.swarm_events(sid)) == seqs(history)
            assert rec.swarm_events(sid) == history

            # the state at a past seq comes from the fold
            asked = next(e for e in history if e["type"] == "chat_updated" and e["data"]["chat_id"] == chat_id
                         and e["data"]["changes"].get("status") == "awaiting_user")
            past = (await http.get(f"/api/swarms/{sid}/state", params={"at": asked["seq"]})).json()
            assert past["seq"] == asked["seq"] and past["status"] == "running"
            assert past["chats"][chat_id]["status"] == "awaiting_user"
            # and a node as it was then: the state's node, with the journal and model calls up to that point
            then = (await http.get(f"/api/swarms/{sid}/nodes/{node_id}", params={"at": asked["seq"]})).json()
            assert then["node"] == past["nodes"][node_id]
            assert then["journal"] == detail["journal"][:len(then["journal"])]
            assert len(then["journal"]) < len(detail["journal"])
            assert [c["id"] for c in then["llm_calls"]] == [
                e["data"]["id"] for e in history
                if e["type"] == "llm_call" and e["node_id"] == node_id and e["seq"] <= asked["seq"]]
    finally:
        await rec.close()


async def test_full_scripted_run(server: Server) -> None:
    await full_run(server)


async def test_reply_conflicts(server: Server) -> None:
    acct = await signup(server)
    async with acct.http() as http:
        swarm = await create_swarm(http, "Ask the user for a number\nCount to three")
        sid = swarm["id"]
        chat = await awaiting_chat(http, sid)

        # a chat that is not awaiting a reply
        r = await http.post(f"/api/swarms/{sid}/chats/chat-n/messages", json={"content": "hello there"})
        assert r.status_code == 409 and "not awaiting a reply" in r.json()["detail"]

        # two racing replies: exactly one wins
        url = f"/api/swarms/{sid}/chats/{chat['id']}/messages"
        results = await asyncio.gather(*(http.post(url, json={"content": f"answer number {i}"}) for i in range(2)))
        assert sorted(r.status_code for r in results) == [202, 409]
        loser = next(r for r in results if r.status_code == 409)
        assert "not awaiting a reply" in loser.json()["detail"]
        messages = (await http.get(f"/api/swarms/{sid}/chats/{chat['id']}/messages")).json()
        assert [m["role"] for m in messages].count("user") == 1

        # wrong status transitions are 409 with a reason
        r = await http.post(f"/api/swarms/{sid}/spawn")
        assert r.status_code == 409 and "only a draft" in r.json()["detail"]
        r = await http.post(f"/api/swarms/{sid}/resume")
        assert r.status_code == 409 and "only a paused" in r.json()["detail"]
        r = await http.patch(f"/api/swarms/{sid}", json={"goal": "new goal"})
        assert r.status_code == 409
        r = await http.patch(f"/api/swarms/{sid}", json={"name": "renamed while running"})
        assert r.status_code == 200 and r.json()["name"] == "renamed while running"


def _held_ops(server: Server, swarm_id: str) -> dict[str, int]:
    engine = create_engine(server.db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT status, count(*) FROM operations WHERE swarm_id = :s GROUP BY status"),
                                {"s": swarm_id}).all()
    finally:
        engine.dispose()
    return {status: count for status, count in rows}


async def test_pause_holds_and_resume_releases(server: Server) -> None:
    acct = await signup(server)
    rec = await Recorder(server).connect(acct.token)
    try:
        async with acct.http() as http:
            goal = "\n".join(f"Do task number {i}" for i in range(24))
            swarm = await create_swarm(http, goal)
            sid = swarm["id"]
            r = await http.post(f"/api/swarms/{sid}/pause")
            assert r.status_code == 200 and r.json()["status"] == "paused"
            assert await rec.wait_notice(sid, "paused") == {"swarm_id": sid, "kind": "paused", "status": "paused"}
            # operations already claimed may still commit; then nothing moves
            await rec.quiet(sid, 0.5)
            held_seq = (await http.get(f"/api/swarms/{sid}/state")).json()["seq"]
            count = len(rec.swarm_events(sid))
            await asyncio.sleep(1.0)
            assert len(rec.swarm_events(sid)) == count, "events arrived while paused"
            state = (await http.get(f"/api/swarms/{sid}/state")).json()
            assert state["seq"] == held_seq and state["status"] == "paused"
            ops = _held_ops(server, sid)
            assert ops.get("held", 0) > 0 and ops.get("queued", 0) == 0 and ops.get("running", 0) == 0, ops

            r = await http.post(f"/api/swarms/{sid}/resume")
            assert r.status_code == 200 and r.json()["status"] == "running"
            await rec.wait_notice(sid, "resumed")
            await rec.wait_event(sid, status_event("completed"), timeout=60, what="completion after resume")
            state = (await http.get(f"/api/swarms/{sid}/state")).json()
            assert state["status"] == "completed" and len(state["nodes"]) == 25
            assert _held_ops(server, sid).get("held", 0) == 0
    finally:
        await rec.close()


async def test_reconnect_catches_up_without_loss_or_repeats(server: Server) -> None:
    acct = await signup(server)
    async with acct.http() as http:
        goal = "\n".join(["Ask the user what to call the project"] + [f"Do chore {i}" for i in range(15)])
        rec = await Recorder(server).connect(acct.token)
        swarm = await create_swarm(http, goal)
        sid = swarm["id"]
        await rec.wait_for(lambda: len(rec.swarm_events(sid)) >= 8, what="a few events")
        await rec.close()
        seen = rec.swarm_events(sid)
        assert seqs(seen) == list(range(1, len(seen) + 1)), "the live stream is in order, without gaps"
        last_seen = seen[-1]["seq"]

        # while away, the swarm goes on until it waits on the user
        chat = await awaiting_chat(http, sid)
        async def settled() -> bool:
            state = (await http.get(f"/api/swarms/{sid}/state")).json()
            return sum(n["lifecycle"] == "done" for n in state["nodes"].values()) == 15
        for _ in range(100):
            if await settled():
                break
            await asyncio.sleep(0.1)

        # reconnect first (buffering live events), then catch up with history?after=
        rec2 = await Recorder(server).connect(acct.token)
        missed = await full_history(http, sid, after=last_seen, limit=7)
        assert missed and missed[0]["seq"] == last_seen + 1
        r = await http.post(f"/api/swarms/{sid}/chats/{chat['id']}/messages", json={"content": "Call it Orca"})
        assert r.status_code == 202
        await rec2.wait_event(sid, status_event("completed"), what="completion")
        await rec2.quiet(sid, 0.2)

        merged: dict[int, dict] = {}  # type: ignore[type-arg]
        for e in seen + missed + rec2.swarm_events(sid):
            assert merged.setdefault(e["seq"], e) == e, "the same seq must carry the same event"
        history = await full_history(http, sid)
        assert sorted(merged) == seqs(history) == list(range(1, history[-1]["seq"] + 1))
        live = rec2.swarm_events(sid)
        assert seqs(live) == sorted(set(seqs(live))), "no event is pushed twice"
        assert live[0]["seq"] > last_seen
        await rec2.close()


async def test_idle_notice_once_per_idle_period(server: Server) -> None:
    acct = await signup(server)
    rec = await Recorder(server).connect(acct.token)
    try:
        async with acct.http() as http:
            swarm = await create_swarm(http, "Ask the user about the deadline\nPlan: Ask the user about budget; "
                                             "Write the plan")
            sid = swarm["id"]
            await rec.wait_notice(sid, "idle", timeout=10)
            await asyncio.sleep(1.5)
            idle = [n for n in rec.notices if n["swarm_id"] == sid and n["kind"] == "idle"]
            assert idle == [{"swarm_id": sid, "kind": "idle", "status": "running"}]
            # answering one question makes progress; the swarm goes idle again later: a new idle period
            chat = await awaiting_chat(http, sid)
            r = await http.post(f"/api/swarms/{sid}/chats/{chat['id']}/messages", json={"content": "Next Friday"})
            assert r.status_code == 202
            await rec.wait_for(lambda: len([n for n in rec.notices if n["swarm_id"] == sid
                                            and n["kind"] == "idle"]) == 2, timeout=10, what="second idle")
    finally:
        await rec.close()
