"""Bad input: 413 for oversized bodies, 422 with field errors, 404 for unknown ids, never a 500; plus the
remaining swarm routes (configs, edit, delete, clone, history paging)."""

from __future__ import annotations

import pytest

from .helpers import Server, awaiting_chat, create_swarm, full_history, signup

MAX_BODY = 1_048_576  # AGA_SWARM_MAX_BODY_BYTES default


async def test_oversized_body_413(server: Server) -> None:
    acct = await signup(server)
    async with acct.http() as http:
        big = b'{"goal": "' + b"x" * MAX_BODY + b'"}'
        r = await http.post("/api/swarms", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and "too large" in r.json()["detail"]

        async def chunks():  # type: ignore[no-untyped-def]
            yield b'{"goal": "'
            for _ in range(20):
                yield b"y" * 65536
            yield b'"}'

        r = await http.post("/api/swarms", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413
        # a body under the limit but over the engine's goal limit is a 422, not a 500
        r = await http.post("/api/swarms", json={"goal": "z" * 200_000})
        assert r.status_code == 422 and "too long" in r.json()["detail"][0]["msg"]


@pytest.mark.parametrize("method, url, body, loc", [
    ("POST", "/api/swarms", {}, ["body", "goal"]),
    ("POST", "/api/swarms", {"goal": ""}, ["body", "goal"]),
    ("POST", "/api/swarms", {"goal": 42}, ["body", "goal"]),
    ("POST", "/api/swarms", {"goal": "x", "owner_id": "u1"}, ["body", "owner_id"]),
    ("POST", "/api/swarms", {"goal": "x", "status": "running"}, ["body", "status"]),
    ("POST", "/api/swarms", {"goal": "x", "config": "../etc"}, ["body", "config"]),
    ("POST", "/api/swarms", {"goal": "x", "config": "no-such-config"}, ["body", "config"]),
    ("POST", "/api/swarms", ["goal"], ["body"]),
    ("POST", "/api/swarms", {"goal": "   \x00\x01  "}, []),
])
async def test_create_swarm_422(server: Server, method: str, url: str, body: object, loc: list[str]) -> None:
    acct = await signup(server)
    async with acct.http() as http:
        r = await http.request(method, url, json=body)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, list) and detail[0]["loc"] == loc and detail[0]["msg"]


async def test_invalid_json_and_params(server: Server) -> None:
    acct = await signup(server)
    async with acct.http() as http:
        r = await http.post("/api/swarms", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid"
        sw = await create_swarm(http, "Do one thing", spawn=False)
        sid = sw["id"]
        for params in ({"after": -1}, {"after": "x"}, {"limit": 0}, {"limit": 10_001}, {"after": 10**20}):
            r = await http.get(f"/api/swarms/{sid}/history", params=params)
            assert r.status_code == 422, (params, r.text)
        for params in ({"at": -1}, {"at": 10**20}, {"at": "now"}):
            assert (await http.get(f"/api/swarms/{sid}/state", params=params)).status_code == 422
        r = await http.get(f"/api/swarms/{sid}/state", params={"at": 5})  # beyond the last seq
        assert r.status_code == 422 and "seq must be between" in r.json()["detail"][0]["msg"]
        for params in ({"at": -1}, {"at": 10**20}, {"at": "now"}, {"at": 5}):
            assert (await http.get(f"/api/swarms/{sid}/nodes/n", params=params)).status_code == 422, params
        assert (await http.patch(f"/api/swarms/{sid}", json={"status": "completed"})).status_code == 422
        assert (await http.patch(f"/api/swarms/{sid}", json={"owner_id": "someone"})).status_code == 422
        assert (await http.patch(f"/api/swarms/{sid}", json={"name": ""})).status_code == 422
        assert (await http.post(f"/api/swarms/{sid}/clone", json={"at_seq": -3})).status_code == 422
        assert (await http.post(f"/api/swarms/{sid}/clone", json={"at_seq": 99})).status_code == 422
        # malformed ids
        for bad in ("a%00b", "x" * 201, "a%20b", "%E2%9C%93"):
            r = await http.get(f"/api/swarms/{bad}")
            assert r.status_code in (404, 422), (bad, r.status_code)
        assert (await http.get("/api/swarms/s0000/chats/chat-n/messages")).status_code == 404
        assert (await http.get(f"/api/swarms/{sid}/chats/nope/messages")).status_code == 404
        assert (await http.get(f"/api/swarms/{sid}/nodes/n.9")).status_code == 404
        r = await http.post(f"/api/swarms/{sid}/chats/nope/messages", json={"content": "hi"})
        assert r.status_code == 404
        r = await http.post(f"/api/swarms/{sid}/chats/nope/messages", json={"content": ""})
        assert r.status_code == 422
        assert (await http.get("/api/nothing-here")).status_code == 404
        assert (await http.put("/api/swarms")).status_code == 405


async def test_swarm_crud_configs_clone_and_paging(server: Server) -> None:
    acct = await signup(server)
    async with acct.http() as http:
        configs = (await http.get("/api/configs")).json()
        assert "local" in [c["id"] for c in configs]

        draft = await create_swarm(http, "Ask the user which city\nDo a plan", spawn=False, name="Trip")
        assert draft["status"] == "draft" and draft["name"] == "Trip" and draft["owner_id"] == acct.id
        r = await http.patch(f"/api/swarms/{draft['id']}", json={"goal": "Ask the user which city\nBook a hotel"})
        assert r.status_code == 200 and r.json()["goal"].endswith("Book a hotel")
        copy = (await http.post(f"/api/swarms/{draft['id']}/clone", json={"name": "Trip B"})).json()
        assert copy["status"] == "draft" and copy["goal"] == r.json()["goal"] and copy["name"] == "Trip B"
        listed = [s["id"] for s in (await http.get("/api/swarms")).json()["items"]]
        assert listed == [copy["id"], draft["id"]]  # newest first

        r = await http.post(f"/api/swarms/{draft['id']}/spawn")
        assert r.status_code == 200
        await awaiting_chat(http, draft["id"])
        events = await full_history(http, draft["id"], limit=3)
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        fork = await http.post(f"/api/swarms/{draft['id']}/clone", json={"at_seq": 2})
        assert fork.status_code == 201
        f = fork.json()
        assert f["forked_from"] == draft["id"] and f["forked_at_seq"] == 2 and f["status"] == "paused"
        fstate = (await http.get(f"/api/swarms/{f['id']}/state")).json()
        assert fstate["seq"] == 2 and list(fstate["nodes"]) == ["n"]

        assert (await http.delete(f"/api/swarms/{f['id']}")).status_code == 204
        assert (await http.get(f"/api/swarms/{f['id']}")).status_code == 404
        assert (await http.delete(f"/api/swarms/{f['id']}")).status_code == 404


async def test_healthz_docs_and_openapi(server: Server) -> None:
    async with __import__("httpx").AsyncClient(base_url=server.url) as c:
        assert (await c.get("/healthz")).json() == {"status": "ok", "db": True}
        doc = (await c.get("/api/openapi.json")).json()
        assert "/api/swarms/{swarm_id}/chats/{chat_id}/messages" in doc["paths"]
        assert {"SwarmNotice", "SwarmEvent", "SwarmState"} <= set(doc["components"]["schemas"])
        r = await c.get("/api/docs")
        assert r.status_code == 200 and "swagger" in r.text.lower()


async def test_error_bodies_are_capped(server: Server) -> None:
    """A 759 KB login body with 70,000 unknown keys used to answer a 6.3 MB list of errors."""
    import json

    from .helpers import client

    body = {"username": "someone", "password": "whatever it is"}
    body.update({f"k{i:05d}": 1 for i in range(70_000)})
    raw = json.dumps(body, separators=(",", ":")).encode()
    assert 700_000 < len(raw) < 1_048_576
    long_key = {"username": "someone", "password": "whatever it is", "x" * 200_000: 1}
    async with client(server) as c:
        r = await c.post("/api/auth/login", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 422
        assert len(r.content) < 8_000, len(r.content)
        detail = r.json()["detail"]
        assert len(detail) == 21 and detail[-1] == {"loc": [], "msg": "... and 69980 more problems",
                                                    "type": "too_many_errors"}
        assert all(d["type"] == "extra_forbidden" for d in detail[:-1])
        r = await c.post("/api/auth/login", json=long_key)
        assert r.status_code == 422 and len(r.content) < 1_000
