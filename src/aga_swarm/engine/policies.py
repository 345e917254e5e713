"""Applying termination policies: the read-only view a policy gets of a parent's children (over the
transaction), and carrying out its decision in the same transaction. What a policy is and the built-ins are in
``aga_swarm.sdk.policies``."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..schemas import ContinuationKind, Lifecycle, Node
from ..sdk.errors import UnknownPolicy
from ..sdk.policies import (
    BUILTIN_POLICIES,
    CONFIRM_STEP,
    POLICY_NAME,
    WAIT,
    CancelRest,
    ChildView,
    Confirm,
    ConfirmCtx,
    Decision,
    Fail,
    Finish,
    PolicyFn,
    Review,
    Wait,
    check_policy_name,
)
from ..sdk.types import ChildOutcome, ChildrenResult
from . import lifecycle as rules
from .context import StepRuntime

if TYPE_CHECKING:
    from .dispatch import Dispatcher
    from .tx import SwarmTx

__all__ = ["BUILTIN_POLICIES", "CONFIRM_STEP", "POLICY_NAME", "WAIT", "CancelRest", "ChildView", "ChildrenView",
           "Confirm", "ConfirmCtx", "Decision", "Fail", "Finish", "PolicyFn", "Review", "UnknownPolicy", "Wait",
           "apply_policy", "check_policy_name"]


class ChildrenView:
    """What a policy decides on, read-only: the parent, its children's outcomes, and the child whose end this
    call answers (``ended_last``; None when the parent asks on its own, e.g. it began to wait after all of its
    children had ended). ``children`` loads every child on first use; ``ended_last`` and ``any_live`` do not,
    so a policy that looks only at the child that ended costs the same with ten children and with ten
    thousand."""

    def __init__(self, tx: SwarmTx, parent: Node, ended_last: Node | None) -> None:
        self._tx = tx
        self._parent = parent
        self.parent_id = parent.id
        self.directive = parent.directive
        self.policy = parent.termination_policy
        self.replans = parent.replans
        self.ended_last = ChildView.of(ended_last) if ended_last is not None else None

    @cached_property
    def children(self) -> tuple[ChildView, ...]:
        """Every child, in the order they were spawned."""
        return tuple(ChildView.of(c) for c in self._tx.children(self._parent))

    @property
    def live(self) -> tuple[ChildView, ...]:
        return tuple(c for c in self.children if not c.ended)

    @property
    def ended(self) -> tuple[ChildView, ...]:
        return tuple(c for c in self.children if c.ended)

    @property
    def done(self) -> tuple[ChildView, ...]:
        return tuple(c for c in self.children if c.done)

    @property
    def any_live(self) -> bool:
        """Whether a child has not ended (asked of the index unless ``children`` was already read)."""
        if "children" in self.__dict__:
            return bool(self.live)
        return self._tx.has_live_children(self._parent)


def apply_policy(ex: Dispatcher, tx: SwarmTx, parent: Node, child_id: str | None) -> None:
    """A child of ``parent`` ended (``child_id``; None when the parent asks on its own): ask the parent's policy
    and carry out its decision, in this transaction."""
    name = parent.termination_policy
    fn = ex.registry.get_policy(name)
    view = ChildrenView(tx, parent, tx.node(child_id) if child_id is not None else None)
    decision = fn(view)
    cont = parent.continuation
    waiting = cont is not None and cont.kind is ContinuationKind.CHILDREN
    if isinstance(decision, Wait):
        if not waiting or view.any_live:
            return
        decision = Review()
    if isinstance(decision, Finish):
        rules.cancel_children(tx, parent, decision.cancel_reason or f"parent {parent.id} finished (policy {name})")
        changes: dict[str, Any] = {"lifecycle": Lifecycle.DONE, "report": decision.report, "continuation": None}
        if decision.data is not None:
            changes["context_up"] = dict(decision.data)
        tx.journal(parent.id, "policy", f"Finished by its termination policy {name!r}.")
        tx.update_node(parent.id, **changes)
        rules.after_terminal(tx, tx.node(parent.id))
        return
    if isinstance(decision, Fail):
        rules.cancel_children(tx, parent, decision.cancel_reason or f"parent {parent.id} failed (policy {name})")
        rules.fail_node(tx, parent.id, decision.reason)
        return
    if isinstance(decision, Review | Confirm):
        if view.any_live:
            reason = decision.reason if isinstance(decision, Review) else ""
            rules.cancel_children(tx, parent, reason or f"parent {parent.id} stopped waiting (policy {name})")
        if not waiting:  # it has not begun to wait: ``wait_children`` will ask again
            return
        assert cont is not None
        if isinstance(decision, Confirm):
            ex.run_step(tx, parent.id, CONFIRM_STEP,
                        ConfirmCtx(review_step=cont.next_step, review_context=cont.context),
                        ChildrenResult(children=_outcomes(ex, tx, parent)))
            return
        step = ex.registry.get_step(cont.next_step)
        ex.run_step(tx, parent.id, step.name, step.load_context(cont.context),
                    ChildrenResult(children=_outcomes(ex, tx, parent)))
        return
    raise TypeError(f"termination policy {name!r} returned {decision!r}, not a decision "
                    "(Wait, Review, CancelRest, Finish, Fail or Confirm)")


def _outcomes(ex: Dispatcher, tx: SwarmTx, parent: Node) -> list[ChildOutcome]:
    ctx = StepRuntime(tx, parent.id, "policy", ex.config_for(tx.config_id, tx.owner_id), ex.services)
    return ctx.children_outcomes()
