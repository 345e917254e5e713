"""The serverless path: queue-triggered handlers (aga_swarm.serverless) fed by Azurite's queue service, four
hosts invoking at once (on SQLite, and on PostgreSQL), run a swarm with a question answered mid-run and a pause;
the run ends exactly as a whole worker process ends it, with no event, message or operation lost or doubled."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from aga_swarm.actions import register_builtins
from aga_swarm.schemas import OperationStatus, SwarmStatus
from aga_swarm.sdk import Registry
from aga_swarm.service import SwarmService
from aga_swarm.store import tables as t

from ..conftest import make_service
from .azure_queue import AzureQueue, start_azurite_queue
from .helpers import comparable, effect_events

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "aga-swarm"
GOAL = "\n".join([f"Write note {i}" for i in range(24)] + ["Plan: a; b", "Ask the user for a colour",
                                                         "Summarise the notes"])
HOSTS = 4


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[AzureQueue]:
    emulator = start_azurite_queue(tmp_path / "azurite")
    q = AzureQueue(emulator.url, "aga-operations")
    q.create()
    yield q
    emulator.stop()


def _until(check: object, what: str, timeout: float = 180.0) -> None:
    """A liveness bound, not a speed check."""
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def _ops(svc: SwarmService, sid: str) -> Counter[str]:
    with svc.db.read() as conn:
        return Counter(r.status for r in conn.execute(
            select(t.operations.c.status).where(t.operations.c.swarm_id == sid)))


def test_queue_triggered_handlers_run_a_swarm_as_one_worker_does(backend: str, tmp_path: Path, queue: AzureQueue,
                                                                 request: pytest.FixtureRequest) -> None:
    svc = make_service(backend, tmp_path, request, registry=register_builtins(Registry()))
    request.addfinalizer(svc.close)
    env = {**os.environ, "AGA_SWARM_BLOB_URL": str(tmp_path / "blobs"),
           "AGA_SWARM_DATA": str(tmp_path), "PYTHONPATH": str(REPO), "QUEUE_URL": queue.endpoint,
           "QUEUE_NAME": queue.name, "HOST_STOP": str(tmp_path / "stop")}
    if not svc.db.is_sqlite:
        env["AGA_SWARM_DB_URL"] = svc.db.url

    reference = svc.create_swarm("u1", GOAL)  # run by one whole worker process
    svc.spawn(reference.id)
    for _ in range(5):
        whole = subprocess.run([str(BIN), "worker", "--until-idle"], env=env, capture_output=True, text=True,
                               timeout=300)
        assert whole.returncode == 0, whole.stderr
        if svc.get_swarm(reference.id).status is not SwarmStatus.RUNNING:
            break
        for chat in svc.waiting_chats(reference.id):
            svc.post_reply(reference.id, chat.id, "blue")
    assert svc.get_swarm(reference.id).status is SwarmStatus.COMPLETED

    hosts = [subprocess.Popen([sys.executable, str(REPO / "tests/engine/serverless_host.py")], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(HOSTS)]
    try:
        for host in hosts:
            assert host.stdout is not None and host.stdout.readline().strip() == "host ready"
        sid = svc.create_swarm("u1", GOAL).id
        svc.spawn(sid)
        svc.pause(sid)  # a paused swarm holds its operations: wake-ups find nothing to run
        held_seq = svc.get_swarm(sid).last_seq
        for _ in range(3):
            queue.send("wake")
        _until(lambda: queue.length() == 0, "the wake-ups consumed")
        assert svc.get_swarm(sid).last_seq == held_seq
        assert _ops(svc, sid)[OperationStatus.HELD.value] >= 1
        assert _ops(svc, sid)[OperationStatus.QUEUED.value] == 0

        svc.resume(sid)  # the API process sends one wake-up with each change that queues work
        queue.send("wake")
        while svc.get_swarm(sid).status is SwarmStatus.RUNNING:
            _until(lambda: svc.get_swarm(sid).status is not SwarmStatus.RUNNING or svc.waiting_chats(sid)
                   or (queue.length() == 0 and not _ops(svc, sid)[OperationStatus.RUNNING.value]), "progress")
            for chat in svc.waiting_chats(sid):
                svc.post_reply(sid, chat.id, "blue")
                queue.send("wake")
            if svc.get_swarm(sid).status is SwarmStatus.RUNNING and not svc.waiting_chats(sid) \
                    and queue.length() == 0 and not _ops(svc, sid)[OperationStatus.RUNNING.value]:
                assert not _ops(svc, sid)[OperationStatus.QUEUED.value], "queued work with no wake-up left"
    finally:
        (tmp_path / "stop").write_text("")
        outs = [host.communicate(timeout=120) for host in hosts]
    for host, (_out, err) in zip(hosts, outs, strict=True):
        assert host.returncode == 0, err
    ran = [int(out.strip().splitlines()[-1].split()[4]) for out, _ in outs]
    print(f"operations run per host: {ran}")
    assert sum(n > 0 for n in ran) >= 2, ran  # the invocations really ran side by side

    assert svc.get_swarm(sid).status is SwarmStatus.COMPLETED
    paused_and_resumed = 2  # the two swarm_status events of the pause and the resume
    ran_here, ran_whole = comparable(svc.state(sid)), comparable(svc.state(reference.id))
    assert effect_events(svc, sid) == effect_events(svc, reference.id) + paused_and_resumed
    assert ran_here == ran_whole
    counts = _ops(svc, sid)
    assert not counts[OperationStatus.RUNNING.value] and not counts[OperationStatus.FAILED.value]
    with svc.db.read() as conn:
        seqs = [r.seq for r in conn.execute(select(t.events.c.seq).where(t.events.c.swarm_id == sid)
                                            .order_by(t.events.c.seq))]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) == svc.get_swarm(reference.id).last_seq + paused_and_resumed
    ref_msgs = {c.title: [m.content for m in svc.messages(reference.id, c.id)] for c in svc.chats(reference.id)}
    msgs = {c.title: [m.content for m in svc.messages(sid, c.id)] for c in svc.chats(sid)}
    assert msgs == ref_msgs
