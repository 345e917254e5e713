"""Action space and memory space metadata trees."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from .common import Model


class ActionType(StrEnum):
    """What kind of work an action does; the tree view draws one symbol per type."""

    PLAN = "plan"
    ROUTE = "route"
    ASK = "ask"
    DO = "do"
    REVIEW = "review"
    CUSTOM = "custom"


class TerminationPolicy(StrEnum):
    """The built-in policies deciding how a parent reacts to its children ending (a custom action may register
    more under names of its own: ``engine/policies.py``)."""

    ALL = "all"  # wait for every child, then review (failures included)
    FAIL_FAST = "fail_fast"  # the first failed child fails the parent and cancels siblings
    FIRST = "first"  # the first child done completes the parent and cancels siblings
    CONFIRM = "confirm"  # wait for every child, then the review must confirm the directive is met, or re-plan


POLICY_DESCRIPTION = ("How the node reacts to its children ending: a built-in policy (all, fail_fast, first, "
                      "confirm) or the name a custom action registered one under")


def policy_field() -> Any:
    """The ``termination_policy`` field: a name, so policies registered by plugins fit (default ``all``)."""
    return Field("all", min_length=1, max_length=100, description=POLICY_DESCRIPTION)


class ActionSpec(Model):
    id: str
    description: str
    action_type: ActionType = ActionType.CUSTOM
    entry_step: str
    termination_policy: str = policy_field()
    routable: bool = True


class ActionFolder(Model):
    id: str
    description: str
    folders: list[ActionFolder] = Field(default_factory=list)
    actions: list[ActionSpec] = Field(default_factory=list)


class ActionSpace(Model):
    root: ActionFolder


class ActionOrigin(StrEnum):
    """Where an action comes from (the action space view groups and labels by it)."""

    BUILT_IN = "built_in"  # plan, route, ask_user, do
    TOOL = "tool"  # a built-in tool (the memory tools)
    MCP = "mcp"  # a tool of one of the operator's MCP servers
    CUSTOM = "custom"  # a plugin's or the operator's own action


class ActionInfo(Model):
    """One action as the action space view shows it. For an MCP tool: its server's name only, never the
    command, URL, headers or environment the operator configured."""

    id: str
    description: str
    action_type: ActionType
    origin: ActionOrigin
    routable: bool = True
    termination_policy: str = policy_field()
    input_schema: dict[str, Any] | None = Field(None, description="JSON Schema of a tool's arguments, or of a "
                                                "custom action's entry context; None: the node's directive only")
    approval: Literal["auto", "ask", "deny"] | None = Field(None, description="A tool's approval policy; None for "
                                                            "actions that call no tool")
    read_only: bool | None = Field(None, description="A tool that changes nothing (MCP readOnlyHint)")
    idempotent: bool | None = Field(None, description="A tool safe to call again after a crash")
    server: str | None = Field(None, description="The MCP server a tool belongs to (its name only)")


class ActionFolderInfo(Model):
    id: str
    path: str = Field(description="'/'-separated folder ids from the root ('' for the root)")
    description: str
    folders: list[ActionFolderInfo] = Field(default_factory=list)
    actions: list[ActionInfo] = Field(default_factory=list)


class SwarmActionSpace(Model):
    """The action space a swarm's nodes route down (its config's space), every action described."""

    swarm_id: str
    config_id: str
    root: ActionFolderInfo


class MemoryItem(Model):
    key: str
    title: str
    content_type: str = "text/markdown"
    size: int = 0
    node_id: str | None = None


class MemorySpace(Model):
    name: str
    items: list[MemoryItem] = Field(default_factory=list)


class MemoryFile(Model):
    """One file of a swarm's memory space (its bytes are in the blob store). Written by a node, or by the person
    (``node_id`` None); ``seq`` is the event that wrote this version."""

    path: str = Field(description="Relative path, '/'-separated, e.g. notes/plan.md")
    title: str
    size: int = Field(ge=0)
    content_type: str
    node_id: str | None = None
    seq: int


class MemoryListing(Model):
    """The memory space at a seq (the latest when none was asked for)."""

    swarm_id: str
    seq: int
    files: list[MemoryFile] = Field(default_factory=list)


class MemoryHit(Model):
    """A memory.search result: a file whose path, title or text matched, with the matching lines."""

    path: str
    title: str
    content_type: str
    lines: list[str] = Field(default_factory=list)
