"""Row <-> model conversions and read queries over the SQL tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Row

from ..schemas import (
    ChatSummary,
    JournalEntry,
    LLMCall,
    Message,
    Node,
    Swarm,
    SwarmEvent,
    Usage,
)
from . import packing
from .sql import CHAT, LIVE_LIFECYCLES, NODE, fetch_one, from_json, swarm_row

M = TypeVar("M", bound=BaseModel)


def ts(dt: datetime) -> float:
    return dt.timestamp()


def dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def swarm_from_row(row: Row[Any]) -> Swarm:
    return Swarm(
        id=row.id, owner_id=row.owner_id, name=row.name, goal=row.goal, config_id=row.config_id,
        status=row.status, failure_reason=row.failure_reason, root_node_id=row.root_node_id,
        forked_from=row.forked_from, forked_at_seq=row.forked_at_seq, last_seq=row.last_seq,
        created_at=dt(row.created_at), updated_at=dt(row.updated_at),
    )


def from_stored(cls: type[M], data: Any) -> M:
    """A model from a JSON column: text (or packed, ``packing``) on SQLite (parsed and validated in one pass),
    decoded on PostgreSQL."""
    if isinstance(data, (str, bytes)):
        return cls.model_validate_json(packing.text(data))
    return cls.model_validate(data)


def usage_from_row(row: Row[Any]) -> Usage:
    return from_stored(Usage, row.usage or {})


def auto_approve_from_row(row: Row[Any]) -> list[str]:
    """The swarm row's ``auto_approve`` column: JSON text on SQLite, decoded on PostgreSQL."""
    return [str(t) for t in from_json(row.auto_approve) or ()]


def node_row(swarm_id: str, node: Node) -> dict[str, Any]:
    return {"swarm_id": swarm_id, "id": node.id, "parent_id": node.parent_id, "lifecycle": node.lifecycle.value,
            "live": int(node.lifecycle.value in LIVE_LIFECYCLES), "data": node.model_dump(mode="json")}


def chat_from_row(row: Row[Any]) -> ChatSummary:
    return from_stored(ChatSummary, row.data)


def chat_row(swarm_id: str, chat: ChatSummary) -> dict[str, Any]:
    return {"swarm_id": swarm_id, "id": chat.id, "node_id": chat.node_id, "status": chat.status.value,
            "data": chat.model_dump(mode="json")}


def message_from_row(row: Row[Any]) -> Message:
    return Message(id=row.id, chat_id=row.chat_id, index=row.idx, role=row.role, content=row.content,
                   attachments=from_json(row.attachments) or [], reply_to=row.reply_to, created_at=dt(row.created_at))


def event_from_row(row: Row[Any]) -> SwarmEvent:
    return SwarmEvent(swarm_id=row.swarm_id, seq=row.seq, ts=dt(row.ts), type=packing.long_type(row.type),
                      node_id=row.node_id, data=from_json(row.data))


def event_row(event: SwarmEvent) -> dict[str, Any]:
    return {"swarm_id": event.swarm_id, "seq": event.seq, "ts": ts(event.ts), "type": event.type.value,
            "node_id": event.node_id, "data": event.data}


def journal_from_row(row: Row[Any]) -> JournalEntry:
    return journal_entry(row, row.step, row.text, row.created_at)


def journal_entry(row: Row[Any], step: str, text: str, created_at: float) -> JournalEntry:
    """A journal row's entry with its step, text and time (a row since migration 0012 has them in its event)."""
    return JournalEntry(id=row.id, node_id=row.node_id, step=step, text=text, created_at=dt(created_at))


def llm_call_from_row(row: Row[Any], body: dict[str, Any]) -> LLMCall:
    """``body`` (prompts, raw and parsed output) comes from the row or, when it was large, the blob store."""
    return LLMCall(id=row.id, node_id=row.node_id, step=row.step, kind=row.kind, model=row.model,
                   messages=body.get("messages", []), raw_output=body.get("raw_output"),
                   parsed_output=body.get("parsed_output"), tokens_in=row.tokens_in, tokens_out=row.tokens_out,
                   latency_ms=row.latency_ms, cost_usd=row.cost_usd, attempts=row.attempts, attempt=row.attempt,
                   replan=row.replan, error=row.error, created_at=dt(row.created_at))


def load_swarm_row(conn: Any, swarm_id: str, *, for_update: bool = False) -> Any:
    return swarm_row(conn, swarm_id, for_update=for_update)


def load_node(conn: Any, swarm_id: str, node_id: str) -> Node | None:
    row = fetch_one(conn, NODE, {"sid": swarm_id, "id": node_id})
    return node_from_data(row.data) if row else None


def node_from_data(data: Any) -> Node:
    return from_stored(Node, data)


def load_chat(conn: Any, swarm_id: str, chat_id: str) -> ChatSummary | None:
    row = fetch_one(conn, CHAT, {"sid": swarm_id, "id": chat_id})
    return chat_from_row(row) if row else None
