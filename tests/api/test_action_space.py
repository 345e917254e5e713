"""GET /api/swarms/{id}/actions against a real server that loads a plugin action and an operator's MCP server
(the filesystem server from npm): every folder and action is listed with its origin, input schema and approval
policy; the MCP server is named, but its command, arguments and environment never reach the browser; foreign
and unknown swarms answer 404."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ApiBackend
from .helpers import ROOT, Server, client, create_swarm, signup

FILESYSTEM = ROOT / "tests" / "mcp" / "node_modules" / ".bin" / "mcp-server-filesystem"
MARKER = "env-value-that-must-stay-on-the-server"


@pytest.fixture(scope="module")
def tools_server(api_backend: ApiBackend) -> Iterator[tuple[Server, Path]]:
    share = api_backend.tmp_root / f"share-folder-of-the-operator-{api_backend.name}"
    share.mkdir()
    config = api_backend.tmp_root / f"mcp-{api_backend.name}.json"
    config.write_text(json.dumps({"mcpServers": {"fs": {
        "command": str(FILESYSTEM), "args": [str(share)], "env": {"FS_MARKER": MARKER},
        "idempotent": ["read_text_file"], "policy": {"write_file": "deny"}}}}))
    srv = api_backend.start("actions", {
        "AGA_SWARM_MCP_CONFIG": str(config), "AGA_SWARM_ACTIONS": "aga_test_echo:register",
        "PYTHONPATH": str(ROOT / "tests" / "plugins")})
    yield srv, share
    srv.stop()


def _actions(folder: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {a["id"]: {**a, "folder": folder["path"]} for a in folder["actions"]}
    for sub in folder["folders"]:
        found.update(_actions(sub))
    return found


async def test_the_action_space_lists_every_action_with_what_it_takes(
        tools_server: tuple[Server, Path]) -> None:
    srv, share = tools_server
    ann, bob = await signup(srv), await signup(srv)
    async with ann.http() as http, bob.http() as other:
        swarm = await create_swarm(http, "Say hello", spawn=False)
        r = await http.get(f"/api/swarms/{swarm['id']}/actions")
        assert r.status_code == 200, r.text
        space = r.json()
        assert space["swarm_id"] == swarm["id"] and space["config_id"] == swarm["config_id"]
        actions = _actions(space["root"])
        # built-in actions take the directive only and call no tool
        assert actions["plan"]["origin"] == "built_in" and actions["plan"]["folder"] == "thinking"
        assert actions["do"]["input_schema"] is None and actions["do"]["approval"] is None
        # the memory tools, with their argument schemas
        write = actions["memory.write"]
        assert (write["origin"], write["folder"], write["read_only"]) == ("tool", "memory", False)
        assert set(write["input_schema"]["required"]) == {"path", "content"}
        assert actions["memory.read"]["approval"] == "auto"
        # the plugin's action
        assert (actions["echo"]["origin"], actions["echo"]["folder"]) == ("custom", "tools")
        # the MCP server's tools: its folder, MCP schema, policies (the operator's, else by readOnlyHint)
        fs = {k: v for k, v in actions.items() if v["origin"] == "mcp"}
        assert {"fs.read_text_file", "fs.write_file", "fs.list_directory"} <= set(fs)
        assert all(a["server"] == "fs" and a["folder"] == "fs" for a in fs.values())
        assert fs["fs.read_text_file"]["input_schema"]["properties"]["path"]["type"] == "string"
        assert (fs["fs.read_text_file"]["approval"], fs["fs.read_text_file"]["idempotent"]) == ("auto", True)
        assert fs["fs.write_file"]["approval"] == "deny" and fs["fs.write_file"]["read_only"] is False
        assert (fs["fs.edit_file"]["approval"], fs["fs.edit_file"]["idempotent"]) == ("ask", False)
        assert fs["fs.create_directory"]["idempotent"] is True  # its own idempotentHint
        # nothing of how the operator starts the server
        for secret in (str(FILESYSTEM), "mcp-server-filesystem", str(share), MARKER, "FS_MARKER"):
            assert secret not in r.text
        # owner checks: another user's swarm and an unknown one are both 404
        assert (await other.get(f"/api/swarms/{swarm['id']}/actions")).status_code == 404
        assert (await http.get("/api/swarms/s-unknown/actions")).status_code == 404
    async with client(srv) as anon:
        assert (await anon.get(f"/api/swarms/{swarm['id']}/actions")).status_code == 401



async def test_auto_approve_takes_only_the_swarms_tools_and_never_a_denied_one(
        tools_server: tuple[Server, Path]) -> None:
    """PUT /api/swarms/{id}/auto_approve checks the tool against the action space the view shows: an unknown one
    is 422 naming the nearest, one the operator's policy denies is 409; `*` and the memory tools are fine."""
    srv, _ = tools_server
    ann = await signup(srv)
    async with ann.http() as http:
        sid = (await create_swarm(http, "Say hello", spawn=False))["id"]
        url = f"/api/swarms/{sid}/auto_approve"
        r = await http.put(url, json={"enabled": True, "tool": "fs.edit_file"})  # ask: may be relaxed
        assert r.status_code == 200 and r.json() == {"auto_approve": ["fs.edit_file"]}
        r = await http.put(url, json={"enabled": True, "tool": "fs.edit_fle"})
        assert r.status_code == 422 and r.json()["detail"][0]["msg"].endswith("did you mean fs.edit_file?"), r.text
        r = await http.put(url, json={"enabled": True, "tool": "web.fetch"})  # no such server
        assert r.status_code == 422 and r.json()["detail"][0]["msg"].startswith("web.fetch is not a tool of this swarm")
        r = await http.put(url, json={"enabled": True, "tool": "fs.write_file"})
        assert r.status_code == 409 and "the operator's policy denies it" in r.json()["detail"], r.text
        r = await http.put(url, json={"enabled": False, "tool": "fs.write_file"})  # off: nothing to refuse
        assert r.status_code == 200
        for tool in ("memory.write", None):
            r = await http.put(url, json={"enabled": True, **({"tool": tool} if tool else {})})
            assert r.status_code == 200, r.text
        assert r.json() == {"auto_approve": ["*", "fs.edit_file", "memory.write"]}
