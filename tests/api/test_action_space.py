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

