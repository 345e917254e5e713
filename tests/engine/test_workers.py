"""Scale-out: several worker processes serve one swarm's queue at once, on SQLite and on PostgreSQL. Each keeps
its own copy of the rows its last transaction left (``CachedRows``) and must notice every write of the
others; the run must end exactly as a single process ends it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from aga_swarm.schemas import SwarmStatus
from aga_swarm.service import SwarmService
from aga_swarm.store import tables as t

from ..conftest import make_service
from .helpers import builtins_and_installed_plugins, comparable, effect_events

GOAL = "\n".join([f"Write note {i}" for i in range(200)] + ["Plan: a; b; Plan: c; d", "Ask the user for a colour",
                                                          "Ask the user for a number", "Summarise the notes"])
WORKERS = 3


def _answer_waiting(svc: SwarmService, swarm_id: str) -> None:
    for chat in svc.waiting_chats(swarm_id):
        svc.post_reply(swarm_id, chat.id, "blue" if "colour" in chat.title else "42")


def _start_workers(svc: SwarmService, tmp_path: Path) -> list[subprocess.Popen[bytes]]:
    """Workers serving the shared store (as ``aga-swarm worker`` runs beside a server), once all are ready."""
    env = {**os.environ, "AGA_SWARM_DATA": str(tmp_path)}
    if not svc.db.is_sqlite:
        env.update(AGA_SWARM_DB_URL=svc.db.url, AGA_SWARM_BLOB_URL=str(tmp_path / "blobs"))
    procs = [subprocess.Popen([sys.executable, "-m", "aga_swarm.cli", "worker"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(WORKERS)]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"worker ready"
    return procs


def _stop_workers(procs: list[subprocess.Popen[bytes]]) -> list[int]:
    """SIGTERM each worker; how many operations each ran (its last line: "worker stopped: N operations run")."""
    counts = []
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
        last = out.decode().strip().splitlines()[-1]
        assert last.startswith("worker stopped: "), last
        counts.append(int(last.split()[2]))
    return counts


@pytest.fixture
def shared_svc(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> SwarmService:
    # the built-ins and the installed plugins, as the workers load them: tests before this one may have added
    # custom actions to the process's shared registry, and the routing prompts list every action
    svc = make_service(backend, tmp_path, request, registry=builtins_and_installed_plugins())
    request.addfinalizer(svc.close)
    return svc


async def test_workers_sharing_a_swarm_end_it_as_one_process_does(shared_svc: SwarmService, tmp_path: Path) -> None:
    svc = shared_svc
    one = svc.create_swarm("u1", GOAL)  # run by this process alone
    svc.spawn(one.id)
    for _ in range(20):
        await svc.run_until_idle(one.id, timeout=120)
        if svc.get_swarm(one.id).status is not SwarmStatus.RUNNING:
            break
        _answer_waiting(svc, one.id)
    assert svc.get_swarm(one.id).status is SwarmStatus.COMPLETED

    procs = _start_workers(svc, tmp_path)
    try:
        many = svc.create_swarm("u1", GOAL)  # run by three worker processes at once
        svc.spawn(many.id)
        deadline = time.monotonic() + 180
        while svc.get_swarm(many.id).status is SwarmStatus.RUNNING:
            assert time.monotonic() < deadline, "the workers did not finish the swarm"
            _answer_waiting(svc, many.id)  # this process writes too, while the workers run
            await asyncio.sleep(0.02)
    finally:
        ops_per_worker = _stop_workers(procs)
    print(f"operations run per worker: {ops_per_worker}")
    assert sum(n > 0 for n in ops_per_worker) >= 2, ops_per_worker  # the work was really shared

    assert svc.get_swarm(many.id).status is SwarmStatus.COMPLETED
    assert comparable(svc.state(many.id)) == comparable(svc.state(one.id))
    with svc.db.read() as conn:
        seqs = [r.seq for r in conn.execute(select(t.events.c.seq).where(t.events.c.swarm_id == many.id)
                                            .order_by(t.events.c.seq))]
        msgs = conn.execute(select(t.messages.c.chat_id, t.messages.c.idx).where(
            t.messages.c.swarm_id == many.id)).all()
    assert seqs == list(range(1, len(seqs) + 1))
    assert effect_events(svc, many.id) == effect_events(svc, one.id)  # node_updated: one per node per transaction
    per_chat = Counter(chat for chat, _ in msgs)
    assert all(sorted(i for c, i in msgs if c == chat) == list(range(n)) for chat, n in per_chat.items())
    one_msgs = {c.id: [m.content for m in svc.messages(one.id, c.id)] for c in svc.chats(one.id)}
    many_msgs = {c.id: [m.content for m in svc.messages(many.id, c.id)] for c in svc.chats(many.id)}
    assert many_msgs == one_msgs
