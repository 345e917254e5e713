"""Crash safety of dependencies: a worker is SIGKILLed right after each commit in which a prerequisite ended
(``kill_after_prerequisite.py``). That commit releases its dependents (and may run their first steps). Nothing
is lost or duplicated: every dependent starts exactly once, after what it needs, and the run ends as an
uninterrupted one does. On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from aga_swarm.actions import register_builtins
from aga_swarm.schemas import EventType, Lifecycle, SwarmStatus
from aga_swarm.sdk import Registry
from aga_swarm.service import SwarmService
from aga_swarm.service.composition import open_engine
from aga_swarm.store import tables as t

from ..conftest import make_service
from .helpers import comparable

CHAINS = 5
LINES = [line for i in range(CHAINS) for line in (
    f"Draft section {i}", f"Edit section {i} (after {3 * i + 1})", f"Polish section {i} (after {3 * i + 2})")]
GOAL = "\n".join([*LINES, "Ask the user for a colour", "Summarise the sections"])  # the last needs the Ask
PREREQUISITES = [f"n.{3 * i + k}" for i in range(CHAINS) for k in (1, 2)] + [f"n.{len(LINES) + 1}"]
WORKER = Path(__file__).with_name("kill_after_prerequisite.py")


def _answer_waiting(svc: SwarmService, swarm_id: str) -> None:
    for chat in svc.waiting_chats(swarm_id):
        svc.post_reply(swarm_id, chat.id, "blue")


def _stranded(svc: SwarmService, swarm_id: str) -> list[str]:
    """Dependents whose prerequisites are all done but which neither started nor have their spawn operation
    queued: what a crash between a prerequisite ending and its dependent starting could leave, and must not."""
    nodes = svc.state(swarm_id).nodes
    with svc.db.read() as conn:
        queued = {r.node_id for r in conn.execute(select(t.operations.c.node_id).where(
            t.operations.c.swarm_id == swarm_id, t.operations.c.kind == "spawn",
            t.operations.c.status.in_(["queued", "running"])))}
    return [n.id for n in nodes.values() if n.needs and all(nodes[p].lifecycle is Lifecycle.DONE for p in n.needs)
            and (n.lifecycle is Lifecycle.WAITING_DEPS or (n.lifecycle is Lifecycle.SPAWNED and n.id not in queued))]


async def test_sigkill_between_a_prerequisite_ending_and_its_dependent_starting(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    # the worker script (not `aga-swarm worker`) loads no plugins: the base has the built-ins only, not the actions
    # that other tests or installed plugins put on this process's shared registry (they change the routing prompts)
    base = SwarmService(open_engine(data_dir=tmp_path / "base", registry=register_builtins(Registry())))
    b = base.create_swarm("u1", GOAL)
    base.spawn(b.id)
    for _ in range(10):
        await base.run_until_idle(b.id)
        if base.get_swarm(b.id).status is not SwarmStatus.RUNNING:
            break
        _answer_waiting(base, b.id)
    assert base.get_swarm(b.id).status is SwarmStatus.COMPLETED

    svc = make_service(backend, tmp_path / "crash", request)
    env = {**os.environ, "AGA_SWARM_DATA": str(tmp_path / "crash")}
    if not svc.db.is_sqlite:
        env.update(AGA_SWARM_DB_URL=svc.db.url, AGA_SWARM_BLOB_URL=str(tmp_path / "crash" / "blobs"))
    try:
        s = svc.create_swarm("u1", GOAL)
        svc.spawn(s.id)
        kills = 0
        for _ in range(4 * len(PREREQUISITES) + 10):
            if svc.get_swarm(s.id).status is not SwarmStatus.RUNNING:
                break
            proc = subprocess.run([sys.executable, str(WORKER), *PREREQUISITES], env=env, capture_output=True,
                                  timeout=120)
            if proc.returncode == -signal.SIGKILL:
                kills += 1
                svc.engine.executor.forget_rows()
                # killed after a prerequisite's commit: its dependent has not been started yet
                # killed right after a prerequisite's commit: its dependents are started or about to be
                assert _stranded(svc, s.id) == []
            else:
                assert proc.returncode == 0, proc.stderr.decode()
            _answer_waiting(svc, s.id)
        assert svc.get_swarm(s.id).status is SwarmStatus.COMPLETED
        assert kills >= 3  # prerequisites whose model answers arrive together end in one commit

        assert comparable(svc.state(s.id)) == comparable(base.state(b.id))
        events = svc.history(s.id).events
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert len(events) == base.get_swarm(b.id).last_seq
        # each dependent was released once, and ran its step once
        dependents = [n for n in svc.state(s.id).nodes.values() if n.needs]
        assert len(dependents) == 2 * CHAINS + 1
        releases = Counter(e.node_id for e in events if e.type is EventType.JOURNAL
                           and e.data["step"] == "dependencies")
        assert releases == Counter({n.id: 1 for n in dependents})
        for n in dependents:
            calls = [c for c in svc.node_detail(s.id, n.id).llm_calls if c.step == "do.on_result"]
            assert len(calls) == 1
            done_at = {e.node_id: e.seq for e in events if e.type is EventType.NODE_UPDATED
                       and e.data["changes"].get("lifecycle") == "done"}
            started = min(e.seq for e in events if e.node_id == n.id and e.type is EventType.NODE_UPDATED)
            assert started > max(done_at[p] for p in n.needs)
    finally:
        svc.close()
        base.close()
