"""A fork's rows: a new swarm holding a source swarm's state at a seq, with its history, chats, developer log,
journal and memory space up to that seq, and the blobs they refer to copied under the fork (a swarm's blobs are
deleted with it, so the fork must not point at the source's).

Which operations the forked state implies is the engine's to say (``engine/resume.py``); ``insert_operations``
writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import insert, select

from ..schemas import EventType, OperationKind, OperationStatus, Swarm, SwarmState, SwarmStatus
from . import packing, rows
from . import tables as t
from .blob_keys import BlobStore, swarm_prefix
from .payloads import request_blob_key

PendingOperation = tuple[OperationKind, str, str, dict[str, object]]
"""An operation to write: its kind, node id, idempotency key and payload."""


def copy_swarm(conn: Any, blobs: BlobStore, src: Swarm, new_id: str, *, name: str, state: SwarmState,
               status: SwarmStatus, now: float, memory_key: Callable[[str], str]) -> None:
    """Write the fork ``new_id`` of ``src`` as of ``state`` (its seq), with ``status``. ``memory_key(path)`` is a
    fresh blob key of the fork's for a memory file's bytes."""
    seq = state.seq
    conn.execute(insert(t.swarms).values(
        id=new_id, owner_id=src.owner_id, name=name, goal=src.goal, config_id=src.config_id,
        status=status.value, failure_reason=state.failure_reason, root_node_id=state.root_node_id,
        forked_from=src.id, forked_at_seq=seq, last_seq=seq, first_seq=1,
        usage=state.usage.model_dump(mode="json"), auto_approve=list(state.auto_approve), created_at=now,
        updated_at=now))
    src_events = conn.execute(select(t.events).where(t.events.c.swarm_id == src.id, t.events.c.seq <= seq)
                              .order_by(t.events.c.seq)).all()
    if src_events:
        conn.execute(insert(t.events), [{**rows.event_row(rows.event_from_row(r)), "swarm_id": new_id}
                                        for r in src_events])
    for node in state.nodes.values():
        node = node.model_copy(update={"swarm_id": new_id})
        conn.execute(insert(t.nodes).values(**rows.node_row(new_id, node)))
    for chat in state.chats.values():
        conn.execute(insert(t.chats).values(**rows.chat_row(new_id, chat)))
        msgs = conn.execute(select(t.messages).where(
            t.messages.c.swarm_id == src.id, t.messages.c.chat_id == chat.id,
            t.messages.c.idx < chat.message_count)).all()
        if msgs:
            conn.execute(insert(t.messages), [{**r._asdict(), "swarm_id": new_id} for r in msgs])
    call_ids = [r.data["id"] for r in src_events
                if packing.long_type(r.type) in (EventType.LLM_CALL.value, EventType.TOOL_CALL.value)]
    if call_ids:
        calls = conn.execute(select(t.llm_calls).where(t.llm_calls.c.swarm_id == src.id,
                                                       t.llm_calls.c.id.in_(call_ids))).all()
        conn.execute(insert(t.llm_calls), [{**r._asdict(), "swarm_id": new_id,
                                            "blob_key": _copy_blob(blobs, r.blob_key, src, new_id)} for r in calls])
    requests = conn.execute(select(t.llm_requests).where(t.llm_requests.c.swarm_id == src.id)).all()
    if requests:  # all of them: the continuations and calls kept refer to some (a few extra are harmless)
        conn.execute(insert(t.llm_requests), [{**r._asdict(), "swarm_id": new_id,
                                               "blob_key": _copy_request_blob(blobs, r, src, new_id)}
                                              for r in requests])
    jrows = [{"swarm_id": new_id, "node_id": r.node_id, "step": r.data["step"], "text": r.data["text"],
              "created_at": r.ts, "seq": r.seq} for r in src_events
             if packing.long_type(r.type) == EventType.JOURNAL.value]
    if jrows:
        conn.execute(insert(t.journal), jrows)
    _copy_memory(conn, blobs, src, new_id, seq, memory_key)


def insert_operations(conn: Any, swarm_id: str, pending: Sequence[PendingOperation], status: OperationStatus,
                      now: float) -> None:
    if pending:
        conn.execute(insert(t.operations), [
            {"swarm_id": swarm_id, "node_id": node_id, "kind": kind.value, "status": status.value,
             "payload": payload, "attempts": 0, "idem_key": key, "not_before": 0.0, "created_at": now}
            for kind, node_id, key, payload in pending])


def _copy_request_blob(blobs: BlobStore, row: Any, src: Swarm, new_id: str) -> str | None:
    """A request's blob copied under the fork. A row with neither body nor blob key has its blob where its key
    implies (``payloads.request_blob_key``): the copy goes where the fork's row implies, and a blob lost from the
    store stays named by its source key (the fork shows it as missing, as the source does)."""
    if row.body is not None or row.blob_key is not None:  # (SQLAlchemy's JSON type reads NULL and null as None)
        return _copy_blob(blobs, row.blob_key, src, new_id)
    key = request_blob_key(src.owner_id, src.id, row.key)
    try:
        blobs.put(request_blob_key(src.owner_id, new_id, row.key), blobs.get(key))
    except KeyError:
        return key
    return None


def _copy_blob(blobs: BlobStore, key: str | None, src: Swarm, new_id: str) -> str | None:
    """A blob of the source swarm copied under the fork; None for none."""
    if key is None:
        return None
    prefix = swarm_prefix(src.owner_id, src.id)
    if not key.startswith(prefix):
        return key
    new_key = swarm_prefix(src.owner_id, new_id) + key[len(prefix):]
    try:
        blobs.put(new_key, blobs.get(key))
    except KeyError:
        return key  # lost from the blob store: the fork shows it as missing, as the source does
    return new_key


def _copy_memory(conn: Any, blobs: BlobStore, src: Swarm, new_id: str, seq: int,
                 memory_key: Callable[[str], str]) -> None:
    """Every version of a memory file written at or before ``seq``, its bytes copied under the fork."""
    found = conn.execute(select(t.memory_files).where(t.memory_files.c.swarm_id == src.id,
                                                      t.memory_files.c.seq <= seq)).all()
    copied = []
    for r in found:
        key = memory_key(r.path)
        try:
            blobs.put(key, blobs.get(r.blob_key))
        except KeyError:
            continue  # bytes lost from the blob store: the fork lists what it can read
        copied.append({**r._asdict(), "swarm_id": new_id, "blob_key": key})
    if copied:
        conn.execute(insert(t.memory_files), copied)
