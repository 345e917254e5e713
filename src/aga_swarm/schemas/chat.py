"""Chats (one per node), messages, journal lines and developer-log records."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, field_validator

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


class Attachment(Model):
    """A file carried by a message: a version of a file in the swarm's memory space, by path and seq."""

    path: str = Field(description="Its path in the swarm's memory space")
    name: str = Field(description="Its file name, as the sender gave it (for display and download)")
    content_type: str = Field(description="Its type, checked against its bytes when the person sent it")
    size: int = Field(ge=0, description="Bytes")
    sha256: str = Field(description="Hex SHA-256 of its bytes (empty for a reference from an old history)")
    seq: int | None = Field(None, description="The seq of the memory write holding this version: "
                            "GET /api/swarms/{id}/memory/{path}?at=seq downloads exactly it")


def attachment_list(value: object) -> object:
    """Attachments as stored: typed ones, or the bare strings (memory paths or blob keys) of old histories,
    read as untyped references so an old event or row still loads."""
    if not isinstance(value, list):
        return value
    return [{"path": v, "name": v.rsplit("/", 1)[-1], "content_type": "application/octet-stream", "size": 0,
             "sha256": ""} if isinstance(v, str) else v for v in value]


class Message(Model):
    id: str
    chat_id: str
    index: int
    role: MessageRole
    content: str = Field(description="Markdown")
    attachments: list[Attachment] = Field(default_factory=list, description="Files the message carries")
    reply_to: str | None = None
    created_at: datetime

    @field_validator("attachments", mode="before")
    @classmethod
    def _old_attachments(cls, value: object) -> object:
        return attachment_list(value)


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
    """One message of a model call's prompt. In a tool-using loop, an assistant message may carry the model's
    ``tool_calls`` (each ``{id, name, arguments}``, arguments as JSON text) and a ``tool`` message answers one
    of them (``tool_call_id``)."""

    role: str
    content: str
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class LogEntryKind(StrEnum):
    """What a developer-log entry records."""

    MODEL_CALL = "model_call"
    TOOL_CALL = "tool_call"  # an MCP or built-in tool call: model ``tool:<id>``, arguments as the prompt
    STEP_ERROR = "step_error"  # a step that raised: its traceback (or error) as the output, the reason as error


class LLMCall(Model):
    """One entry of a node's developer log: a model call, a tool call or a step's error (``kind``)."""

    id: str
    node_id: str
    step: str
    kind: LogEntryKind = LogEntryKind.MODEL_CALL
    model: str = Field(description="The model called; ``tool:<id>`` for a tool call; empty for a step error "
                                   "(\"-\" in entries written before migration 0010)")
    messages: list[PromptMessage] = Field(default_factory=list)
    raw_output: str | None = None
    parsed_output: Any = None
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0
    cost_usd: float = 0.0
    attempts: int = Field(1, description="Tries the client made for this call (an output that did not validate is "
                          "asked again, with the error)")
    attempt: int | None = Field(None, description="The node's attempt that made the call: 1, then one more each time "
                                "a person retried the node (none: recorded before this was kept)")
    replan: int | None = Field(None, description="How many times the node had re-planned when it made the call: 0 "
                               "for its first plan (none: recorded before this was kept)")
    error: str | None = None
    created_at: datetime
