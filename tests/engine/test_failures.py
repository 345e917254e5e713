"""Failures: transient errors retry, permanent ones fail the node with a reason; limits end nodes clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from aga_swarm.engine import modelcall
from aga_swarm.engine.fold import fold
from aga_swarm.llm.protocol import LLMError, LLMRequest, LLMResponse, TransientLLMError
from aga_swarm.llm.scripted import ScriptedModel
from aga_swarm.schemas import Lifecycle, Limits, LLMSettings, SwarmConfig, SwarmState, SwarmStatus
from aga_swarm.service import SwarmService

from ..conftest import make_service
from .helpers import run_answering


class FlakyModel:
    """Fails the first ``transient`` calls with a transient error, and any call whose directive contains
    ``poison`` with a permanent one."""

    def __init__(self, transient: int = 0) -> None:
        self.inner = ScriptedModel()
        self.model = "flaky"
        self.transient = transient
        self.calls = 0

    async def complete(self, request: LLMRequest, output_model: type[BaseModel]) -> LLMResponse:
        self.calls += 1
        if self.transient > 0:
            self.transient -= 1
            raise TransientLLMError("rate limited (429)")
        if "poison" in str(request.facts.get("directive", "")) and request.purpose == "do.execute":
            raise LLMError("the model refused", raw_output="I cannot do that")
        return await self.inner.complete(request, output_model)


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(modelcall, "retry_delay", lambda attempts: 0.01)


async def test_transient_errors_are_retried(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    model = FlakyModel(transient=3)
    svc = make_service(backend, tmp_path, request, llm_factory=lambda cfg: model)
    s = svc.create_swarm("u1", "Write a poem")
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    assert model.calls > 3
    svc.close()


async def test_transient_errors_give_up_after_the_limit(backend: str, tmp_path: Path,
                                                        request: pytest.FixtureRequest) -> None:
    model = FlakyModel(transient=1000)
    svc = make_service(backend, tmp_path, request, llm_factory=lambda cfg: model)
    s = svc.create_swarm("u1", "Write a poem")
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.FAILED
    assert model.calls == modelcall.MAX_TRANSIENT_ATTEMPTS
    assert "rate limited" in (svc.get_swarm(s.id).failure_reason or "")


async def test_permanent_error_fails_node_and_parent_reviews(backend: str, tmp_path: Path,
                                                             request: pytest.FixtureRequest) -> None:
    model = FlakyModel()
    svc = make_service(backend, tmp_path, request, llm_factory=lambda cfg: model)
    s = svc.create_swarm("u1", "Write a poem\nDo the poison task")
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.FAILED
    state = svc.state(s.id)
    bad = state.nodes["n.2"]
    assert bad.directive == "Do the poison task"
    assert bad.lifecycle is Lifecycle.FAILED and "refused" in (bad.failure_reason or "")
    good = next(n for n in state.nodes.values() if n.directive == "Write a poem")
    assert good.lifecycle is Lifecycle.DONE
    detail = svc.node_detail(s.id, bad.id)
    assert detail.llm_calls[-1].error and detail.llm_calls[-1].raw_output == "I cannot do that"
    # the root reviewed the failure (plan policy: wait for all), re-planned it up to the limit, then gave up
    assert svc.get_swarm(s.id).failure_reason == (  # the limit, and what is still missing: the real cause
        "work incomplete after review: re-plan limit 2 reached; still missing: Do the poison task")
    assert state.usage.replans == 2 and state.nodes["n"].replans == 2
    # the root's developer log says which re-plan each review belongs to
    reviews = [c for c in svc.node_detail(s.id, "n").llm_calls if c.step == "plan.on_review"]
    assert [(c.attempt, c.replan) for c in reviews] == [(1, 0), (1, 1), (1, 2)]
    assert [state.nodes[c].directive for c in state.nodes["n"].children] == [
        "Write a poem", "Do the poison task", "Do the poison task", "Do the poison task"]
    svc.close()


def _limited(svc: SwarmService, **limits: int) -> str:
    cfg = SwarmConfig(id=f"lim-{'-'.join(limits)}", name="limited", limits=Limits(**limits),  # type: ignore[arg-type]
                      llm=LLMSettings())
    svc.save_config(cfg)
    return cfg.id


async def test_followup_limit_is_bounded(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Ask the user for their name", config_id=_limited(svc, max_followups=2))
    svc.spawn(s.id)
    status = await run_answering(svc, s.id, default="?")
    assert status is SwarmStatus.COMPLETED
    node = svc.state(s.id).nodes["n.1"]
    assert "Follow-up limit reached" in (node.report or "")
    msgs = svc.messages(s.id, node.chat_id)
    assert [m.role.value for m in msgs] == ["agent", "user", "agent", "user", "agent", "user", "agent"]
    # the chat summary counts the follow-ups (it stayed 0), live and in the fold of the history
    assert svc.state(s.id).chats[node.chat_id].followups == 2
    assert next(c for c in svc.chats(s.id) if c.id == node.chat_id).followups == 2
    folded = fold(svc.history(s.id).events, SwarmState(swarm_id=s.id))
    assert folded.chats[node.chat_id].followups == 2


async def test_model_output_that_never_validates_is_a_reported_failure(svc: SwarmService,
                                                                       tmp_path: Path) -> None:
    script = tmp_path / "bad.yaml"
    script.write_text("- purpose: do.execute\n  repeat: true\n  output: {wrong: 1}\n")
    cfg = SwarmConfig(id="bad-model", name="bad", llm=LLMSettings(script_path=str(script)))
    svc.save_config(cfg)
    s = svc.create_swarm("u1", "Write a poem", config_id=cfg.id)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.FAILED
    node = svc.state(s.id).nodes["n.1"]
    assert "invalid" in (node.failure_reason or "")
