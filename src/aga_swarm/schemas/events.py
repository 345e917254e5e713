"""Swarm events, state and history: state is the fold of history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from .chat import ChatSummary
from .common import Model
from .spaces import MemoryFile
from .swarm import Node, SwarmStatus, Usage


class EventType(StrEnum):
    SWARM_STATUS = "swarm_status"  # data: {status, reason}
    NODE_SPAWNED = "node_spawned"  # data: {node}
    NODE_UPDATED = "node_updated"  # data: {changes}
    CHAT_UPDATED = "chat_updated"  # data: {chat_id, changes}
    MESSAGE_POSTED = "message_posted"  # data: {message}
    JOURNAL = "journal"  # data: {entry}
    LLM_CALL = "llm_call"  # data: {id, step, model, tokens_in, tokens_out, cost_usd, latency_ms, error}
    USAGE = "usage"  # data: {changes}
    MEMORY_WRITTEN = "memory_written"  # data: {path, title, size, content_type, node_id}
    TOOL_CALL = "tool_call"  # data: {id, step, tool, latency_ms, bytes, error}: a developer-log record, no state
    AUTO_APPROVE = "auto_approve"  # data: {tool, enabled}: the person's per-swarm switch ("*" is every tool)


class SwarmEvent(Model):
    swarm_id: str
    seq: int
    ts: datetime
    type: EventType
    node_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class SwarmState(Model):
    swarm_id: str
    seq: int = 0
    status: SwarmStatus = SwarmStatus.DRAFT
    failure_reason: str | None = None
    root_node_id: str | None = None
    nodes: dict[str, Node] = Field(default_factory=dict)
    chats: dict[str, ChatSummary] = Field(default_factory=dict)
    usage: Usage = Field(default_factory=Usage)
    memory: dict[str, MemoryFile] = Field(default_factory=dict, description="The memory space's files by path")


class SwarmHistory(Model):
    swarm_id: str
    events: list[SwarmEvent]
    first_seq: int = Field(1, description="Seq of the earliest retained event (older ones may be compacted)")
    last_seq: int = 0
