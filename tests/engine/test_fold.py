"""State is the fold of history: checked on full runs, at past seqs, across snapshots and compaction."""

from __future__ import annotations

import pytest

from aga_swarm.engine.errors import HistoryCompacted, InvalidInput
from aga_swarm.engine.fold import apply_event, fold
from aga_swarm.schemas import EventType, SwarmState, SwarmStatus
from aga_swarm.service import SwarmService

from .helpers import run_answering

GOAL = "Ask the user for their favourite colour\nWrite a haiku about it\nPlan: a; b; Plan: c\nSummarise the day"


async def test_state_equals_fold_of_history_after_full_run(svc: SwarmService) -> None:
    swarm = svc.create_swarm("u1", GOAL)
    svc.spawn(swarm.id)
    assert await run_answering(svc, swarm.id, {"Ask": ["x", "blue"]}) is SwarmStatus.COMPLETED
    history = svc.history(swarm.id)
    state = svc.state(swarm.id)
    folded = fold(history.events, SwarmState(swarm_id=swarm.id))
    assert folded == state
    assert [e.seq for e in history.events] == list(range(1, state.seq + 1))
    assert state.nodes["n"].report and "blue" in state.nodes["n"].report


async def test_node_updated_carries_a_continuation_delta_and_whole_continuations_still_fold(svc: SwarmService) -> None:
    swarm = svc.create_swarm("u1", GOAL)
    svc.spawn(swarm.id)
    assert await run_answering(svc, swarm.id, {"Ask": ["x", "blue"]}) is SwarmStatus.COMPLETED
    events = svc.history(swarm.id).events
    updates = [e.data["changes"] for e in events if e.type is EventType.NODE_UPDATED]
    deltas = [c["continuation_delta"] for c in updates if "continuation_delta" in c]
    assert len(deltas) > 20
    assert all(c["continuation"] is None for c in updates if "continuation" in c)  # a whole one only when none
    assert not any("node_id" in d for d in deltas)  # always the event's node
    assert sum("created_at" not in d for d in deltas) > len(deltas) / 2  # mostly the event's ts
    assert any("kind" not in d for d in deltas) and any("context" not in d for d in deltas)
    # a history written before the deltas (each new continuation whole) folds to the same state at every seq
    state, old_form = SwarmState(swarm_id=swarm.id), []
    for e in events:
        apply_event(state, e)
        changes = e.data.get("changes", {})
        if "continuation_delta" in changes:
            cont = state.nodes[str(e.node_id)].continuation
            assert cont is not None
            whole = {k: v for k, v in changes.items() if k != "continuation_delta"}
            whole["continuation"] = cont.model_dump(mode="json")
            e = e.model_copy(update={"data": {"changes": whole}})
        old_form.append(e)
    assert state == svc.state(swarm.id)
    assert not any("continuation_delta" in e.data.get("changes", {}) for e in old_form)
    for seq in range(0, len(events) + 1):
        assert fold(old_form[:seq], SwarmState(swarm_id=swarm.id)) == fold(events[:seq], SwarmState(swarm_id=swarm.id))


async def test_a_node_created_in_a_transaction_comes_as_that_transaction_left_it(svc: SwarmService) -> None:
    """A node's changes in the transaction that created it travel in its ``node_spawned`` (no ``node_updated`` of
    that transaction), a model call's reservation included; the older form (``spawned``, then a ``node_updated``
    with the changes) folds to the same state."""
    swarm = svc.create_swarm("u1", GOAL)
    svc.spawn(swarm.id)
    assert await run_answering(svc, swarm.id, {"Ask": ["x", "blue"]}) is SwarmStatus.COMPLETED
    events = svc.history(swarm.id).events
    spawned = {e.data["node"]["id"]: e for e in events if e.type is EventType.NODE_SPAWNED}
    started = [e for e in spawned.values() if e.data["node"]["lifecycle"] not in ("spawned", "waiting_deps")]
    assert any(e.data["node"]["continuation"]["request"].get("reserve") for e in started
               if e.data["node"]["continuation"])
    assert all(e.data["node"]["children"] == [] for e in spawned.values())
    assert not [e for e in events if e.type is EventType.NODE_UPDATED and e.node_id in spawned
                and e.ts == spawned[e.node_id].ts]  # none in the transaction that made the node
    old_form = []
    for e in events:
        node = e.data.get("node") if e.type is EventType.NODE_SPAWNED else None
        if node is None or node["lifecycle"] in ("spawned", "waiting_deps"):
            old_form.append(e)
            continue
        fresh = {**node, "lifecycle": "spawned", "continuation": None, "report": None, "failure_reason": None,
                 "context_up": {}}
        changes = {k: v for k, v in node.items() if fresh[k] != v}
        old_form.append(e.model_copy(update={"data": {"node": fresh}}))
        old_form.append(e.model_copy(update={"type": EventType.NODE_UPDATED, "node_id": node["id"],
                                             "data": {"changes": changes}}))
    assert fold(old_form, SwarmState(swarm_id=swarm.id)) == fold(events, SwarmState(swarm_id=swarm.id)) \
        == svc.state(swarm.id)


def test_a_new_chat_row_is_what_its_summary_writes() -> None:
    """The row of a new node's chat, written without its ``ChatSummary`` (``tx._new_chat_json``), is the very text
    of ``model_dump_json`` of that summary."""
    from aga_swarm.engine.tx import _new_chat_json
    from aga_swarm.schemas import ChatSummary

    for title in ("leaf 1", 'a "quoted" \\ title', "ünïcødé ✓ 漢字", ""):
        expected = ChatSummary(id="chat-n.1.2", node_id="n.1.2", title=title).model_dump_json()
        assert _new_chat_json("chat-n.1.2", "n.1.2", title) == expected


async def test_state_at_matches_prefix_fold_and_uses_snapshots(svc: SwarmService) -> None:
    swarm = svc.create_swarm("u1", "\n".join(f"task {i}" for i in range(50)))
    svc.spawn(swarm.id)
    await run_answering(svc, swarm.id)
    events = svc.history(swarm.id).events
    assert len(events) > 600
    for seq in (0, 1, 37, 256, 300, 511, 512, len(events) - 1, len(events)):
        expected = fold(events[:seq], SwarmState(swarm_id=swarm.id))
        assert svc.state_at(swarm.id, seq) == expected
    from sqlalchemy import select

    from aga_swarm.store import tables as t

    with svc.db.read() as conn:
        snaps = [r.seq for r in conn.execute(select(t.snapshots.c.seq).where(t.snapshots.c.swarm_id == swarm.id))]
    assert 256 in snaps and 512 in snaps
    # a snapshot-backed read still equals the fold
    assert svc.state_at(swarm.id, 520) == fold(events[:520], SwarmState(swarm_id=swarm.id))
    with pytest.raises(InvalidInput):
        svc.state_at(swarm.id, len(events) + 1)


async def test_compaction_keeps_recent_history_and_state(svc: SwarmService) -> None:
    swarm = svc.create_swarm("u1", "\n".join(f"task {i}" for i in range(10)))
    svc.spawn(swarm.id)
    await run_answering(svc, swarm.id)
    before = svc.state(swarm.id)
    last = before.seq
    details = {n: svc.node_detail(swarm.id, n) for n in before.nodes}
    assert all(d.journal for d in details.values())
    dropped = svc.compact(swarm.id, keep=50)
    assert dropped == last - 50
    # the developer log loses nothing: journal lines whose text was in the dropped events kept it (migration 0012)
    assert {n: svc.node_detail(swarm.id, n) for n in before.nodes} == details
    hist = svc.history(swarm.id)
    assert hist.first_seq == last - 49 and hist.events[0].seq == last - 49
    assert svc.state_at(swarm.id, last) == before
    assert svc.state_at(swarm.id, last - 50).seq == last - 50
    with pytest.raises(HistoryCompacted):
        svc.state_at(swarm.id, 3)


async def test_retention_setting_compacts_when_the_swarm_ends(svc: SwarmService) -> None:
    from aga_swarm.schemas import SwarmConfig

    svc.save_config(SwarmConfig(id="short-memory", name="short", history_retention=20))
    s = svc.create_swarm("u1", "a\nb\nc", config_id="short-memory")
    svc.spawn(s.id)
    await run_answering(svc, s.id)
    hist = svc.history(s.id)
    assert len(hist.events) == 20 and hist.first_seq == hist.last_seq - 19
    assert svc.state_at(s.id, hist.last_seq) == svc.state(s.id)


async def test_node_detail_at_a_seq_shows_the_journal_and_calls_of_that_point(svc: SwarmService) -> None:
    """The history slider's node panel: at any seq, the journal lines and model calls whose events came at or
    before it, in order, even when one transaction wrote several of them (they share its timestamp)."""
    from aga_swarm.engine.errors import NodeNotFound
    from aga_swarm.schemas import EventType

    s = svc.create_swarm("u1", "Write note 1\nAsk the user for a colour\nSummarise the notes")
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    events = svc.history(s.id).events
    for node_id in svc.state(s.id).nodes:
        mine = [e for e in events if e.node_id == node_id]
        points = sorted({e.seq for e in mine if e.type in (EventType.JOURNAL, EventType.LLM_CALL)})
        for at in [mine[0].seq, *points, *(p - 1 for p in points)]:
            detail = svc.node_detail(s.id, node_id, at=at)
            upto = [e for e in mine if e.seq <= at]
            assert [j.text for j in detail.journal] == [e.data["text"] for e in upto if e.type is EventType.JOURNAL]
            assert [c.id for c in detail.llm_calls] == [e.data["id"] for e in upto if e.type is EventType.LLM_CALL]
            assert detail.node == svc.state_at(s.id, at).nodes[node_id]
        now = svc.node_detail(s.id, node_id)
        assert svc.node_detail(s.id, node_id, at=events[-1].seq) == now
        if mine[0].seq > 1:
            with pytest.raises(NodeNotFound):
                svc.node_detail(s.id, node_id, at=mine[0].seq - 1)  # before the node existed
