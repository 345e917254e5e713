"""Termination policies: what a parent does when one of its children ends.

A policy is a function registered under a name (``Registry.policy("name")``, like a step). A node stores only
the name (``Node.termination_policy``), so a replay, a fork and every worker process resolve it in their own
registry; an unknown name is refused when an action naming it is registered (``UnknownPolicy``), and a node
whose stored name no process knows fails with that error instead of waiting.

The function receives a read-only ``ChildrenView`` (the parent, every child's outcome, and the child whose end
it answers) and returns a decision:

- ``Wait()``: keep waiting. When no child is live any more, the parent's review step gets every outcome (the
  ``children`` continuation of ``ctx.wait_children``), so no policy can leave a parent waiting for nothing.
- ``Review(reason)``: hand every outcome to the review step now, cancelling the children still live.
- ``CancelRest(reason)``: the same, named for what it does to the siblings.
- ``Finish(report, data)``: cancel the children still live and complete the parent with ``report``.
- ``Fail(reason)``: cancel the children still live and fail the parent with ``reason``.
- ``Confirm()``: once no child is live, the parent's review must confirm that its directive is met (a model
  call, ``confirm.review``) before its review step runs; if it is not met, what is missing is re-planned,
  within ``max_replans``. The built-in ``confirm`` policy is ``Wait`` while children are live, then this.

Policies run inside the engine's transaction, and a transaction can be rolled back and run again, or a fork
re-derive it: a policy must be deterministic, a function of the view only (no clock, randomness, I/O or
state of its own). The built-ins are ``all`` (the default; the engine runs it without calling a function),
``fail_fast``, ``first`` and ``confirm``. The engine applies decisions (``engine/policies.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from pydantic import BaseModel, Field

from ..schemas import TERMINAL_LIFECYCLES, Lifecycle, Node, TerminationPolicy

CONFIRM_STEP = "confirm.review"  # the built-in step the Confirm decision runs (actions/confirm.py)
POLICY_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


# ---- the view a policy reads --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChildView:
    """One child as it stands: its lifecycle, and its report or failure reason once it ended."""

    id: str
    directive: str
    action_id: str
    lifecycle: Lifecycle
    report: str | None
    failure_reason: str | None
    data: Mapping[str, Any]  # what it handed up (its context_up), read-only
    attempt: int

    @property
    def ended(self) -> bool:
        return self.lifecycle in TERMINAL_LIFECYCLES

    @property
    def done(self) -> bool:
        return self.lifecycle is Lifecycle.DONE

    @classmethod
    def of(cls, node: Node) -> ChildView:
        return cls(id=node.id, directive=node.directive, action_id=node.action_id, lifecycle=node.lifecycle,
                   report=node.report, failure_reason=node.failure_reason,
                   data=MappingProxyType(dict(node.context_up)), attempt=node.attempt)


class ChildrenView(Protocol):
    """What a policy decides on, read-only: the parent, its children's outcomes, and the child whose end this
    call answers (``ended_last``; None when the parent asks on its own, e.g. it began to wait after all of its
    children had ended). ``children`` loads every child on first use; ``ended_last`` and ``any_live`` do not,
    so a policy that looks only at the child that ended costs the same with ten children and with ten
    thousand."""

    parent_id: str
    directive: str
    policy: str
    replans: int
    ended_last: ChildView | None

    @property
    def children(self) -> tuple[ChildView, ...]:
        """Every child, in the order they were spawned."""

    @property
    def live(self) -> tuple[ChildView, ...]: ...

    @property
    def ended(self) -> tuple[ChildView, ...]: ...

    @property
    def done(self) -> tuple[ChildView, ...]: ...

    @property
    def any_live(self) -> bool:
        """Whether a child has not ended."""


# ---- decisions ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Wait:
    """Keep waiting (once no child is live, the review step gets every outcome)."""


@dataclass(frozen=True)
class Review:
    """Run the parent's review step now with every outcome; children still live are cancelled with ``reason``."""

    reason: str = ""


@dataclass(frozen=True)
class CancelRest(Review):
    """Cancel the children still live (with ``reason``), then run the parent's review step."""


@dataclass(frozen=True)
class Finish:
    """Complete the parent with ``report`` (and ``data`` as its context_up); cancel the children still live."""

    report: str
    data: Mapping[str, Any] | None = None
    cancel_reason: str = ""


@dataclass(frozen=True)
class Fail:
    """Fail the parent with ``reason``; cancel the children still live."""

    reason: str
    cancel_reason: str = ""


@dataclass(frozen=True)
class Confirm:
    """Once no child is live: the model confirms the parent's directive is met (then its review step runs), or
    what is missing is re-planned within ``max_replans``."""


Decision = Wait | Review | Finish | Fail | Confirm
PolicyFn = Callable[[ChildrenView], Decision]
WAIT = Wait()


# ---- the built-in policies ----------------------------------------------------------------------------------
def wait_for_all(view: ChildrenView) -> Decision:
    """``all``: every child ends, then the review step sees every outcome (failures included)."""
    return WAIT


def fail_fast(view: ChildrenView) -> Decision:
    """``fail_fast``: the first child that fails fails the parent and cancels its siblings."""
    child = view.ended_last
    if child is not None and child.lifecycle is Lifecycle.FAILED:
        return Fail(f"child {child.id} failed: {child.failure_reason}", cancel_reason=f"sibling {child.id} failed")
    return WAIT


def first_done(view: ChildrenView) -> Decision:
    """``first``: the first child done completes the parent with its report and cancels its siblings."""
    child = view.ended_last
    if child is not None and child.done:
        return Finish(child.report or "", data=child.data, cancel_reason=f"sibling {child.id} finished first")
    return WAIT


def confirm_directive(view: ChildrenView) -> Decision:
    """``confirm``: every child ends, then the review must confirm the directive is met, or re-plan."""
    return WAIT if view.any_live else Confirm()


BUILTIN_POLICIES: Mapping[str, PolicyFn] = MappingProxyType({
    TerminationPolicy.ALL.value: wait_for_all,
    TerminationPolicy.FAIL_FAST.value: fail_fast,
    TerminationPolicy.FIRST.value: first_done,
    TerminationPolicy.CONFIRM.value: confirm_directive,
})


def check_policy_name(name: str) -> str:
    if not isinstance(name, str) or not POLICY_NAME.match(name):
        raise ValueError(f"a termination policy's name must be 1-100 letters, digits or _ . : - (got {name!r})")
    return name


class ConfirmCtx(BaseModel):
    """The confirm review's context: the parent's own review step and its context, restored afterwards."""

    review_step: str
    review_context: dict[str, Any] = Field(default_factory=dict)
