"""Action space and memory space metadata trees."""

from __future__ import annotations

from enum import StrEnum

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
    """How a parent reacts to its children ending."""

    ALL = "all"  # wait for every child, then review (failures included)
    FAIL_FAST = "fail_fast"  # the first failed child fails the parent and cancels siblings
    FIRST = "first"  # the first child done completes the parent and cancels siblings


class ActionSpec(Model):
    id: str
    description: str
    action_type: ActionType = ActionType.CUSTOM
    entry_step: str
    termination_policy: TerminationPolicy = TerminationPolicy.ALL
    routable: bool = True


class ActionFolder(Model):
    id: str
    description: str
    folders: list[ActionFolder] = Field(default_factory=list)
    actions: list[ActionSpec] = Field(default_factory=list)


class ActionSpace(Model):
    root: ActionFolder


class MemoryItem(Model):
    key: str
    title: str
    content_type: str = "text/markdown"
    size: int = 0
    node_id: str | None = None


class MemorySpace(Model):
    name: str
    items: list[MemoryItem] = Field(default_factory=list)
