"""Operations (the durable queue) and continuations (persisted blocking points)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from .common import Model


class OperationKind(StrEnum):
    SPAWN = "spawn"  # start a node at its action's entry step
    STEP = "step"  # run a registered step (resuming a continuation or chaining)
    LLM_CALL = "llm_call"  # call the model, persist the result, enqueue the continuation step
    USER_PROMPT = "user_prompt"  # post the agent's question and park the node on the user
    USER_REPLY = "user_reply"  # a user's reply resumes the node's user continuation
    TERMINATE = "terminate"  # a child ended: tell its parent
    FAILURE = "failure"  # a step failed for good: fail the node and tell the parent
    TOOL_CALL = "tool_call"  # call an MCP tool outside any transaction, commit its result, enqueue the next step


class OperationStatus(StrEnum):
    QUEUED = "queued"
    HELD = "held"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Operation(Model):
    id: int
    swarm_id: str
    node_id: str
    kind: OperationKind
    status: OperationStatus
    payload: dict[str, Any] = Field(default_factory=dict)
    attempts: int = 0
    idempotency_key: str
    error: str | None = None
    created_at: datetime


class ContinuationKind(StrEnum):
    LLM = "llm"
    USER = "user"
    CHILDREN = "children"
    TOOL = "tool"  # an MCP tool call (request.tool: server, name, arguments, idempotent; request.started)
    STEP = "step"  # a step chained to another step of the same node (e.g. route hands over to an action)


class Continuation(Model):
    node_id: str
    kind: ContinuationKind
    request: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    next_step: str = Field(description="Registered step name that resumes the node")
    token: str = Field(description="Unique per continuation; operations that carry a stale token do nothing")
    created_at: datetime
