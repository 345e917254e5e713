"""Row <-> model conversions and read queries over the SQL tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from ..schemas import (
    ChatSummary,
    JournalEntry,
    LLMCall,
    Message,
    Node,
    Operation,
    Swarm,
    SwarmEvent,
    Usage,
)
from . import tables as t


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


def usage_from_row(row: Row[Any]) -> Usage:
    return Usage.model_validate(row.usage or {})


def node_from_row(row: Row[Any]) -> Node:
    return Node.model_validate(row.data)


def node_row(swarm_id: str, node: Node) -> dict[str, Any]:
    return {"swarm_id": swarm_id, "id": node.id, "parent_id": node.parent_id,
            "lifecycle": node.lifecycle.value, "data": node.model_dump(mode="json")}


def chat_from_row(row: Row[Any]) -> ChatSummary:
    return ChatSummary.model_validate(row.data)


def chat_row(swarm_id: str, chat: ChatSummary) -> dict[str, Any]:
    return {"swarm_id": swarm_id, "id": chat.id, "node_id": chat.node_id, "status": chat.status.value,
            "data": chat.model_dump(mode="json")}


def message_from_row(row: Row[Any]) -> Message:
    return Message(id=row.id, chat_id=row.chat_id, index=row.idx, role=row.role, content=row.content,
                   attachments=row.attachments or [], reply_to=row.reply_to, created_at=dt(row.created_at))


def event_from_row(row: Row[Any]) -> SwarmEvent:
    return SwarmEvent(swarm_id=row.swarm_id, seq=row.seq, ts=dt(row.ts), type=row.type,
                      node_id=row.node_id, data=row.data)


def event_row(event: SwarmEvent) -> dict[str, Any]:
    return {"swarm_id": event.swarm_id, "seq": event.seq, "ts": ts(event.ts), "type": event.type.value,
            "node_id": event.node_id, "data": event.data}


def operation_from_row(row: Row[Any]) -> Operation:
    return Operation(id=row.id, swarm_id=row.swarm_id, node_id=row.node_id, kind=row.kind, status=row.status,
                     payload=row.payload, attempts=row.attempts, idempotency_key=row.idem_key,
                     error=row.error, created_at=dt(row.created_at))


def journal_from_row(row: Row[Any]) -> JournalEntry:
    return JournalEntry(id=row.id, node_id=row.node_id, step=row.step, text=row.text,
                        created_at=dt(row.created_at))


def llm_call_from_row(row: Row[Any], body: dict[str, Any]) -> LLMCall:
    return LLMCall(id=row.id, node_id=row.node_id, step=row.step, model=row.model,
                   messages=body.get("messages", []), raw_output=body.get("raw_output"),
                   parsed_output=body.get("parsed_output"), tokens_in=row.tokens_in, tokens_out=row.tokens_out,
                   latency_ms=row.latency_ms, cost_usd=row.cost_usd, attempts=row.attempts, error=row.error,
                   created_at=dt(row.created_at))


def load_swarm_row(conn: Connection, swarm_id: str, *, for_update: bool = False) -> Row[Any] | None:
    q = select(t.swarms).where(t.swarms.c.id == swarm_id)
    if for_update and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    return conn.execute(q).first()


def load_node(conn: Connection, swarm_id: str, node_id: str) -> Node | None:
    row = conn.execute(select(t.nodes.c.data).where(t.nodes.c.swarm_id == swarm_id,
                                                    t.nodes.c.id == node_id)).first()
    return Node.model_validate(row.data) if row else None


def load_chat(conn: Connection, swarm_id: str, chat_id: str) -> ChatSummary | None:
    row = conn.execute(select(t.chats.c.data).where(t.chats.c.swarm_id == swarm_id,
                                                    t.chats.c.id == chat_id)).first()
    return ChatSummary.model_validate(row.data) if row else None
