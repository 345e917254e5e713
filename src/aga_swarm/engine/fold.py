"""The fold: SwarmState is the result of applying SwarmHistory's events in order.

The same rules run in the engine (to update its row projection), in tests (to check the projection) and,
ported line for line, in the browser's reducer.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from ..schemas import (
    ChatSummary,
    Continuation,
    EventType,
    MemoryFile,
    MessageRole,
    Node,
    SwarmEvent,
    SwarmState,
    SwarmStatus,
    Usage,
)


def _patch(model: Any, changes: dict[str, Any]) -> None:
    """Set changed fields in place; validate_assignment checks (and converts) each one."""
    for key, value in changes.items():
        setattr(model, key, value)


# events whose fold changes ``state.usage`` (a transaction writes the usage back only after one of them)
USAGE_EVENTS = frozenset({EventType.NODE_SPAWNED, EventType.LLM_CALL, EventType.USAGE, EventType.SWARM_STATUS})

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def epoch_ms(value: datetime) -> int:
    """Whole milliseconds since the epoch, truncated (as a browser's Date.parse reads an ISO time)."""
    return (value - _EPOCH) // _MS


def run_ms(state: SwarmState, now: datetime) -> int:
    """Milliseconds the swarm has run up to ``now``, paused time not counted."""
    u = state.usage
    since = u.running_since
    return u.run_ms + (max(0, epoch_ms(now) - epoch_ms(since)) if since is not None else 0)


def reserve(usage: Usage, cont: Continuation | None, sign: int) -> bool:
    """Add (``sign`` 1) or release (-1) the worst case a model call's continuation reserved (``request.reserve``,
    see ``limits.check_call``): a continuation that asks the model holds its reservation until it is replaced.
    Returns whether there was one."""
    held = cont.request.get("reserve") if cont is not None else None
    if not held:
        return False
    usage.reserved_calls += sign * int(held.get("calls", 0))
    usage.reserved_tokens += sign * int(held.get("tokens", 0))
    usage.reserved_cost_usd = round(usage.reserved_cost_usd + sign * float(held.get("cost_usd", 0.0)), 9)
    return True


def continuation_from_delta(old: Continuation | None, node_id: str, ts: datetime,
                            delta: dict[str, Any]) -> Continuation:
    """The continuation a ``continuation_delta`` describes: the node's previous one (or, when it had none, one with
    only its ``node_id`` and empty request and context), ``created_at`` the event's ``ts``, then the delta's
    fields set (``SwarmTx.settle`` writes only the fields that differ)."""
    base: dict[str, Any] = dict(old.__dict__) if old is not None else {"node_id": node_id, "request": {},
                                                                        "context": {}}
    base["created_at"] = ts
    base.update(delta)
    return Continuation.model_validate(base)


def continuation_delta(old: Continuation | None, node_id: str, new: dict[str, Any], ts: str) -> dict[str, Any]:
    """The ``continuation_delta`` of ``new`` (a continuation's JSON) after ``old``, in an event whose ``ts`` is
    ``ts`` (as JSON): the fields of ``new`` that ``continuation_from_delta`` would not give otherwise."""
    base: dict[str, Any] = old.__dict__ if old is not None else {"node_id": node_id, "request": {}, "context": {}}
    get = base.get
    # a StrEnum equals its value; request and context are JSON
    out = {key: value for key, value in new.items() if key != "created_at" and get(key, _MISSING) != value}
    if new["created_at"] != ts:
        out["created_at"] = new["created_at"]
    return out


_MISSING = object()


def apply_event(state: SwarmState, event: SwarmEvent) -> None:
    """Apply one event in place. Entities an event names must already be in ``state``."""
    data = event.data
    kind = event.type
    if kind is EventType.NODE_SPAWNED:
        node = Node.model_validate(data["node"])
        state.nodes[node.id] = node
        if node.parent_id is not None:
            parent = state.nodes[node.parent_id]
            parent.children.append(node.id)
        else:
            state.root_node_id = node.id
        state.chats[node.chat_id] = ChatSummary(id=node.chat_id, node_id=node.id, title=node.title)
        state.usage.nodes += 1
        reserve(state.usage, node.continuation, 1)  # spawned waiting on the model (in the transaction that made it)
    elif kind is EventType.NODE_UPDATED:
        assert event.node_id is not None
        node = state.nodes[event.node_id]
        changes = data["changes"]
        delta = changes.get("continuation_delta")
        swapped = delta is not None or "continuation" in changes
        if swapped:
            reserve(state.usage, node.continuation, -1)
        if delta is not None:  # what changed since the node's previous continuation
            changes = {k: v for k, v in changes.items() if k != "continuation_delta"}
            changes["continuation"] = continuation_from_delta(node.continuation, node.id, event.ts, delta)
        _patch(node, {**changes, "updated_at": event.ts})
        if swapped:
            reserve(state.usage, node.continuation, 1)
    elif kind is EventType.CHAT_UPDATED:
        chat_id = data["chat_id"]
        _patch(state.chats[chat_id], data["changes"])
    elif kind is EventType.MESSAGE_POSTED:
        msg = data["message"]
        fields = state.chats[msg["chat_id"]].__dict__  # typed values: no need to validate each assignment
        fields["message_count"] += 1
        fields["last_message"] = str(msg["content"])[:280]
        fields["last_role"] = MessageRole(msg["role"])
    elif kind is EventType.SWARM_STATUS:
        status = SwarmStatus(data["status"])
        state.status = status
        state.failure_reason = data.get("reason")
        u = state.usage
        if status is SwarmStatus.RUNNING:
            if u.running_since is None:
                u.running_since = event.ts
        elif u.running_since is not None:  # run time stops counting (paused or ended)
            u.run_ms += max(0, epoch_ms(event.ts) - epoch_ms(u.running_since))
            u.running_since = None
    elif kind is EventType.LLM_CALL:
        u = state.usage
        u.llm_calls += 1
        u.tokens_in += int(data.get("tokens_in", 0))
        u.tokens_out += int(data.get("tokens_out", 0))
        u.cost_usd = round(u.cost_usd + float(data.get("cost_usd", 0.0)), 9)
    elif kind is EventType.USAGE:
        for key, delta in data["delta"].items():
            setattr(state.usage, key, getattr(state.usage, key) + delta)
    elif kind is EventType.MEMORY_WRITTEN:
        path = str(data["path"])
        state.memory[path] = MemoryFile(path=path, title=str(data["title"]), size=int(data["size"]),
                                        content_type=str(data["content_type"]), node_id=data.get("node_id"),
                                        seq=event.seq)
    elif kind is EventType.AUTO_APPROVE:
        tool = str(data["tool"])
        rest = [t for t in state.auto_approve if t != tool]
        state.auto_approve = sorted([*rest, tool]) if data["enabled"] else rest
    # JOURNAL events carry narrative only; they do not change state.
    state.__dict__["seq"] = event.seq  # an int, as declared: no need for pydantic's setattr


def fold(events: Iterable[SwarmEvent], state: SwarmState) -> SwarmState:
    for event in events:
        apply_event(state, event)
    return state


def node_ids_touched(event: SwarmEvent) -> list[str]:
    """Nodes an event needs loaded before it can be applied to a partial state."""
    if event.type is EventType.NODE_UPDATED and event.node_id:
        return [event.node_id]
    return node_ids_touched_by(event.type, event.data)


def node_ids_touched_by(kind: EventType, data: dict[str, Any]) -> list[str]:
    """The nodes whose fields the fold of an event of ``kind`` with ``data`` changes (``node_updated`` aside: its
    node is the event's)."""
    if kind is EventType.NODE_SPAWNED:
        parent = data["node"].get("parent_id")
        return [parent] if parent else []
    return []


def chat_ids_touched(event: SwarmEvent) -> list[str]:
    if event.type is EventType.CHAT_UPDATED:
        return [event.data["chat_id"]]
    if event.type is EventType.MESSAGE_POSTED:
        return [event.data["message"]["chat_id"]]
    return []
