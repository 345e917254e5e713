"""A swarm's chats and a chat's messages, as stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..schemas import ChatSummary, Message
from . import rows
from . import tables as t


def chats_of(conn: Any, swarm_id: str) -> list[ChatSummary]:
    return [rows.chat_from_row(r) for r in conn.execute(select(t.chats).where(t.chats.c.swarm_id == swarm_id))]


def messages_of(conn: Any, swarm_id: str, chat_id: str) -> list[Message]:
    """The chat's messages in order."""
    return [rows.message_from_row(r) for r in conn.execute(
        select(t.messages).where(t.messages.c.swarm_id == swarm_id, t.messages.c.chat_id == chat_id)
        .order_by(t.messages.c.idx))]
