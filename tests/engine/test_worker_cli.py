"""``aga-swarm worker`` as a real process: --concurrency bounds the operations in flight, SIGTERM finishes the
running ones before exiting, --once runs one operation (and its chain) and returns; ``aga-swarm queue``
shows what is queued, running, held and failed, per swarm. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from aga_swarm.actions import register_builtins
from aga_swarm.schemas import OperationStatus, SwarmStatus
from aga_swarm.sdk import Registry
from aga_swarm.service import SwarmService
from aga_swarm.store import tables as t

from ..conftest import make_service
from .helpers import comparable

BIN = Path(sys.executable).parent / "aga-swarm"
PLUGINS = Path(__file__).parent.parent / "plugins"
GATED = "Plan: Gated one; Gated two"


@pytest.fixture
def shared_svc(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> SwarmService:
    svc = make_service(backend, tmp_path, request, registry=register_builtins(Registry()))
    request.addfinalizer(svc.close)
    return svc


def _env(svc: SwarmService, tmp_path: Path, gate: Path) -> dict[str, str]:
    gate.mkdir(exist_ok=True)
    env = {**os.environ, "AGA_SWARM_DATA": str(tmp_path), "PYTHONPATH": str(PLUGINS), "AGA_TEST_GATE": str(gate)}
    if not svc.db.is_sqlite:
        env.update(AGA_SWARM_DB_URL=svc.db.url, AGA_SWARM_BLOB_URL=str(tmp_path / "blobs"))
    return env


def _worker(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([str(BIN), "worker", "--actions", "aga_test_gate:register", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "worker ready"
    return proc


def _wait_for(check: object, what: str, timeout: float = 90.0) -> None:
    """A liveness bound, not a speed check: fail only if it never happens."""
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def _status_counts(svc: SwarmService, swarm_id: str) -> Counter[str]:
    with svc.db.read() as conn:
        return Counter(r.status for r in conn.execute(
            select(t.operations.c.status).where(t.operations.c.swarm_id == swarm_id)))


def _started(gate: Path) -> list[str]:
    return sorted(p.name for p in gate.glob("started-*"))


@pytest.mark.parametrize("concurrency", [1, 2])
def test_concurrency_bounds_the_operations_in_flight(shared_svc: SwarmService, tmp_path: Path,
                                                     concurrency: int) -> None:
    svc, gate = shared_svc, tmp_path / "gate"
    env = _env(svc, tmp_path, gate)
    sid = svc.create_swarm("u1", GATED).id
    svc.spawn(sid)
    proc = _worker(env, "--concurrency", str(concurrency))
    try:
        if concurrency == 2:  # both tasks wait at the closed gate at once
            _wait_for(lambda: len(_started(gate)) == 2, "two gated calls in flight")
        else:
            _wait_for(lambda: len(_started(gate)) == 1, "the first gated call")
        (gate / "open").write_text("")
        _wait_for(lambda: svc.get_swarm(sid).status is not SwarmStatus.RUNNING, "the swarm's end")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert svc.get_swarm(sid).status is SwarmStatus.COMPLETED
    assert int((gate / "max-in-flight").read_text()) == concurrency


def test_sigterm_finishes_the_running_operations(shared_svc: SwarmService, tmp_path: Path) -> None:
    svc, gate = shared_svc, tmp_path / "gate"
    env = _env(svc, tmp_path, gate)
    sid = svc.create_swarm("u1", GATED).id
    svc.spawn(sid)
    proc = _worker(env, "--concurrency", "2")
    _wait_for(lambda: len(_started(gate)) == 2, "two gated calls in flight")
    assert _status_counts(svc, sid)[OperationStatus.RUNNING.value] == 2
    proc.send_signal(signal.SIGTERM)  # while both operations wait at the gate
    (gate / "open").write_text("")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.strip().splitlines()[-1].startswith("worker stopped: ")
    assert sorted(p.name for p in gate.glob("done-*")) == ["done-Gated_one", "done-Gated_two"]
    counts = _status_counts(svc, sid)
    assert counts[OperationStatus.RUNNING.value] == 0  # nothing left half-done for a lease to recover
    assert counts[OperationStatus.FAILED.value] == 0
    state = svc.state(sid)
    reports = [n.report for n in state.nodes.values() if n.directive.startswith("Gated")]
    assert len(reports) == 2 and all(reports), reports  # both finished operations were committed
    # what the stopped worker did not start is still queued, and another runner finishes it
    import asyncio

    asyncio.run(svc.run_until_idle(sid, timeout=120))
    assert svc.get_swarm(sid).status is SwarmStatus.COMPLETED


def test_once_runs_one_operation_and_its_chain(shared_svc: SwarmService, tmp_path: Path) -> None:
    svc, gate = shared_svc, tmp_path / "gate"
    (gate).mkdir()
    (gate / "open").write_text("")
    env = _env(svc, tmp_path, gate)
    reference = svc.create_swarm("u1", "Plan: a; b")  # run by a worker process as a whole
    svc.spawn(reference.id)
    whole = subprocess.run([str(BIN), "worker", "--until-idle"], env=env, capture_output=True, text=True,
                           timeout=120)
    assert whole.returncode == 0, whole.stderr
    assert svc.get_swarm(reference.id).status is SwarmStatus.COMPLETED

    sid = svc.create_swarm("u1", "Plan: a; b").id
    svc.spawn(sid)
    runs: list[int] = []
    for _ in range(100):
        seq_before = svc.get_swarm(sid).last_seq
        res = subprocess.run([str(BIN), "worker", "--once"], env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        last = res.stdout.strip().splitlines()[-1]
        if last == "worker once: nothing queued":
            break
        ran = int(last.split()[2])
        assert ran >= 1 and svc.get_swarm(sid).last_seq > seq_before  # it ran, and committed what it did
        assert _status_counts(svc, sid)[OperationStatus.RUNNING.value] == 0
        runs.append(ran)
    assert len(runs) >= 2, runs  # one invocation did not run the whole swarm: it returned after one chain
    assert svc.get_swarm(sid).status is SwarmStatus.COMPLETED
    assert comparable(svc.state(sid)) == comparable(svc.state(reference.id))


def test_once_and_until_idle_together_is_one_line(tmp_path: Path) -> None:
    res = subprocess.run([str(BIN), "worker", "--once", "--until-idle"], capture_output=True, text=True,
                         env={**os.environ, "AGA_SWARM_DATA": str(tmp_path)}, timeout=60)
    assert (res.returncode, res.stderr.strip()) == (1, "error: --once and --until-idle cannot be used together")
    res = subprocess.run([str(BIN), "worker", "--concurrency", "0"], capture_output=True, text=True,
                         env={**os.environ, "AGA_SWARM_DATA": str(tmp_path)}, timeout=60)
    assert (res.returncode, res.stderr.strip()) == (1, "error: --concurrency must be at least 1 (got 0)")
    res = subprocess.run([str(BIN), "worker", "--stall-seconds", "0"], capture_output=True, text=True,
                         env={**os.environ, "AGA_SWARM_DATA": str(tmp_path)}, timeout=60)
    assert (res.returncode, res.stderr.strip()) == (1, "error: --stall-seconds must be positive (got 0)")


def test_queue_shows_queued_running_held_and_failed_per_swarm(shared_svc: SwarmService, tmp_path: Path) -> None:
    svc = shared_svc
    env = _env(svc, tmp_path, tmp_path / "gate")
    empty = subprocess.run([str(BIN), "queue"], env=env, capture_output=True, text=True, timeout=60)
    assert empty.stdout.strip() == "the queue is empty: no queued, running, held or failed operations"
    subprocess.run([str(BIN), "run", "--no-tree", "--actions", "aga_test_explode", "Explode now"],
                   env=env, capture_output=True, text=True, timeout=120)  # its step raises: a failed operation
    queued = svc.create_swarm("u1", "Plan: a; b", name="waiting one")
    svc.spawn(queued.id)
    held = svc.create_swarm("u1", "Plan: c; d", name="paused one")
    svc.spawn(held.id)
    svc.pause(held.id)
    res = subprocess.run([str(BIN), "queue", "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    rows = {r["swarm_id"]: r for r in json.loads(res.stdout)}
    with svc.db.read() as conn:
        truth: dict[str, Counter[str]] = {}
        for r in conn.execute(select(t.operations.c.swarm_id, t.operations.c.status)):
            truth.setdefault(r.swarm_id, Counter())[r.status] += 1
    shown = {sid: {s: c for s, c in counts.items() if s != "done"} for sid, counts in truth.items()}
    assert {sid: {s: rows[sid][s] for s in ("queued", "running", "held", "failed") if rows[sid][s]}
            for sid in rows} == {sid: c for sid, c in shown.items() if c}
    assert rows[queued.id]["queued"] >= 1 and rows[queued.id]["name"] == "waiting one"
    assert rows[queued.id]["oldest_queued_age_s"] >= 0
    assert rows[held.id]["held"] >= 1 and rows[held.id]["queued"] == 0
    assert rows[held.id]["swarm_status"] == "paused"
    exploded = [r for r in rows.values() if r["failed"]]
    assert len(exploded) == 1 and exploded[0]["swarm_id"] not in (queued.id, held.id)
    table = subprocess.run([str(BIN), "queue"], env={**env, "COLUMNS": "200"}, capture_output=True, text=True,
                           timeout=60)
    assert "waiting one" in table.stdout and "paused one" in table.stdout


async def test_once_outcome_tells_a_lost_claim_from_an_empty_queue(shared_svc: SwarmService) -> None:
    """The operation ``run_once`` picked is taken by another worker before it runs: claimed, none ran."""
    svc = shared_svc
    sid = svc.create_swarm("u1", "Plan: a; b").id
    svc.spawn(sid)
    claim = svc.runner.claim

    def claim_then_lose(limit: int, swarm_id: str | None = None) -> list[Any]:
        ops = claim(limit, swarm_id)
        with svc.db.tx() as conn:  # another worker claims the same rows meanwhile
            conn.execute(t.operations.update().where(t.operations.c.id.in_([op.id for op in ops])).values(
                status=OperationStatus.RUNNING.value, claim="another-worker", lease_until=time.time() + 3600))
        return ops

    svc.runner.claim = claim_then_lose  # type: ignore[method-assign]
    assert await svc.runner.run_once_outcome() == (True, 0)
    svc.runner.claim = claim  # type: ignore[method-assign]
    assert await svc.runner.run_once_outcome() == (False, 0)  # the lost one is running elsewhere, its lease live


def test_once_summary_tells_a_lost_claim_from_an_empty_queue() -> None:
    from aga_swarm.cli import once_summary

    assert once_summary(False, 0) == "nothing queued"
    assert once_summary(True, 3) == "3 operations run"
    lost = once_summary(True, 0)
    assert "nothing queued" not in lost and "taken by another worker" in lost
