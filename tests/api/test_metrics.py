"""Prometheus /metrics, scraped from a real server after a scripted swarm ran (with a question answered over
HTTP while a socket listened), and from a real `aga-swarm worker --metrics-port` process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from aga_swarm.service import SwarmService

from .conftest import ApiBackend
from .helpers import (
    Recorder,
    Server,
    agent_message,
    awaiting_chat,
    client,
    create_swarm,
    poll,
    signup,
    status_event,
)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def total(samples: Samples, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and all((k, v2) in ls for k, v2 in labels.items()))


async def scrape(url: str) -> Samples:
    async with httpx.AsyncClient() as http:
        r = await http.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return parse(r.text)


async def test_server_metrics_move_with_a_scripted_swarm(api_backend: ApiBackend) -> None:
    server = api_backend.start("metrics")
    try:
        before = await scrape(server.url + "/metrics")
        assert total(before, "aga_swarm_operations_total") == 0
        assert before[("aga_swarm_sockets_open", ())] == 0
        account = await signup(server)
        rec = await Recorder(server).connect(account.token)
        async with client(server, account.token) as http:
            swarm = await create_swarm(http, "Ask the user for a colour\nWrite a haiku about it")
            chat = await awaiting_chat(http, swarm["id"])
            during = await scrape(server.url + "/metrics")
            assert during[("aga_swarm_sockets_open", ())] == 1
            asked = len([e for e in rec.swarm_events(swarm["id"]) if agent_message(chat["id"])(e)])
            r = await http.post(f"/api/swarms/{swarm['id']}/chats/{chat['id']}/messages",
                                json={"content": "indigo, like the sky at dusk"})
            assert r.status_code == 202, r.text
            await rec.wait_for(lambda: len([e for e in rec.swarm_events(swarm["id"])
                                            if agent_message(chat["id"])(e)]) > asked,
                               what="the agent's answer to the reply")
            await rec.wait_event(swarm["id"], status_event("completed"), timeout=30)
        after = await scrape(server.url + "/metrics")
        await rec.close()
        for kind in ("spawn", "step", "llm_call"):
            assert total(after, "aga_swarm_operations_total", kind=kind, outcome="done") > 0, kind
        assert total(after, "aga_swarm_operation_seconds_count") > 0
        assert total(after, "aga_swarm_model_calls_total", outcome="ok") > 0
        assert total(after, "aga_swarm_model_tokens_total", direction="out") > 0
        assert after[("aga_swarm_reply_push_seconds_count", ())] == 1  # the one reply, pushed
        assert 0 < after[("aga_swarm_reply_push_seconds_sum", ())] < 60
        assert after[("aga_swarm_store_up", ())] == 1
        assert total(after, "process_resident_memory_bytes") > 0
        assert total(after, "aga_swarm_gc_pause_seconds_count", generation="0") > 0  # the collector's pauses
        assert ("aga_swarm_gc_pause_seconds_count", (("generation", "2"),)) in after
        await poll(lambda: _sockets_zero(server), what="the socket count to drop once the client left")
    finally:
        server.stop()


async def _sockets_zero(server: Server) -> bool:
    return (await scrape(server.url + "/metrics"))[("aga_swarm_sockets_open", ())] == 0


async def test_metrics_can_be_turned_off(api_backend: ApiBackend) -> None:
    server = api_backend.start("nometrics", {"AGA_SWARM_METRICS": "false"})
    try:
        async with httpx.AsyncClient() as http:
            r = await http.get(server.url + "/metrics")
        assert "aga_swarm_" not in r.text  # the web app's page (an app route), or 404 without a built app
    finally:
        server.stop()


async def test_worker_metrics(store: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, **store, "AGA_SWARM_DATA": str(data), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "aga_swarm.cli", "worker", "--metrics-port", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.search(r"worker metrics at (http://127\.0\.0\.1:\d+/metrics)", line)
        assert m, line + (proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        url = m.group(1)
        assert total(await scrape(url), "aga_swarm_operations_total") == 0
        svc = SwarmService(data_dir=data, db_url=store.get("AGA_SWARM_DB_URL"))  # another process queues the
        # work; the worker runs it
        try:
            swarm = svc.create_swarm("u1", "Write a poem\nWrite a haiku")
            svc.spawn(swarm.id)

            async def done() -> Samples | None:
                samples = await scrape(url)
                finished = svc.get_swarm(swarm.id).status.value == "completed"
                return samples if finished and total(samples, "aga_swarm_operations_total") > 0 else None

            samples: Samples = await poll(done, timeout=60, what="the worker to finish the swarm")
        finally:
            svc.close()
        assert total(samples, "aga_swarm_operations_total", kind="llm_call", outcome="done") > 0
        assert total(samples, "aga_swarm_model_calls_total") > 0
        assert ("aga_swarm_sockets_open", ()) not in samples  # a worker has no sockets
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "worker stopped" in out
