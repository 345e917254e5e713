"""Swarm, Node and their lifecycles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from .chat import Attachment, attachment_list
from .common import Model
from .ops import Continuation
from .spaces import ActionType, policy_field


class SwarmStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"


class Lifecycle(StrEnum):
    SPAWNED = "spawned"
    WAITING_DEPS = "waiting_deps"  # created, waiting for the sibling subtasks it needs (``Node.needs``) to end
    RUNNING = "running"
    WAITING_LLM = "waiting_llm"
    WAITING_USER = "waiting_user"
    WAITING_CHILDREN = "waiting_children"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_LIFECYCLES = frozenset({Lifecycle.DONE, Lifecycle.FAILED, Lifecycle.CANCELLED})


class Usage(Model):
    llm_calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    nodes: int = 0
    replans: int = 0
    reserved_calls: int = Field(0, description="Model calls under way (requested, not yet recorded)")
    reserved_tokens: int = Field(0, description="The worst case, in tokens, of the model calls under way")
    reserved_cost_usd: float = Field(0.0, description="The worst case, in USD, of the model calls under way")
    run_ms: int = Field(0, description="Milliseconds spent running before the last pause (paused time not counted)")
    running_since: datetime | None = Field(None, description="When the swarm last started running, while it runs")


class Swarm(Model):
    id: str
    owner_id: str
    name: str
    goal: str
    config_id: str = "local"
    status: SwarmStatus = SwarmStatus.DRAFT
    failure_reason: str | None = None
    root_node_id: str | None = None
    forked_from: str | None = None
    forked_at_seq: int | None = None
    last_seq: int = 0
    created_at: datetime
    updated_at: datetime


class SwarmListItem(Model):
    """A swarm as the list shows it: everything but the goal, of which only the beginning comes along."""

    id: str
    owner_id: str
    name: str
    goal_preview: str = Field(description="The goal's first characters (all of it when `goal_chars` is no more)")
    goal_chars: int = Field(description="How long the whole goal is (GET /api/swarms/{id} has it)")
    config_id: str = "local"
    status: SwarmStatus = SwarmStatus.DRAFT
    failure_reason: str | None = None
    root_node_id: str | None = None
    forked_from: str | None = None
    forked_at_seq: int | None = None
    last_seq: int = 0
    created_at: datetime
    updated_at: datetime
    outcome: str | None = Field(None, description="The beginning of a completed swarm's root report, or of a "
                                                 "failed swarm's reason (GET /api/swarms/{id} has all of it)")
    outcome_truncated: bool = Field(False, description="True when `outcome` is only the beginning of it")
    waiting_count: int = Field(0, description="How many chats wait on the person's reply")


class SwarmPage(Model):
    """One page of a user's swarms, newest first."""

    items: list[SwarmListItem]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; none after the last")


class Node(Model):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str
    swarm_id: str
    parent_id: str | None = None
    children: list[str] = Field(default_factory=list)
    needs: list[str] = Field(default_factory=list,
                             description="Ids of sibling nodes this node needs: it starts when all of them are done")
    needed_by: list[str] = Field(default_factory=list,
                                 description="Ids of sibling nodes that need this one (the reverse of their needs)")
    depth: int = 0
    action_id: str
    action_type: ActionType
    directive: str
    title: str
    lifecycle: Lifecycle = Lifecycle.SPAWNED
    termination_policy: str = policy_field()
    report: str | None = None
    failure_reason: str | None = None
    context_down: dict[str, Any] = Field(default_factory=dict, description="Context the parent passed down")
    context_up: dict[str, Any] = Field(default_factory=dict, description="What the node hands up with its report")
    chat_id: str
    replans: int = 0
    attempt: int = Field(1, description="1, then one more each time a person retries the node")
    inbox: list[str] = Field(default_factory=list, description="What a person told the node that its steps have "
                             "not received yet (its next model call gets it)")
    attachments: list[Attachment] = Field(default_factory=list, description="Files the person gave this node (with "
                                          "the goal, a reply or a tell): its model calls receive them")
    continuation: Continuation | None = Field(None, description="What resumes this node: kind, context, next step")
    created_at: datetime
    updated_at: datetime

    @field_validator("attachments", mode="before")
    @classmethod
    def _old_attachments(cls, value: object) -> object:
        return attachment_list(value)
