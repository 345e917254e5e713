"""The engine's counters and their Prometheus export, checked against what the store recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from aga_swarm.actions import register_builtins
from aga_swarm.engine.engine import Engine
from aga_swarm.metrics import registry_for
from aga_swarm.schemas import EventType, SwarmStatus
from aga_swarm.sdk import ActionSpec, NoContext, Registry, StepContext
from aga_swarm.service import SwarmService
from aga_swarm.service.composition import open_engine

from ..conftest import make_service
from ..engine.helpers import run_answering


def scrape(engine: Engine) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by (name, sorted labels)."""
    text = generate_latest(registry_for(engine)).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_operations_and_model_calls_match_the_store(backend: str, tmp_path: Path,
                                                          request: pytest.FixtureRequest) -> None:
    svc = make_service(backend, tmp_path, request)
    try:
        swarm = svc.create_swarm("u1", "Ask the user for a colour\nWrite a haiku about it\nPlan: a; b")
        svc.spawn(swarm.id)
        assert await run_answering(svc, swarm.id, {"Ask": ["indigo, the colour of dusk"]}) is SwarmStatus.COMPLETED
        stats = svc.engine.stats
        calls = [e for e in svc.history(swarm.id).events if e.type is EventType.LLM_CALL]
        assert calls
        model = calls[0].data["model"]
        assert stats.models[model].calls == len(calls)
        assert stats.models[model].tokens_in == sum(e.data["tokens_in"] for e in calls)
        assert stats.models[model].tokens_out == sum(e.data["tokens_out"] for e in calls)
        assert stats.ops_done["llm_call"] == len(calls)  # one operation per model call
        assert stats.ops_done["spawn"] == len(svc.state(swarm.id).nodes)
        assert stats.ops_done.get("user_reply", 0) == 1  # one reply resumed its node
        # the runner's own count (it also counts what a reply ran inline, in the API's transaction)
        assert sum(stats.ops_done.values()) == svc.runner.ops_done
        assert stats.ops_failed == {}
        samples = scrape(svc.engine)
        assert samples[("aga_swarm_operations_total", (("kind", "spawn"), ("outcome", "done")))] == \
            stats.ops_done["spawn"]
        assert samples[("aga_swarm_model_calls_total", (("model", model), ("outcome", "ok")))] == len(calls)
        assert samples[("aga_swarm_model_tokens_total", (("direction", "in"), ("model", model)))] == \
            stats.models[model].tokens_in
        executions = sum(h.counts[-1] + sum(h.counts[:-1]) for h in stats.op_seconds.values())
        assert sum(v for (name, _), v in samples.items() if name == "aga_swarm_operation_seconds_count") == \
            executions > 0
        assert samples[("aga_swarm_store_up", ())] == 1
    finally:
        svc.close()


async def test_failed_operations_and_held_queue(tmp_path: Path) -> None:
    reg = register_builtins(Registry())

    @reg.step("boom.start")
    def boom(ctx: StepContext, data: NoContext, result: None) -> None:
        raise RuntimeError("kaboom")

    reg.register_action(ActionSpec(id="boom", description="explodes", entry_step="boom.start", routable=True))
    svc = SwarmService(open_engine(data_dir=tmp_path, registry=reg))
    try:
        s = svc.create_swarm("u1", "boom")
        from datetime import UTC, datetime

        from aga_swarm.engine.context import spawn_node
        from aga_swarm.engine.tx import SwarmTx

        with svc.db.tx() as conn:
            tx = SwarmTx(conn, s.id, datetime.now(UTC))
            tx.set_status(SwarmStatus.RUNNING)
            spawn_node(tx, "n", None, 0, reg.get_action("boom"), "boom", "boom", {})
            tx.flush()
        await svc.run_until_idle(s.id)
        assert svc.engine.stats.ops_failed == {"spawn": 1}
        assert scrape(svc.engine)[("aga_swarm_operations_total", (("kind", "spawn"), ("outcome", "failed")))] == 1

        paused = svc.create_swarm("u1", "task a\ntask b")
        svc.spawn(paused.id)
        svc.pause(paused.id)
        from sqlalchemy import text

        with svc.db.read() as conn:
            held = dict(conn.execute(text("SELECT kind, count(*) FROM operations WHERE status = 'held' "
                                          "GROUP BY kind")).all())
        assert held
        samples = scrape(svc.engine)
        for kind, n in held.items():
            assert samples[("aga_swarm_queue_operations", (("kind", kind), ("status", "held")))] == n
            assert samples[("aga_swarm_queue_oldest_seconds", (("kind", kind), ("status", "held")))] >= 0
    finally:
        svc.close()
