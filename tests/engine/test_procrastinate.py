"""Dispatch through Procrastinate on PostgreSQL (``engine/jobs.py``, migration 0006), with real worker processes.

Each guarantee of the queue, checked across processes: a job is deferred in the transaction that queues its
operation (none for one rolled back, none for a held one, one per operation released on resume); workers are
woken by LISTEN/NOTIFY (their fallback fetch poll is set far beyond the tests' bounds); one operation at a time
per node and a node's operations in id order (an audit trigger records every claim, every reserved operation
taken from the queue, and whether another operation of the node was running then); a paused swarm's operations
stay held while workers run, and resume releases them; group commit still runs more operations than there are
claims; a SIGKILLed worker's operations are taken over after the stall timeout (not the 300 s lease) and nothing
is done twice. Procrastinate's own CLI works on the store.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from aga_swarm.schemas import SwarmStatus
from aga_swarm.service import SwarmService
from aga_swarm.service.composition import open_engine

from .helpers import builtins_and_installed_plugins, comparable, effect_events

BIN = Path(sys.executable).parent
PLUGINS = Path(__file__).parent.parent / "plugins"
GOAL = "\n".join([f"Write note {i}" for i in range(40)] + ["Plan: a; b; Plan: c; d", "Ask the user for a colour",
                                                         "Summarise the notes"])
GATED = "Plan: Gated one; Gated two; Write a closing line"
GATED_TWO = "Plan: Gated one; Gated two"  # while both wait at the gate, nothing else of the swarm runs

AUDIT = """
CREATE TABLE aga_test_claims (seq bigserial PRIMARY KEY, swarm_id text, node_id text, op_id bigint,
                              claim text, overlap boolean, how text, tx bigint DEFAULT txid_current());
CREATE FUNCTION aga_test_audit_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO aga_test_claims (swarm_id, node_id, op_id, claim, how, overlap) VALUES (
        NEW.swarm_id, NEW.node_id, NEW.id, NEW.claim, TG_OP,
        EXISTS (SELECT 1 FROM operations o WHERE o.swarm_id = NEW.swarm_id AND o.node_id = NEW.node_id
                AND o.status = 'running' AND o.id <> NEW.id));
    RETURN NULL;
END;
$$;
CREATE TRIGGER aga_test_claimed AFTER INSERT OR UPDATE OF status, claim ON operations FOR EACH ROW
    WHEN (NEW.status = 'running') EXECUTE FUNCTION aga_test_audit_claim();
CREATE FUNCTION aga_test_audit_take() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF strpos(current_query(), 'idem_key = ') = 0 THEN  -- a parent's absorbed notices: none of them runs
        RETURN NULL;
    END IF;
    INSERT INTO aga_test_claims (swarm_id, node_id, op_id, claim, how, overlap) VALUES (
        OLD.swarm_id, OLD.node_id, OLD.id, NULL, TG_OP,
        EXISTS (SELECT 1 FROM operations o WHERE o.swarm_id = OLD.swarm_id AND o.node_id = OLD.node_id
                AND o.status = 'running' AND o.id <> OLD.id));
    RETURN NULL;
END;
$$;
-- a reserved operation (one that awaits no network: ``engine/jobs.py``) is taken from the queue by the transaction
-- that runs it, which deletes its queued row (by id and key: a parent's absorbed notices are deleted too, not run)
CREATE TRIGGER aga_test_taken AFTER DELETE ON operations FOR EACH ROW
    WHEN (OLD.status = 'queued') EXECUTE FUNCTION aga_test_audit_take();
"""


@pytest.fixture
def svc(empty_pg_url: str, tmp_path: Path) -> Iterator[SwarmService]:
    engine = open_engine(db_url=empty_pg_url, blob_url=str(tmp_path / "blobs"),
                         registry=builtins_and_installed_plugins())
    with engine.db.tx() as conn:
        conn.exec_driver_sql(AUDIT)
    service = SwarmService(engine)
    yield service
    service.close()


def _env(svc: SwarmService, tmp_path: Path, **extra: str) -> dict[str, str]:
    (tmp_path / "gate").mkdir(exist_ok=True)
    return {**os.environ, "AGA_SWARM_DATA": str(tmp_path), "AGA_SWARM_DB_URL": svc.db.url,
            "AGA_SWARM_BLOB_URL": str(tmp_path / "blobs"), "PYTHONPATH": str(PLUGINS),
            "AGA_TEST_GATE": str(tmp_path / "gate"),
            "AGA_SWARM_JOB_POLL_SECONDS": "3600",  # no fallback poll within these tests: only NOTIFY wakes them
            **extra}


def _worker(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([str(BIN / "aga-swarm"), "worker", "--actions", "aga_test_gate:register", *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "worker ready"
    return proc


def _stop(procs: list[subprocess.Popen[str]]) -> list[int]:
    """SIGTERM each live worker; the operations each ran."""
    counts = []
    for proc in procs:
        if proc.poll() is not None:
            continue
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
        counts.append(int(out.strip().splitlines()[-1].split()[2]))
    return counts


def _wait_for(check: Any, what: str, timeout: float = 120.0) -> None:
    """A liveness bound, not a speed check: fail only if it never happens."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what() if callable(what) else what}"
        time.sleep(0.05)


def _rows(svc: SwarmService, query: str, **params: Any) -> list[Any]:
    with svc.db.read() as conn:
        return list(conn.execute(text(query), params).all())


def _jobs(svc: SwarmService, swarm_id: str, status: str | None = None) -> list[Any]:
    q = "SELECT id, status::text AS status, lock, args FROM procrastinate_jobs WHERE lock LIKE :p"
    rows = _rows(svc, q + " ORDER BY id", p=f"{swarm_id}:%")
    return [r for r in rows if status is None or r.status == status]


def _claims(svc: SwarmService, swarm_id: str) -> list[Any]:
    """Every claim and every reserved operation taken (``how`` 'DELETE', no claim), in order."""
    return _rows(svc, "SELECT node_id, op_id, claim, overlap, how FROM aga_test_claims WHERE swarm_id = :s "
                      "ORDER BY seq", s=swarm_id)


def _check_claims(svc: SwarmService, swarm_id: str) -> list[Any]:
    """One running operation per node at every claim, and each node's operations claimed in id order."""
    claims = _claims(svc, swarm_id)
    assert claims, "no claim recorded"
    assert not [c for c in claims if c.overlap], "a node had two operations running at once"
    per_node: dict[str, list[int]] = {}
    for c in claims:
        per_node.setdefault(c.node_id, []).append(c.op_id)
    for node, ids in per_node.items():
        assert ids == sorted(ids), f"{node}'s operations were claimed out of order: {ids}"
    return claims


async def _reference(svc: SwarmService, goal: str) -> str:
    """The same goal run by this process alone (the direct claim), answering as the workers' run is answered."""
    one = svc.create_swarm("u1", goal)
    svc.spawn(one.id)
    for _ in range(50):
        await svc.run_until_idle(one.id, timeout=120)
        if svc.get_swarm(one.id).status is not SwarmStatus.RUNNING:
            break
        _answer(svc, one.id)
    assert svc.get_swarm(one.id).status is SwarmStatus.COMPLETED
    return one.id


def _answer(svc: SwarmService, swarm_id: str) -> None:
    for chat in svc.waiting_chats(swarm_id):
        svc.post_reply(swarm_id, chat.id, "blue")


def _run_to_end(svc: SwarmService, swarm_id: str) -> None:
    deadline = time.monotonic() + 180
    while svc.get_swarm(swarm_id).status is SwarmStatus.RUNNING:
        assert time.monotonic() < deadline, "the workers did not finish the swarm"
        _answer(svc, swarm_id)
        time.sleep(0.05)


def test_a_job_is_deferred_with_its_operation_and_only_then(svc: SwarmService) -> None:
    draft = svc.create_swarm("u1", "Plan: a; b")
    assert _jobs(svc, draft.id) == []  # a draft queues nothing
    svc.spawn(draft.id)
    (op,) = _rows(svc, "SELECT id, node_id, status FROM operations WHERE swarm_id = :s", s=draft.id)
    (job,) = _jobs(svc, draft.id)
    assert (op.status, job.status, job.lock) == ("queued", "todo", f"{draft.id}:n")
    assert job.args == {"swarm": draft.id, "node": "n", "op": op.id}

    # a transaction that queues an operation and rolls back leaves no job either
    with pytest.raises(RuntimeError), svc.db.tx() as conn:
        conn.execute(text("INSERT INTO operations (swarm_id, node_id, kind, status, payload, attempts, idem_key, "
                          "not_before, created_at) VALUES (:s, 'n', 'step', 'queued', '{}', 0, 'x', 0, 0)"),
                     {"s": draft.id})
        assert len(list(conn.execute(text("SELECT 1 FROM procrastinate_jobs WHERE lock = :l"),
                                     {"l": f"{draft.id}:n"}))) == 2  # inside: the job exists with it
        raise RuntimeError("roll back")
    assert len(_jobs(svc, draft.id)) == 1

    # pause holds the operation (its job, when fetched, claims nothing); resume queues it again: one more job
    svc.pause(draft.id)
    assert _rows(svc, "SELECT status FROM operations WHERE swarm_id = :s", s=draft.id)[0].status == "held"
    assert len(_jobs(svc, draft.id)) == 1
    svc.resume(draft.id)
    assert [j.args["op"] for j in _jobs(svc, draft.id)] == [op.id, op.id]

    # AGA_SWARM_DISPATCH=poll: this process's sessions defer no job (the claim loop runs them)
    env = {**os.environ, "AGA_SWARM_DISPATCH": "poll"}
    code = ("from aga_swarm.service import SwarmService; import sys; s = SwarmService(db_url=sys.argv[1], "
            "blob_url='memory://'); x = s.create_swarm('u1', 'Plan: a'); s.spawn(x.id); print(x.id)")
    out = subprocess.run([sys.executable, "-c", code, svc.db.url], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    polled = out.stdout.strip()
    assert _rows(svc, "SELECT status FROM operations WHERE swarm_id = :s", s=polled)[0].status == "queued"
    assert _jobs(svc, polled) == []


async def test_two_workers_woken_by_notify_keep_every_guarantee(svc: SwarmService, tmp_path: Path) -> None:
    reference = await _reference(svc, GOAL)
    procs = [_worker(_env(svc, tmp_path), "--concurrency", "4") for _ in range(2)]
    try:
        many = svc.create_swarm("u1", GOAL)
        svc.spawn(many.id)
        await asyncio.to_thread(_run_to_end, svc, many.id)
        # the jobs of operations that ran in another's transaction (or were absorbed) claim nothing and end
        _wait_for(lambda: not _jobs(svc, many.id, "todo") and not _jobs(svc, many.id, "doing"), "no job left")
    finally:
        ran = _stop(procs)
    assert svc.get_swarm(many.id).status is SwarmStatus.COMPLETED
    assert comparable(svc.state(many.id)) == comparable(svc.state(reference))
    claims = _check_claims(svc, many.id)
    assert len({c.op_id for c in claims}) == len(claims)  # no operation claimed twice
    # every claim was made under a Procrastinate worker (the others are reserved operations taken as they ran)
    assert all(c.claim.startswith("w") for c in claims if c.how != "DELETE")
    assert sum(ran) > len(claims)  # group commit: operations ran in the transaction of the one that queued them
    # batch claims: a job's claim transaction also took other due jobs' queued operations (the 40 notes' model
    # calls are queued at once); claims written by an operation's own commit (its node's next one) are inserts
    per_tx = _rows(svc, "SELECT count(*) AS n FROM aga_test_claims WHERE swarm_id = :s AND how = 'UPDATE' "
                        "GROUP BY tx", s=many.id)
    assert max(r.n for r in per_tx) > 1
    assert _jobs(svc, many.id) == []  # finished jobs are deleted; none failed


async def test_a_paused_swarm_holds_its_operations_while_workers_run(svc: SwarmService, tmp_path: Path) -> None:
    reference = await _reference(svc, GATED)  # in this process the gate is not installed
    env = _env(svc, tmp_path)
    gate = tmp_path / "gate"
    procs = [_worker(env, "--concurrency", "4") for _ in range(2)]
    try:
        sid = svc.create_swarm("u1", GATED).id
        svc.spawn(sid)
        _wait_for(lambda: len(list(gate.glob("started-*"))) == 2, "both gated calls in flight")
        svc.pause(sid)  # while both model calls are under way in the workers
        (gate / "open").write_text("")
        # the running operations finish; what they queue is held; the workers run out of jobs to do
        _wait_for(lambda: not _rows(svc, "SELECT 1 FROM operations WHERE swarm_id = :s AND status IN "
                                         "('running', 'queued')", s=sid), "the running operations' end")
        _wait_for(lambda: not _jobs(svc, sid, "todo") and not _jobs(svc, sid, "doing"),
                  lambda: f"the workers idle: {_jobs(svc, sid)}")
        held = _rows(svc, "SELECT id FROM operations WHERE swarm_id = :s AND status = 'held'", s=sid)
        assert held, "nothing was held"
        seq = svc.get_swarm(sid).last_seq
        time.sleep(1.0)  # nothing runs while paused, whatever the workers do meanwhile
        assert svc.get_swarm(sid).last_seq == seq
        assert svc.get_swarm(sid).status is SwarmStatus.PAUSED
        svc.resume(sid)
        await asyncio.to_thread(_run_to_end, svc, sid)
    finally:
        _stop(procs)
    assert svc.get_swarm(sid).status is SwarmStatus.COMPLETED
    paused, whole = comparable(svc.state(sid)), comparable(svc.state(reference))
    assert effect_events(svc, sid) == effect_events(svc, reference) + 2  # the pause and the resume are events
    assert paused == whole
    _check_claims(svc, sid)
    released = {r.id for r in held}
    assert released <= {c.op_id for c in _claims(svc, sid)}  # each held operation ran once released


async def test_a_sigkilled_workers_operations_are_taken_over_after_the_stall_timeout(
        svc: SwarmService, tmp_path: Path) -> None:
    reference = await _reference(svc, GATED_TWO)  # in this process the gate is not installed
    env = _env(svc, tmp_path, AGA_SWARM_STALL_SECONDS="2")
    gate = tmp_path / "gate"
    doomed = _worker(env, "--concurrency", "4")
    others: list[subprocess.Popen[str]] = []
    try:
        sid = svc.create_swarm("u1", GATED_TWO).id
        svc.spawn(sid)
        _wait_for(lambda: len(list(gate.glob("started-*"))) == 2, "both gated calls in flight in one worker")
        running = _rows(svc, "SELECT id, claim FROM operations WHERE swarm_id = :s AND status = 'running'", s=sid)
        assert len(running) == 2 and all(r.claim.startswith("w") for r in running)
        others.append(_worker(env, "--concurrency", "4", "--stall-seconds", "2"))
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
        for p in gate.glob("started-*"):
            p.unlink()
        (gate / "open").write_text("")
        # taken over after the 2 s stall timeout: the lease (300 s) is far beyond this test's bound
        await asyncio.to_thread(_run_to_end, svc, sid)
    finally:
        if doomed.poll() is None:
            doomed.kill()
        _stop(others)
    assert svc.get_swarm(sid).status is SwarmStatus.COMPLETED
    assert comparable(svc.state(sid)) == comparable(svc.state(reference))
    claims = _check_claims(svc, sid)
    taken = [c for c in claims if c.op_id in {r.id for r in running}]
    assert len(taken) == 4  # each: claimed by the killed worker, then taken over once
    # both ended done, on their second attempt (claims above), and a done operation's row is pruned
    assert not _rows(svc, "SELECT 1 FROM operations WHERE id = ANY(:ids)", ids=[r.id for r in running])
    seqs = [r.seq for r in _rows(svc, "SELECT seq FROM events WHERE swarm_id = :s ORDER BY seq", s=sid)]
    assert seqs == list(range(1, len(seqs) + 1))
    calls = _rows(svc, "SELECT node_id, count(*) AS n FROM llm_calls WHERE swarm_id = :s GROUP BY node_id", s=sid)
    ref_calls = _rows(svc, "SELECT node_id, count(*) AS n FROM llm_calls WHERE swarm_id = :s GROUP BY node_id",
                      s=reference)
    assert sorted((c.node_id, c.n) for c in calls) == sorted((c.node_id, c.n) for c in ref_calls)  # none twice
    assert not _rows(svc, "SELECT 1 FROM operations WHERE swarm_id = :s AND status IN ('running', 'queued', "
                          "'failed')", s=sid)


def test_procrastinate_admin_tools_work_on_the_store(svc: SwarmService) -> None:
    draft = svc.create_swarm("u1", "Plan: a")
    svc.spawn(draft.id)
    env = {**os.environ, "AGA_SWARM_DB_URL": svc.db.url}
    app = ["--app=aga_swarm.procrastinate_app.app"]
    health = subprocess.run([str(BIN / "procrastinate"), *app, "healthchecks"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert health.returncode == 0, health.stderr
    assert "DB connection: OK" in health.stdout and "Found procrastinate_jobs table: OK" in health.stdout
    (job,) = _jobs(svc, draft.id)
    shell = subprocess.run([str(BIN / "procrastinate"), *app, "shell"], env=env, input="list_jobs\n",
                           capture_output=True, text=True, timeout=120)
    assert shell.returncode == 0, shell.stderr
    assert f"#{job.id} aga_swarm.operation on aga_swarm - [todo]" in shell.stdout


async def test_only_a_workers_own_connections_commit_without_waiting_for_the_flush(svc: SwarmService) -> None:
    """A worker's job bookkeeping (fetch, finish, heartbeat) need not wait for the WAL flush (``make_app``); the
    app for the admin tools, which may defer jobs, keeps the server's setting."""
    from aga_swarm.engine.jobs import make_app

    for worker, expected in ((True, "off"), (False, "on")):
        app = make_app(svc.db.url, worker=worker)
        async with app.open_async():
            row = await app.connector.execute_query_one_async("SHOW synchronous_commit")
        assert row["synchronous_commit"] == expected
