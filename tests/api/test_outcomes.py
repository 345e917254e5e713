"""The outcome of a swarm and what waits on the person, against a real server on SQLite and PostgreSQL: the list
items carry the beginning of a completed swarm's root report (or a failed one's reason) and how many chats wait
on a reply; `GET /api/swarms/{id}` carries the whole outcome."""

from __future__ import annotations

from typing import Any

import httpx

from aga_swarm.schemas import Limits, LLMSettings, SwarmConfig

from .helpers import Server, awaiting_chat, create_swarm, poll, signup

PREVIEW_CHARS = 280


async def finished(http: httpx.AsyncClient, swarm_id: str) -> dict[str, Any]:
    async def get() -> dict[str, Any] | None:
        s: dict[str, Any] = (await http.get(f"/api/swarms/{swarm_id}")).json()
        return s if s["status"] in ("completed", "failed") else None

    result: dict[str, Any] = await poll(get, 60, what=f"swarm {swarm_id} to finish")
    return result


async def listed(http: httpx.AsyncClient, swarm_id: str) -> dict[str, Any]:
    r = await http.get("/api/swarms")
    assert r.status_code == 200, r.text
    return next(s for s in r.json()["items"] if s["id"] == swarm_id)


async def test_outcome_and_waiting_count_in_the_list_and_the_swarm(server: Server) -> None:
    srv = server
    acct = await signup(srv)
    # a config whose limit fails a swarm of three subtasks (the root cannot spawn the third)
    svc = srv.open_store()
    try:
        svc.save_config(SwarmConfig(id="tiny", name="tiny", limits=Limits(max_nodes=2), llm=LLMSettings()),
                        owner_id=acct.id)
    finally:
        svc.close()
    async with acct.http() as http:
        # completed, with a long report: the list has its beginning, the swarm all of it
        lines = [f"Write line {k} of a long poem about the patient sea and its tides" for k in range(30)]
        done = await create_swarm(http, "\n".join(lines))
        # failed: the reason is the outcome
        failed = await create_swarm(http, "Write a haiku\nWrite a limerick\nWrite a sonnet", config="tiny")
        # two questions wait on the person
        asking = await create_swarm(http, "Ask the user which colour the poster uses\nAsk the user which size (after)")
        draft = await create_swarm(http, "Write a haiku", spawn=False)

        whole = await finished(http, done["id"])
        assert whole["status"] == "completed"
        root = (await http.get(f"/api/swarms/{done['id']}/nodes/{whole['root_node_id']}")).json()["node"]
        assert len(root["report"]) > PREVIEW_CHARS
        assert whole["outcome"] == root["report"] and whole["outcome_truncated"] is False
        item = await listed(http, done["id"])
        assert item["outcome_truncated"] is True
        assert item["outcome"].endswith("…") and len(item["outcome"]) <= PREVIEW_CHARS + 1
        assert item["outcome"][:-1].strip() in " ".join(root["report"].split())
        assert "line 0" in item["outcome"] and "line 29" not in item["outcome"]
        assert item["waiting_count"] == 0

        gone = await finished(http, failed["id"])
        assert gone["status"] == "failed" and gone["failure_reason"]
        assert gone["outcome"] == gone["failure_reason"]
        item = await listed(http, failed["id"])
        assert item["outcome"] == gone["failure_reason"] and item["outcome_truncated"] is False

        await awaiting_chat(http, asking["id"])

        async def two_waiting() -> bool:
            return bool((await listed(http, asking["id"]))["waiting_count"] == 2)

        await poll(two_waiting, 30, what="two chats awaiting the user")
        s = (await http.get(f"/api/swarms/{asking['id']}")).json()
        assert s["waiting_count"] == 2 and s["outcome"] is None
        chat = await awaiting_chat(http, asking["id"])
        r = await http.post(f"/api/swarms/{asking['id']}/chats/{chat['id']}/messages",
                            json={"content": "Blue, like the sea at noon."})
        assert r.status_code == 202, r.text

        async def one_waiting() -> bool:
            return bool((await listed(http, asking["id"]))["waiting_count"] == 1)

        await poll(one_waiting, 30, what="one chat awaiting the user")

        item = await listed(http, draft["id"])
        assert item["outcome"] is None and item["waiting_count"] == 0

    # another user sees none of it
    other = await signup(srv)
    async with other.http() as http:
        assert (await http.get("/api/swarms")).json()["items"] == []
        assert (await http.get(f"/api/swarms/{done['id']}")).status_code == 404
