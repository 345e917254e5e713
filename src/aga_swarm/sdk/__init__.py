"""The one public package for writing actions: steps (``@step``, ``Step``), the context a step runs in
(``StepContext``, a Protocol the engine implements), the data steps exchange, the registry, and termination
policies. It imports nothing of the engine or the store: an action written against it runs wherever the
engine does. docs/custom-actions.md shows how to write one.
"""

from __future__ import annotations

from ..schemas import ActionSpec, ActionType, Attachment, PromptMessage, TerminationPolicy
from .errors import InvalidInput, InvalidPlan, MalformedContinuation, SwarmError, UnknownPolicy, UnknownStep
from .plans import Subtask
from .policies import (
    WAIT,
    CancelRest,
    ChildrenView,
    ChildView,
    Confirm,
    Decision,
    Fail,
    Finish,
    PolicyFn,
    Review,
    Wait,
)
from .registry import Registry
from .steps import Memory, Step, StepContext, step
from .types import ChildOutcome, ChildrenResult, NoContext, NodeContext, Prerequisite, ToolOutcome, UserReply

__all__ = [
    "WAIT",
    "ActionSpec",
    "ActionType",
    "Attachment",
    "CancelRest",
    "ChildOutcome",
    "ChildView",
    "ChildrenResult",
    "ChildrenView",
    "Confirm",
    "Decision",
    "Fail",
    "Finish",
    "InvalidInput",
    "InvalidPlan",
    "MalformedContinuation",
    "Memory",
    "NoContext",
    "NodeContext",
    "PolicyFn",
    "Prerequisite",
    "PromptMessage",
    "Registry",
    "Review",
    "Step",
    "StepContext",
    "Subtask",
    "SwarmError",
    "TerminationPolicy",
    "ToolOutcome",
    "UnknownPolicy",
    "UnknownStep",
    "UserReply",
    "Wait",
    "step",
]
