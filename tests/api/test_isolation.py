"""Two users each run a swarm: each sees only their own swarms, chats, nodes and events; every attempt on
the other's ids answers 404, exactly like a missing id."""

from __future__ import annotations

import httpx

from .helpers import Account, Recorder, Server, agent_message, awaiting_chat, create_swarm, signup

GOAL = "Ask the user for their favourite fruit\nDescribe an apple"


def routes(sid: str, chat_id: str, node_id: str) -> list[tuple[str, str, dict | None]]:  # type: ignore[type-arg]
    base = f"/api/swarms/{sid}"
    return [
        ("GET", base, None),
        ("PATCH", base, {"name": "stolen"}),
        ("POST", f"{base}/spawn", None),
        ("POST", f"{base}/pause", None),
        ("PUT", f"{base}/auto_approve", {"enabled": True}),
        ("POST", f"{base}/resume", None),
        ("POST", f"{base}/clone", None),
        ("POST", f"{base}/clone", {"at_seq": 1}),
        ("GET", f"{base}/state", None),
        ("GET", f"{base}/state?at=1", None),
        ("GET", f"{base}/history", None),
        ("GET", f"{base}/history?after=0&limit=5", None),
        ("GET", f"{base}/nodes/{node_id}", None),
        ("GET", f"{base}/nodes/n", None),
        ("GET", f"{base}/chats", None),
        ("GET", f"{base}/chats/{chat_id}/messages", None),
        ("POST", f"{base}/chats/{chat_id}/messages", {"content": "an intruder's reply"}),
        ("DELETE", base, None),
    ]


async def _attempts(http: httpx.AsyncClient, sid: str, chat_id: str, node_id: str) -> list[tuple[str, str, int, str]]:
    out = []
    for method, url, body in routes(sid, chat_id, node_id):
        r = await http.request(method, url, json=body)
        out.append((method, url, r.status_code, r.json().get("detail", "")))
    return out


async def test_users_are_isolated(server: Server) -> None:
    alice: Account = await signup(server)
    bob: Account = await signup(server)
    rec_a = await Recorder(server).connect(alice.token)
    rec_b = await Recorder(server).connect(bob.token)
    try:
        async with alice.http() as ha, bob.http() as hb:
            sa = await create_swarm(ha, GOAL)
            sb = await create_swarm(hb, GOAL)
            chat_a = await awaiting_chat(ha, sa["id"])
            chat_b = await awaiting_chat(hb, sb["id"])
            await rec_a.wait_event(sa["id"], agent_message(), what="alice's question")
            await rec_b.wait_event(sb["id"], agent_message(), what="bob's question")

            # lists show only one's own
            assert [s["id"] for s in (await ha.get("/api/swarms")).json()["items"]] == [sa["id"]]
            assert [s["id"] for s in (await hb.get("/api/swarms")).json()["items"]] == [sb["id"]]

            # every route, with the other's ids: 404, the same as for an id that does not exist
            for victim, attacker, chat in ((sa, hb, chat_a), (sb, ha, chat_b)):
                for method, url, status, _ in await _attempts(attacker, victim["id"], chat["id"], chat["node_id"]):
                    assert status == 404, f"{method} {url} answered {status}"
                missing = await _attempts(attacker, "s0000000000000000", chat["id"], chat["node_id"])
                assert [m[2] for m in missing] == [404] * len(missing)

            # own ids work, and nothing of the victims' changed
            for http, swarm, chat in ((ha, sa, chat_a), (hb, sb, chat_b)):
                r = await http.get(f"/api/swarms/{swarm['id']}")
                assert r.status_code == 200
                assert r.json()["status"] == "running" and r.json()["name"] == swarm["name"]
                msgs = (await http.get(f"/api/swarms/{swarm['id']}/chats/{chat['id']}/messages")).json()
                assert [m["role"] for m in msgs] == ["agent"]
                r = await http.get(f"/api/swarms/{swarm['id']}/nodes/{chat['node_id']}")
                assert r.status_code == 200
            assert [s["id"] for s in (await ha.get("/api/swarms")).json()["items"]] == [sa["id"]]

            # both finish; each socket saw only its own user's events and notices
            for http, swarm, chat in ((ha, sa, chat_a), (hb, sb, chat_b)):
                r = await http.post(f"/api/swarms/{swarm['id']}/chats/{chat['id']}/messages",
                                    json={"content": "Mango, thanks"})
                assert r.status_code == 202
            await rec_a.wait_notice(sa["id"], "finished")
            await rec_b.wait_notice(sb["id"], "finished")
            assert rec_a.events and {e["swarm_id"] for e in rec_a.events} == {sa["id"]}
            assert rec_b.events and {e["swarm_id"] for e in rec_b.events} == {sb["id"]}
            assert {n["swarm_id"] for n in rec_a.notices} == {sa["id"]}
            assert {n["swarm_id"] for n in rec_b.notices} == {sb["id"]}
    finally:
        await rec_a.close()
        await rec_b.close()
