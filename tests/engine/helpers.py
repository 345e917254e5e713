"""Helpers for driving swarms in tests."""

from __future__ import annotations

from typing import Any

from aga_swarm.schemas import EventType, SwarmState, SwarmStatus
from aga_swarm.sdk import Registry
from aga_swarm.service import SwarmService

# wall-clock values, and positions in the history: a transaction emits one node_updated per node it changed, so
# how operations were grouped (a pause, a crash, several workers) moves every later seq (see effect_events)
VOLATILE = {"created_at", "updated_at", "awaiting_since", "ts", "token", "run_ms", "running_since", "seq"}

# one run that emits every event type: a question (messages, chat updates), a tool call that writes memory, a
# re-plan (usage: the confirm policy re-plans the [unconfirmed] line once), pause and resume, auto-approve
EVERY_EVENT_GOAL = "\n".join([
    "Policy: confirm",
    "Ask the user which colour the poster should use",
    "Save the plan Tool: memory.write notes/plan.md Buy milk",
    "Write a haiku about it [unconfirmed]",
])


def strip_volatile(value: Any) -> Any:
    """Drop timestamps, continuation tokens and seqs so two runs of the same work compare equal."""
    if isinstance(value, dict):
        return {k: strip_volatile(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [strip_volatile(v) for v in value]
    return value


def effect_events(svc: SwarmService, swarm_id: str) -> int:
    """How many events a swarm's history holds besides ``node_updated``: a transaction emits one of those per node
    it changed, so their count follows how operations were grouped into transactions (a pause, a crash, a batch
    cut them differently), and the other events' does not."""
    return sum(e.type is not EventType.NODE_UPDATED for e in svc.history(swarm_id).events)


def comparable(state: SwarmState) -> dict[str, Any]:
    data = state.model_dump(mode="json")
    data.pop("swarm_id")
    for node in data["nodes"].values():
        node.pop("swarm_id")
    return strip_volatile(data)  # type: ignore[no-any-return]


async def run_answering(svc: SwarmService, swarm_id: str, answers: dict[str, list[str]] | None = None,
                        default: str = "a fine answer") -> SwarmStatus:
    """Run a swarm to the end, answering each question from ``answers`` (by chat title prefix) or ``default``."""
    answers = {k: list(v) for k, v in (answers or {}).items()}
    for _ in range(1000):
        await svc.run_until_idle(swarm_id, timeout=120)
        swarm = svc.get_swarm(swarm_id)
        if swarm.status is not SwarmStatus.RUNNING:
            return swarm.status
        waiting = svc.waiting_chats(swarm_id)
        assert waiting, "a running swarm went idle with nobody waiting on the user"
        for chat in waiting:
            queue = next((v for k, v in answers.items() if chat.title.startswith(k) and v), None)
            svc.post_reply(swarm_id, chat.id, queue.pop(0) if queue else default)
    raise AssertionError("swarm did not finish")


def builtins_and_installed_plugins() -> Registry:
    """A new registry with the built-ins and the actions of the installed plugins (``aga_swarm.actions`` entry
    points), as a worker process has them."""
    from aga_swarm.service.composition import default_registry

    return default_registry(installed=True)


def keep_done_operations(monkeypatch: Any) -> None:
    """Keep the rows of done operations (marked done instead of deleted) for a test that asks which operations
    were ever written as rows: the engine prunes them once done (migration 0008)."""
    from aga_swarm.store import sql

    monkeypatch.setattr(sql, "DELETE_DONE_OPERATION", sql.Q(
        "UPDATE operations SET status = 'done', lease_until = NULL "
        "WHERE id = :id AND claim = :claim AND status = 'running'"))
    monkeypatch.setattr(sql, "TAKE_RESERVED_OPERATION", sql.Q(  # a reserved one (SQLite: Runner.claim)
        "UPDATE operations SET status = 'done' "
        "WHERE id = :id AND swarm_id = :sid AND idem_key = :key AND status = 'queued'"))


def continuations_set(events: list[Any], swarm_id: str) -> list[tuple[Any, dict[str, Any]]]:
    """Each event of a whole history that gives its node a continuation, with that continuation's JSON as the fold
    makes it: a ``node_updated`` (which carries only what changed: ``continuation_delta``), or the ``node_spawned``
    of a node that left the transaction making it with a continuation (it has no ``node_updated`` there)."""
    from aga_swarm.engine.fold import apply_event

    state, out = SwarmState(swarm_id=swarm_id), []
    for e in events:
        apply_event(state, e)
        if e.type is EventType.NODE_UPDATED:
            changed = "continuation_delta" in e.data["changes"] or "continuation" in e.data["changes"]
        elif e.type is EventType.NODE_SPAWNED:
            changed = e.data["node"].get("continuation") is not None
        else:
            continue
        cont = state.nodes[str(e.node_id)].continuation
        if cont is not None and changed:
            out.append((e, cont.model_dump(mode="json")))
    return out
