"""Composite read models that the Python API, CLI and server return."""

from __future__ import annotations

from pydantic import Field

from .chat import ChatSummary, JournalEntry, LLMCall, Message
from .common import Model
from .ops import Continuation
from .swarm import Node, Swarm


class NodeDetail(Model):
    node: Node
    journal: list[JournalEntry] = Field(default_factory=list)
    llm_calls: list[LLMCall] = Field(default_factory=list)
    continuation: Continuation | None = None


class ChatWithMessages(Model):
    chat: ChatSummary
    messages: list[Message]


class SwarmSummary(Swarm):
    """A swarm with what it came to and what it waits on: the swarm list and the swarm page show these."""

    outcome: str | None = Field(None, description="A completed swarm's root report, or a failed swarm's reason; "
                                                 "in list items, only its beginning")
    outcome_truncated: bool = Field(False, description="True when `outcome` is only the beginning of it")
    waiting_count: int = Field(0, description="How many chats wait on the person's reply")
