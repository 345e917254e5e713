"""Registries are explicit objects (each engine and each test has its own), steps are declared with ``@step``,
and a step's name, not the function, is what a waiting node stores: a continuation stored as earlier versions
stored it resumes on a registry built afresh, with new step objects."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import BaseModel

from aga_swarm.actions import builtin_registry, register_builtins
from aga_swarm.engine.context import spawn_node
from aga_swarm.engine.tx import SwarmTx
from aga_swarm.schemas import ContinuationKind, Lifecycle, SwarmStatus
from aga_swarm.sdk import ActionSpec, NoContext, Registry, Step, StepContext, UserReply, step
from aga_swarm.service import SwarmService
from aga_swarm.service.composition import open_engine


class GreetCtx(BaseModel):
    greeting: str = "Hi"


def greet_registry() -> Registry:
    """The built-ins and a ``greet`` action, built anew on each call (new functions, new ``Step`` objects)."""
    reg = builtin_registry()

    @reg.step("greet.start")
    def start(ctx: StepContext, data: NoContext, result: None) -> None:
        ctx.ask("Your name?", next_step=on_name, context=GreetCtx(greeting="Hello"))

    @reg.step("greet.on_name", context=GreetCtx, result=UserReply)
    def on_name(ctx: StepContext, data: GreetCtx, result: UserReply) -> None:
        ctx.complete(f"{data.greeting}, {result.content}!")

    reg.register_action(ActionSpec(id="greet", description="Greet the person", entry_step="greet.start",
                                   routable=False), folder="test")
    return reg


def test_each_registry_is_its_own() -> None:
    a, b = builtin_registry(), builtin_registry()
    assert a is not b and a.steps.keys() == b.steps.keys() and "plan" in a.actions
    assert a.get_step("plan.start") is not b.get_step("plan.start")
    assert register_builtins(a) is a and len(a.steps) == len(b.steps)  # the built-ins are added once
    greet = greet_registry()
    assert "greet" in greet.actions and "greet" not in a.actions and "greet" not in builtin_registry().actions


def test_step_declares_and_add_steps_registers() -> None:
    @step("t.one", context=GreetCtx)
    def one(ctx: StepContext, data: GreetCtx, result: None) -> None:
        ctx.complete(data.greeting)

    assert isinstance(one, Step) and (one.name, one.context, one.result) == ("t.one", GreetCtx, None)
    assert one.load_context({"greeting": "Yo"}) == GreetCtx(greeting="Yo")
    reg = Registry()
    reg.add_steps(one, one)  # the same step twice: once
    assert reg.get_step("t.one") is one

    @step("t.one")
    def other(ctx: StepContext, data: NoContext, result: None) -> None:
        ctx.complete("other")

    with pytest.raises(ValueError, match="already registered"):
        reg.add_steps(other)


async def test_a_stored_continuation_resumes_by_name_on_a_new_registry(tmp_path: Path) -> None:
    reg = greet_registry()
    svc = SwarmService(open_engine(data_dir=tmp_path, registry=reg))
    try:
        s = svc.create_swarm("u1", "Greet me")
        with svc.db.tx() as conn:
            tx = SwarmTx(conn, s.id, datetime.now(UTC))
            tx.set_status(SwarmStatus.RUNNING)
            spawn_node(tx, "n", None, 0, reg.get_action("greet"), s.goal, s.name, {})
            tx.flush()
        await svc.run_until_idle(s.id, timeout=30)
        cont = svc.state(s.id).nodes["n"].continuation
        assert cont is not None and cont.kind is ContinuationKind.USER
        # what the node stores is the step's name and plain data, exactly as earlier versions stored it
        stored = cont.model_dump(mode="json")
        assert {k: stored[k] for k in ("node_id", "kind", "next_step", "context")} == {
            "node_id": "n", "kind": "user", "next_step": "greet.on_name", "context": {"greeting": "Hello"}}
        # the question posted, the continuation keeps the message's id, not its text (the chat holds it)
        assert stored["request"]["posted"] is True and "message" not in stored["request"]
        asked = svc.messages(s.id, "chat-n")
        assert stored["request"]["message_id"] == asked[-1].id and asked[-1].content == "Your name?"
    finally:
        svc.close()

    fresh = greet_registry()  # another process's registry: other functions, other Step objects
    assert fresh.get_step("greet.on_name") is not reg.get_step("greet.on_name")
    svc = SwarmService(open_engine(data_dir=tmp_path, registry=fresh))
    try:
        svc.post_reply(s.id, "chat-n", "Ada")
        await svc.run_until_idle(s.id, timeout=30)
        node = svc.state(s.id).nodes["n"]
        assert node.lifecycle is Lifecycle.DONE and node.report == "Hello, Ada!"
    finally:
        svc.close()
