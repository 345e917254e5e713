"""The per-swarm auto-approve switch, on the engine (SQLite and PostgreSQL) with the real filesystem server: it
relaxes the operator's ``ask`` to ``auto`` in one swarm only, never ``deny``; turned on, it lets a call that
waits for approval proceed; it is an event of the history, so the fold, ``state_at`` and forks see it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aga_swarm.engine.errors import Conflict, InvalidInput, SwarmNotFound
from aga_swarm.engine.fold import fold
from aga_swarm.schemas import Lifecycle, MessageRole, SwarmState
from aga_swarm.service import AUTO_APPROVED
from tests.migrations import alembic_on, insert_swarm

from .test_tool_actions import FILESYSTEM, _config, _line, _service


async def test_auto_approve_relaxes_ask_in_one_swarm_only(backend: str, tmp_path: Path,
                                                          request: pytest.FixtureRequest) -> None:
    share = tmp_path / "share"
    share.mkdir()
    svc = _service(backend, tmp_path, request, _config(share, policy={"move_file": "deny"}))
    try:
        assert svc.engine.registry.tools["fs.write_file"].policy == "ask"
        mine = svc.create_swarm("u1", _line("fs.write_file", {"path": str(share / "a.md"), "content": "A"}))
        other = svc.create_swarm("u1", _line("fs.write_file", {"path": str(share / "b.md"), "content": "B"}))
        for s in (mine, other):
            svc.spawn(s.id)
            await svc.run_until_idle(s.id, timeout=120)
        waiting = svc.waiting_chats(mine.id)
        assert [c.node_id for c in waiting] == ["n.1"] and not (share / "a.md").exists()

        with pytest.raises(SwarmNotFound):  # someone else's swarm
            svc.set_auto_approve(mine.id, True, "fs.write_file", owner_id="u2")
        with pytest.raises(InvalidInput):
            svc.set_auto_approve(mine.id, True, "not a tool")
        # only the swarm's tools: the operator's declared servers' and the built-in memory tools; never a denied one
        with pytest.raises(InvalidInput, match=r"^fs\.wrte_file is not a tool of this swarm .*did you mean "
                                               r"fs\.write_file\?"):
            svc.set_auto_approve(mine.id, True, "fs.wrte_file")
        with pytest.raises(InvalidInput, match=r"^web\.fetch is not a tool of this swarm"):
            svc.set_auto_approve(mine.id, True, "web.fetch")
        with pytest.raises(Conflict, match=r"^fs\.move_file cannot be approved automatically: the operator's "
                                           "policy denies it"):
            svc.set_auto_approve(mine.id, True, "fs.move_file")
        assert svc.state(mine.id).auto_approve == []  # nothing was recorded
        # a declared server whose tools could not be listed is taken at its word
        probe = svc.create_swarm("u1", "Say hello").id
        assert svc.set_auto_approve(probe, True, "gone.run") == ["gone.run"]
        assert svc.set_auto_approve(probe, False, "gone.run") == []
        assert svc.set_auto_approve(mine.id, True, "fs.write_file", owner_id="u1") == ["fs.write_file"]
        await svc.run_until_idle(mine.id, timeout=120)
        # the waiting call proceeded, answered by the switch
        assert (share / "a.md").read_text() == "A"
        last_user = [m for m in svc.messages(mine.id, waiting[0].id) if m.role is MessageRole.USER][-1]
        assert last_user.content == AUTO_APPROVED
        assert svc.state(mine.id).nodes["n.1"].lifecycle is Lifecycle.DONE
        # the other swarm still asks
        assert [c.node_id for c in svc.waiting_chats(other.id)] == ["n.1"] and not (share / "b.md").exists()

        # every tool, set before the swarm runs: writes go ahead without asking, the operator's deny stays
        goal = "\n".join([_line("fs.write_file", {"path": str(share / "c.md"), "content": "C"}),
                          _line("fs.move_file", {"source": str(share / "c.md"), "destination": str(share / "d.md")},
                                " (after 1)")])
        third = svc.create_swarm("u1", goal)
        assert svc.set_auto_approve(third.id, True) == ["*"]
        svc.spawn(third.id)
        await svc.run_until_idle(third.id, timeout=120)
        nodes = svc.state(third.id).nodes
        assert (share / "c.md").read_text() == "C" and not svc.waiting_chats(third.id)
        assert nodes["n.2"].failure_reason == "fs.move_file is not allowed (the operator's policy denies it)"

        # off again; the fold of the history equals the live state, at every seq the slider shows
        assert svc.set_auto_approve(mine.id, True) == ["*", "fs.write_file"]
        assert svc.set_auto_approve(mine.id, False, "fs.write_file") == ["*"]
        live = svc.state(mine.id)
        events = svc.history(mine.id).events
        assert fold(events, SwarmState(swarm_id=mine.id)).usage == live.usage
        assert live.auto_approve == ["*"]
        seq_on = next(e.seq for e in events if e.type.value == "auto_approve")
        assert svc.state_at(mine.id, seq_on - 1).auto_approve == []
        assert svc.state_at(mine.id, seq_on).auto_approve == ["fs.write_file"]
        fork = svc.clone(mine.id, at_seq=seq_on)
        assert svc.state(fork.id).auto_approve == ["fs.write_file"]
    finally:
        await svc.engine.mcp_hub().close()
        svc.close()


def test_the_cli_switch(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from aga_swarm.service import SwarmService

    svc = SwarmService(data_dir=tmp_path / "data")
    sid = svc.create_swarm("local", "Describe an apple").id
    svc.close()
    aga = Path(sys.executable).parent / "aga-swarm"
    env = {**os.environ, "AGA_SWARM_DATA": str(tmp_path / "data")}

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(aga), "approve-tools", *argv], capture_output=True, text=True, timeout=60,
                              env=env)

    res = run(sid, "memory.write", "--on")
    assert res.returncode == 0 and res.stdout.strip() == f"approved automatically in {sid}: memory.write"
    res = run(sid, "memory.write", "--off")
    assert res.returncode == 0 and res.stdout.strip() == f"approved automatically in {sid}: nothing"
    res = run(sid, "memory.wirte", "--on")  # no MCP server declared: only the memory tools are there
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.startswith("error: memory.wirte is not a tool of this swarm") and "memory.write?" in res.stderr
    res = run(sid, "not a tool", "--on")
    assert res.returncode == 1 and res.stderr.startswith("error: tool must be") and "Traceback" not in res.stderr
    assert run(sid, "--on", "--off").returncode == 2  # argparse: one or the other

    # an MCP server's tool is known from the operator's config, which the command reads like run, serve and worker
    res = run(sid, "fs.write_file", "--on")
    assert res.returncode == 1 and res.stderr.strip().endswith(
        "the operator's MCP servers are read from --mcp-config FILE (or $AGA_SWARM_MCP_CONFIG), as for run, serve "
        "and worker")
    share = tmp_path / "share"
    share.mkdir()
    mcp = tmp_path / "mcp.json"
    mcp.write_text(json.dumps({"mcpServers": {"fs": {"command": str(FILESYSTEM), "args": [str(share)]}}}))
    res = run(sid, "fs.write_file", "--on", "--mcp-config", str(mcp))
    assert res.returncode == 0 and res.stdout.strip() == f"approved automatically in {sid}: fs.write_file", res.stderr
    res = run(sid, "fs.wrte_file", "--on", "--mcp-config", str(mcp))
    assert res.returncode == 1 and res.stderr.strip().endswith("did you mean fs.write_file?"), res.stderr


def test_upgrading_a_0010_store_moves_the_switch_to_its_column(tmp_path: Path, empty_pg_url: str) -> None:
    """Migration 0011: the tools kept in ``usage.auto_approve`` move to the swarm's own column (the counters
    stay), the engine reads them from there, and a downgrade puts them back."""
    from alembic import command
    from sqlalchemy import text

    from aga_swarm.service import SwarmService
    from aga_swarm.service.composition import open_engine
    from aga_swarm.store.database import HEAD_REVISION
    from aga_swarm.store.sql import from_json

    for url in (f"sqlite:///{tmp_path / 'old10.db'}", empty_pg_url):
        engine, cfg = alembic_on(url)
        command.upgrade(cfg, "0010")
        with engine.begin() as conn:
            for sid, usage in (("s1", '{"llm_calls": 3, "auto_approve": ["*", "fs.write_file"]}'),
                               ("s2", '{"llm_calls": 1}')):
                insert_swarm(conn, sid, usage, status="paused")
        command.upgrade(cfg, HEAD_REVISION)
        with engine.begin() as conn:
            found = {r.id: (from_json(r.usage), from_json(r.auto_approve)) for r in conn.execute(
                text("SELECT id, usage, auto_approve FROM swarms ORDER BY id"))}
        assert found == {"s1": ({"llm_calls": 3}, ["*", "fs.write_file"]), "s2": ({"llm_calls": 1}, [])}
        svc = SwarmService(open_engine(db_url=url, blob_url=str(tmp_path / "blobs")))
        try:
            state = svc.state("s1")
            assert state.auto_approve == ["*", "fs.write_file"] and state.usage.llm_calls == 3
        finally:
            svc.close()
        command.downgrade(cfg, "0010")
        with engine.begin() as conn:
            usage = from_json(conn.execute(text("SELECT usage FROM swarms WHERE id = 's1'")).scalar_one())
        assert usage == {"llm_calls": 3, "auto_approve": ["*", "fs.write_file"]}
        engine.dispose()


def test_a_state_saved_with_the_switch_in_usage_still_loads() -> None:
    """Snapshots written before migration 0011 kept the switch in ``usage``."""
    state = SwarmState.model_validate({"swarm_id": "s1", "usage": {"nodes": 2, "auto_approve": ["fs.write_file"]}})
    assert state.auto_approve == ["fs.write_file"] and state.usage.nodes == 2
