"""Parity tests of the hot path's codec (``aga_swarm.store.codec``): models built without validation equal the
validated ones (fields, JSON, fields-set), and rows written by position carry each statement's parameters in
order."""

from __future__ import annotations

import pytest

from aga_swarm.store import sql
from aga_swarm.store.codec import (
    MessageRow,
    jsonable_changes,
    new_continuation,
    set_fields,
    trusted,
    trusted_event,
    trusted_with_defaults,
)


def test_engine_built_events_equal_validated_ones() -> None:
    """The engine builds events without validation (``codec.trusted_event``); they must be the same objects pydantic
    would build, serialise the same and compare equal."""
    from datetime import UTC, datetime

    from aga_swarm.schemas import EventType, SwarmEvent

    now = datetime.now(UTC)
    data = {"changes": {"lifecycle": "done", "report": "ok"}}
    fast = trusted_event("s1", 3, now, EventType.NODE_UPDATED, "n.1", data)
    slow = SwarmEvent(swarm_id="s1", seq=3, ts=now, type=EventType.NODE_UPDATED, node_id="n.1", data=data)
    assert fast == slow
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast.model_fields_set == slow.model_fields_set
    assert SwarmEvent.model_validate_json(fast.model_dump_json()) == slow


def test_engine_built_continuations_equal_validated_ones() -> None:
    """Continuations are built without validation too (``codec.new_continuation``)."""
    from datetime import UTC, datetime

    from aga_swarm.schemas import Continuation, ContinuationKind

    now = datetime.now(UTC)
    args = {"node_id": "n.1", "kind": ContinuationKind.USER, "request": {"message": "Why?", "posted": False},
            "context": {"i": 1, "items": ["a"]}, "next_step": "ask.on_reply", "token": "n.1@7", "created_at": now}
    fast = new_continuation(**args)  # type: ignore[arg-type]
    slow = Continuation(**args)  # type: ignore[arg-type]
    assert fast == slow
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast.model_fields_set == slow.model_fields_set
    assert Continuation.model_validate_json(fast.model_dump_json()) == slow


def test_engine_built_nodes_and_chats_equal_validated_ones() -> None:
    """A new node, its chat summary and a child's outcome are built without validation too
    (``codec.trusted_with_defaults``, for wide fan-outs): the defaults they leave out are filled as pydantic
    fills them, and they serialise and compare the same."""
    from datetime import UTC, datetime

    from aga_swarm.schemas import ActionType, ChatSummary, Lifecycle, Node, TerminationPolicy
    from aga_swarm.sdk import ChildOutcome

    now = datetime.now(UTC)
    args = {"id": "n.1", "swarm_id": "s1", "parent_id": "n", "depth": 1, "action_id": "do",
            "action_type": next(iter(ActionType)), "directive": "Write", "title": "Write",
            "termination_policy": TerminationPolicy.ALL, "context_down": {"j": 1}, "needs": [], "needed_by": [],
            "lifecycle": Lifecycle.SPAWNED, "failure_reason": None, "chat_id": "chat-n.1", "created_at": now,
            "updated_at": now}
    cases = [(Node, args), (ChatSummary, {"id": "chat-n.1", "node_id": "n.1", "title": "Write"}),
             (ChildOutcome, {"id": "n.1", "directive": "Write", "action_id": "do", "lifecycle": Lifecycle.DONE,
                             "report": "ok", "failure_reason": None, "context_up": {}})]
    for cls, fields in cases:
        fast = trusted_with_defaults(cls, dict(fields))  # type: ignore[type-var]
        slow = cls(**fields)  # type: ignore[operator]
        assert fast == slow
        assert fast.model_dump_json() == slow.model_dump_json()
        assert fast.model_fields_set == slow.model_fields_set
        assert cls.model_validate_json(fast.model_dump_json()) == slow  # type: ignore[attr-defined]
    one, two = (trusted_with_defaults(Node, dict(args)) for _ in range(2))
    one.children.append("n.1.1")
    assert two.children == []  # each gets its own mutable defaults
    # a child's outcome gives every field (``StepRuntime.children_outcomes`` builds it with ``trusted``)
    outcome = cases[2][1]
    assert list(outcome) == list(ChildOutcome.model_fields)
    built = trusted(ChildOutcome, dict(outcome))
    assert built == ChildOutcome(**outcome) and built.model_fields_set == ChildOutcome(**outcome).model_fields_set


def test_every_positional_statement_names_its_row_and_a_wrong_row_is_refused() -> None:
    positional = [q for q in vars(sql).values() if isinstance(q, sql.Q) and q.row is not None]
    assert {q.row.__name__ for q in positional if q.row is not None} >= {
        "EventRow", "NodeRow", "NodeUpdateRow", "NodeDataRow", "ChatRow", "ChatUpdateRow", "MessageRow",
        "JournalRow", "RequestRow", "SwarmUpdateRow", "SwarmSeqRow"}
    for q in positional:
        assert q.row is not None and tuple(q.row._fields) == q.names  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="MessageRow"):
        sql.Q("INSERT INTO journal (swarm_id, node_id) VALUES (:swarm_id, :node_id)").positional(MessageRow)


def test_typed_changes_set_directly_equal_validated_assignment() -> None:
    """``set_fields`` sets a value of the declared type directly and validates anything else, as the fold's
    validated assignment of the JSON form would."""
    from datetime import UTC, datetime

    from aga_swarm.schemas import ChatStatus, ChatSummary

    now = datetime.now(UTC)
    fast = ChatSummary(id="c", node_id="n", title="t")
    slow = ChatSummary(id="c", node_id="n", title="t")
    changes = {"status": ChatStatus.AWAITING_USER, "awaiting_since": now, "followups": 2}
    jsonable = jsonable_changes(changes)
    set_fields(fast, changes, jsonable, {"status": ChatStatus, "followups": int})  # awaiting_since: validated
    for key, value in jsonable.items():
        setattr(slow, key, value)
    assert fast == slow and fast.model_dump_json() == slow.model_dump_json()


def test_new_nodes_and_chats_built_in_one_go_equal_validated_ones() -> None:
    """``new_node`` and ``new_chat`` (a fan-out's children, without validation) equal ``Node(...)`` and
    ``ChatSummary(...)`` with the same fields: values, JSON (key order included), fields-set; and ``node_json``
    equals ``model_dump(mode="json")`` for such a node, and for one with contexts, a continuation and children."""
    from datetime import UTC, datetime

    from aga_swarm.schemas import ActionType, ChatSummary, ContinuationKind, Lifecycle, Node
    from aga_swarm.store.codec import new_chat, new_node, node_json

    now = datetime.now(UTC)
    args = {"id": "n.1", "swarm_id": "s1", "parent_id": "n", "depth": 1, "action_id": "do",
            "action_type": next(iter(ActionType)), "directive": "Write", "title": "Write",
            "termination_policy": "all", "context_down": {}, "needs": ["n.0"], "needed_by": [],
            "lifecycle": Lifecycle.WAITING_DEPS, "failure_reason": None, "chat_id": "chat-n.1", "created_at": now,
            "updated_at": now}
    fast, slow = new_node(**args), Node(**args)  # type: ignore[arg-type]
    assert fast == slow
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast.model_fields_set == slow.model_fields_set
    assert node_json(fast) == slow.model_dump(mode="json")
    assert list(node_json(fast)) == list(slow.model_dump(mode="json"))
    assert list(node_json(slow)) == list(slow.model_dump(mode="json"))  # a validated node: the same order
    data = node_json(fast)  # holds none of the node's mutable values (it goes into an event)
    for key in ("children", "needs", "needed_by", "inbox", "attachments", "context_down", "context_up"):
        assert data[key] is not getattr(fast, key)
    other = new_node(**args)  # type: ignore[arg-type]
    other.children.append("n.1.1")
    assert fast.children == [] and fast.context_up == {}  # each gets its own mutable defaults
    cont = new_continuation("n.1", ContinuationKind.STEP, {}, {}, "do.go", "n.1@3", now)
    busy = slow.model_copy(update={"context_down": {"k": [1]}, "children": ["n.1.1"], "continuation": cont})
    assert node_json(busy) == busy.model_dump(mode="json")
    chat_fast, chat_slow = new_chat("chat-n.1", "n.1", "Write"), ChatSummary(id="chat-n.1", node_id="n.1",
                                                                            title="Write")
    assert chat_fast == chat_slow
    assert chat_fast.model_dump_json() == chat_slow.model_dump_json()
    assert chat_fast.model_fields_set == chat_slow.model_fields_set


def test_row_json_writes_what_pydantic_writes() -> None:
    """``row_json`` (the node and chat rows, by orjson from the fields) gives the very text of
    ``model_dump_json()``: for a new node, one with contexts, a continuation, attachments, inbox and a report, a
    validated one, and chat summaries idle and awaiting since a time with and without microseconds; a value
    orjson cannot write falls back to pydantic."""
    from datetime import UTC, datetime, timedelta, timezone

    from aga_swarm.schemas import ActionType, Attachment, ChatStatus, ChatSummary, ContinuationKind, Lifecycle, Node
    from aga_swarm.store.codec import new_chat, new_node, node_json_and_text, row_json

    now = datetime.now(UTC)
    args = {"id": "n.1", "swarm_id": "s1", "parent_id": "n", "depth": 1, "action_id": "do",
            "action_type": next(iter(ActionType)), "directive": "Write «it»", "title": "Write",
            "termination_policy": "all", "context_down": {}, "needs": [], "needed_by": ["n.2"],
            "lifecycle": Lifecycle.SPAWNED, "failure_reason": None, "chat_id": "chat-n.1", "created_at": now,
            "updated_at": now}
    fresh = new_node(**args)  # type: ignore[arg-type]
    cont = new_continuation("n.1", ContinuationKind.LLM, {"llm_ref": "k", "reserve": {"cost_usd": 0.5, "calls": 1}},
                            {"i": 1, "items": ["a", None, 2.5]}, "do.go", "n.1@3", now.replace(microsecond=0))
    att = Attachment(path="uploads/a.png", name="a.png", content_type="image/png", size=3, sha256="ab", seq=4)
    busy = Node(**{**args, "context_down": {"k": [1, {"x": True}]}, "context_up": {"files": ["f.md"]},
                   "children": ["n.1.1"], "continuation": cont, "attachments": [att], "inbox": ["hi"],
                   "report": "done\nwell", "replans": 2, "attempt": 3, "lifecycle": Lifecycle.WAITING_LLM,
                   "updated_at": now + timedelta(seconds=1)})
    for node in (fresh, busy, Node.model_validate_json(busy.model_dump_json()),
                 new_node(**{**args, "created_at": now.replace(microsecond=0)})):  # type: ignore[arg-type]
        assert row_json(node) == node.model_dump_json()
        assert node_json_and_text(node) == (node.model_dump(mode="json"), node.model_dump_json())
    waiting = ChatSummary(id="chat-n.1", node_id="n.1", title="Write", status=ChatStatus.AWAITING_USER,
                          message_count=2, last_message="Why?", awaiting_since=now.replace(microsecond=0))
    for chat in (new_chat("chat-n.1", "n.1", "Write"), waiting, waiting.model_copy(update={"awaiting_since": now})):
        assert row_json(chat) == chat.model_dump_json()
    odd = busy.model_copy(update={"context_up": {"raw": b"bytes"},
                                  "created_at": now.astimezone(timezone(timedelta(hours=2)))})
    assert row_json(odd) == odd.model_dump_json()
