"""The data a step receives and hands on: what a reply, the children's outcomes and a tool call's result look
like, and the node's context (``StepContext.context()``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..schemas import Attachment, Lifecycle

CANCELLED_BY_PERSON = "cancelled by the person"  # the start of the failure reason of a node the person cancelled


class NoContext(BaseModel):
    """Context for steps that need none."""


class ChildOutcome(BaseModel):
    id: str
    directive: str
    action_id: str
    lifecycle: Lifecycle
    report: str | None = None
    failure_reason: str | None = None
    context_up: dict[str, Any] = {}


class ChildrenResult(BaseModel):
    children: list[ChildOutcome] = []


GOAL_IN_PROMPT = 4000  # characters of the swarm's goal a non-root node's prompt shows (NodeContext.render)


class Prerequisite(BaseModel):
    """A subtask this node needs, as it ended (always ``done``: a node whose prerequisite failed never starts)."""

    id: str
    directive: str
    report: str | None = None
    files: list[str] = Field(default_factory=list, description="Paths in the memory space it wrote")
    data: dict[str, Any] = Field(default_factory=dict, description="What it handed up (its context_up)")


class NodeContext(BaseModel):
    """What a node is given to do its job, and no more: the swarm's goal, its parent's directive, and the
    results of the subtasks it needs (``Node.needs``). ``StepContext.context()`` builds it."""

    goal: str
    directive: str
    parent_directive: str | None = None
    inputs: list[Prerequisite] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list, description="Files the person gave this node or "
                                          "its ancestors (with the goal, a reply or a tell), by memory path")

    def render(self) -> str:
        """The context as the built-in prompts show it to the model (empty for the root, which has only its
        goal). The goal is there for orientation, so a long one is cut at ``GOAL_IN_PROMPT`` characters (every
        node's prompt carries it); the reports a node needs are given whole."""
        parts: list[str] = []
        if self.parent_directive is not None:
            goal = self.goal if len(self.goal) <= GOAL_IN_PROMPT else self.goal[:GOAL_IN_PROMPT] + " […]"
            parts.append(f"The team's overall goal:\n{goal}")
            if self.parent_directive != self.goal:
                parts.append(f"This task is part of:\n{self.parent_directive}")
        if self.inputs:
            lines = []
            for p in self.inputs:
                report = (p.report or "(no report)").strip().replace("\n", "\n  ")
                lines.append(f"- {p.directive.strip()}\n  Result: {report}")
                if p.files:
                    lines.append(f"  Files: {', '.join(p.files)}")
            parts.append("Results of the subtasks this task builds on:\n" + "\n".join(lines))
        if self.attachments:
            parts.append("Files the person gave you (in the memory space):\n" + "\n".join(
                f"- {a.path} ({a.content_type}, {a.size} bytes)" for a in self.attachments))
        return "\n\n".join(parts)


def files_of(context_up: dict[str, Any]) -> list[str]:
    """Memory-space paths a node handed up: its ``files`` (paths), and its saved artifacts (path, else key)."""
    out = [str(f) for f in context_up.get("files", []) if isinstance(f, str)]
    for art in context_up.get("artifacts", []):
        if isinstance(art, dict) and (where := art.get("path") or art.get("key")):
            out.append(str(where))
    return out


class UserReply(BaseModel):
    content: str
    message_id: str
    attachments: list[Attachment] = Field(default_factory=list, description="Files the reply carried")


class ToolOutcome(BaseModel):
    """An MCP tool call's result as committed by the ``tool_call`` operation."""

    text: str = ""
    is_error: bool = False
    error: str | None = None
    blob_key: str | None = None
    path: str | None = None  # a result over 16 KB: saved whole in the memory space there (``text`` is its start)
