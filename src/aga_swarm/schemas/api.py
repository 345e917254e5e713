"""Composite read models that the Python API, CLI and server return."""

from __future__ import annotations

from pydantic import Field

from .chat import ChatSummary, JournalEntry, LLMCall, Message
from .common import Model
from .ops import Continuation
from .swarm import Node


class NodeDetail(Model):
    node: Node
    journal: list[JournalEntry] = Field(default_factory=list)
    llm_calls: list[LLMCall] = Field(default_factory=list)
    continuation: Continuation | None = None


class ChatWithMessages(Model):
    chat: ChatSummary
    messages: list[Message]
