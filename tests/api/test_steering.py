"""Steering over HTTP: cancel, retry and tell a node; owner checks (404), states (409), empty messages (422),
and the events they make reach the owner's socket."""

from __future__ import annotations

from typing import Any

import httpx

from .helpers import Recorder, Server, awaiting_chat, create_swarm, poll, signup


async def ended(http: httpx.AsyncClient, sid: str) -> dict[str, Any]:
    """The swarm once it has completed or failed."""
    async def get() -> dict[str, Any] | None:
        s: dict[str, Any] = (await http.get(f"/api/swarms/{sid}")).json()
        return s if s["status"] in ("completed", "failed") else None

    found: dict[str, Any] = await poll(get, timeout=30, what="the swarm to end")
    return found


async def test_cancel_retry_and_tell_over_http(server: Server) -> None:
    acct = await signup(server)
    other = await signup(server)
    rec = await Recorder(server).connect(acct.token)
    try:
        async with acct.http() as http, other.http() as stranger:
            swarm = await create_swarm(http, "Ask the user for a colour\nWrite a haiku about it")
            sid = swarm["id"]
            chat = await awaiting_chat(http, sid)
            assert chat["node_id"] == "n.1"
            base = f"/api/swarms/{sid}/nodes"

            # foreign or unknown: 404, like a missing swarm
            for path in ("n.1/cancel", "n.1/retry"):
                r = await stranger.post(f"{base}/{path}")
                assert r.status_code == 404, r.text
            r = await stranger.post(f"{base}/n.1/tell", json={"content": "hi"})
            assert r.status_code == 404
            for path in ("n.7/cancel", "n.7/retry"):
                assert (await http.post(f"{base}/{path}")).status_code == 404
            assert (await http.post(f"{base}/n.7/tell", json={"content": "hi"})).status_code == 404

            # retry of a running node: 409 with the reason; an empty message: 422
            r = await http.post(f"{base}/n/retry")
            assert r.status_code == 409 and "only a failed or cancelled node" in r.json()["detail"]
            r = await http.post(f"{base}/n.2/tell", json={"content": "   "})
            assert r.status_code == 422 and "must not be empty" in str(r.json()["detail"])

            # tell the haiku (it has not asked): posted to its chat at once, pushed live
            r = await http.post(f"{base}/n.2/tell", json={"content": "use the word sea"})
            assert r.status_code == 202 and r.json()["chat_id"] == "chat-n.2" and r.json()["role"] == "user"
            await rec.wait_event(sid, lambda e: e["type"] == "message_posted"
                                 and e["data"]["message"]["content"] == "use the word sea", what="the told message")

            # while paused (nothing moves): cancel the question, then retry it; a new attempt asks again
            assert (await http.post(f"/api/swarms/{sid}/pause")).status_code == 200
            r = await http.post(f"{base}/n.1/cancel")
            assert r.status_code == 200 and r.json()["lifecycle"] == "cancelled"
            await rec.wait_event(sid, lambda e: e["type"] == "node_updated" and e["node_id"] == "n.1"
                                 and e["data"]["changes"].get("lifecycle") == "cancelled", what="the cancel")
            r = await http.post(f"{base}/n.1/cancel")
            assert r.status_code == 409 and "has ended" in r.json()["detail"]
            r = await http.post(f"{base}/n.1/retry")
            assert r.status_code == 200 and r.json()["attempt"] == 2
            r = await http.post(f"{base}/n.2/retry")  # cancelled with its prerequisite; waits for it again
            assert r.status_code == 200 and r.json()["lifecycle"] == "waiting_deps"
            assert (await http.post(f"/api/swarms/{sid}/resume")).status_code == 200
            chat = await awaiting_chat(http, sid)
            r = await http.post(f"/api/swarms/{sid}/chats/{chat['id']}/messages", json={"content": "blue"})
            assert r.status_code == 202

            assert (await ended(http, sid))["status"] == "completed"
            state = (await http.get(f"/api/swarms/{sid}/state")).json()
            report = state["nodes"]["n.2"]["report"]
            assert report == 'Done: "Write a haiku about it" (with: blue) (told: use the word sea)'
            r = await http.post(f"{base}/n.2/tell", json={"content": "too late"})
            assert r.status_code == 409 and "has ended" in r.json()["detail"]

            # the question's developer log keeps both attempts, each call saying which one made it
            calls = (await http.get(f"{base}/n.1")).json()["llm_calls"]
            attempts = [c["attempt"] for c in calls]
            assert attempts[0] == 1 and attempts[-1] == 2 and attempts == sorted(attempts), calls
            assert {c["replan"] for c in calls} == {0}
    finally:
        await rec.close()


async def test_retry_of_a_swarm_a_limit_stopped_answers_409_naming_the_limit(server: Server) -> None:
    acct = await signup(server)
    async with acct.http() as http:
        swarm = await create_swarm(http, "Plan: " * 13 + "write the last line")
        sid = swarm["id"]

        assert (await ended(http, sid))["failure_reason"] == "depth limit 8 reached at node n.1.1.1.1.1.1.1"
        r = await http.post(f"/api/swarms/{sid}/nodes/n/retry")
        assert r.status_code == 409, r.text
        detail = r.json()["detail"]
        assert detail.startswith("node n cannot be retried: the swarm stopped on its depth limit 8 (reached at node "
                                 "n.1.1.1.1.1.1.1)") and "limits.max_depth is above 8" in detail
        assert (await http.get(f"/api/swarms/{sid}")).json()["status"] == "failed"
