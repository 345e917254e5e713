"""Chats (one per node), messages, journal lines and developer-log records."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from .common import Model


class ChatStatus(StrEnum):
    IDLE = "idle"  # never used yet
    AWAITING_USER = "awaiting_user"
    OPEN = "open"
    CLOSED = "closed"


class MessageRole(StrEnum):
    AGENT = "agent"
    USER = "user"
    SYSTEM = "system"


class Message(Model):
    id: str
    chat_id: str
    index: int
    role: MessageRole
    content: str = Field(description="Markdown")
    attachments: list[str] = Field(default_factory=list, description="Blob keys")
    reply_to: str | None = None
    created_at: datetime


class ChatSummary(Model):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str
    node_id: str
    title: str
    status: ChatStatus = ChatStatus.IDLE
    message_count: int = 0
    last_message: str | None = None
    last_role: MessageRole | None = None
    awaiting_since: datetime | None = None
    followups: int = 0


class JournalEntry(Model):
    id: int
    node_id: str
    step: str
    text: str
    created_at: datetime


class PromptMessage(Model):
    role: str
    content: str


class LLMCall(Model):
    """The developer log record of one model call (or of a step's failure, with error set)."""

    id: str
    node_id: str
    step: str
    model: str
    messages: list[PromptMessage] = Field(default_factory=list)
    raw_output: str | None = None
    parsed_output: Any = None
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0
    cost_usd: float = 0.0
    attempts: int = 1
    error: str | None = None
    created_at: datetime
