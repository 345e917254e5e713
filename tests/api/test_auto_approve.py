"""``PUT /api/swarms/{id}/auto_approve`` against a real server: the owner turns the switch on and off (the state
and the history show it), a foreign or missing swarm answers 404, a bad body or a tool the swarm does not have 422
with the reason."""

from __future__ import annotations

from .helpers import Server, create_swarm, full_history, signup


async def test_the_auto_approve_switch_over_http(server: Server) -> None:
    alice = await signup(server)
    bob = await signup(server)
    async with alice.http() as ha, bob.http() as hb:
        sid = (await create_swarm(ha, "Describe an apple", spawn=False))["id"]
        url = f"/api/swarms/{sid}/auto_approve"

        r = await ha.put(url, json={"enabled": True, "tool": "memory.write"})
        assert r.status_code == 200 and r.json() == {"auto_approve": ["memory.write"]}
        r = await ha.put(url, json={"enabled": True})
        assert r.json() == {"auto_approve": ["*", "memory.write"]}
        r = await ha.put(url, json={"enabled": False, "tool": "memory.write"})
        assert r.json() == {"auto_approve": ["*"]}
        assert (await ha.get(f"/api/swarms/{sid}/state")).json()["auto_approve"] == ["*"]
        switched = [e["data"] for e in await full_history(ha, sid) if e["type"] == "auto_approve"]
        assert switched == [{"tool": "memory.write", "enabled": True}, {"tool": "*", "enabled": True},
                            {"tool": "memory.write", "enabled": False}]

        # a tool this swarm does not have (no MCP server is declared here): 422 with the reason
        r = await ha.put(url, json={"enabled": True, "tool": "fs.write_file"})
        assert r.status_code == 422, r.text
        reason = r.json()["detail"][0]["msg"]
        assert reason.startswith("fs.write_file is not a tool of this swarm") and "memory.write" in reason
        for body in ({}, {"enabled": "yes"}, {"enabled": True, "extra": 1}, {"enabled": True, "tool": 3},
                     {"enabled": True, "tool": "rm -rf /"}, {"enabled": True, "tool": "x" * 300}):
            r = await ha.put(url, json=body)
            assert r.status_code == 422, body
            assert r.json()["detail"], body

        r = await hb.put(url, json={"enabled": True})  # bob's attempt on alice's swarm
        assert r.status_code == 404
        assert (await ha.get(f"/api/swarms/{sid}/state")).json()["auto_approve"] == ["*"]
        assert (await ha.put("/api/swarms/s0000000000000000/auto_approve", json={"enabled": True})).status_code == 404
