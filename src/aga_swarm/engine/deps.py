"""Plans as small DAGs: checking the dependencies a plan names, and starting (or cancelling) the subtasks that
wait for them once everything they need has ended.

A subtask of a plan names, by 1-based number, the other subtasks of the same plan whose results it needs. The
node it becomes stores them as sibling ids (``Node.needs``) and is created ``waiting_deps``, with no operation
queued; each node it needs lists it in ``Node.needed_by``. The transaction in which a prerequisite ends
releases its dependents (``release_dependents``): one whose prerequisites are now all ``done`` becomes
``spawned`` and its spawn operation is queued; one with a prerequisite that failed or was cancelled ends
``cancelled`` with a reason naming it. The end and the release commit together, so a crash can neither lose a
dependent nor start it twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..schemas import TERMINAL_LIFECYCLES, Lifecycle, Node, OperationKind
from ..sdk.plans import Subtask, check_plan, plan_problem
from . import keys
from .errors import NodeNotFound

if TYPE_CHECKING:
    from .tx import SwarmTx

__all__ = ["Subtask", "check_plan", "plan_problem", "release_dependents", "start_lifecycle", "unmet_reason"]


def start_lifecycle(tx: SwarmTx, needs: Sequence[str]) -> tuple[Lifecycle, str | None]:
    """The lifecycle a new node needing ``needs`` starts in, and the reason when that is ``cancelled``."""
    known = [_maybe(tx, n) for n in needs]  # None: later in the same plan, not created yet
    if any(p is None or p.lifecycle not in TERMINAL_LIFECYCLES for p in known):
        return Lifecycle.WAITING_DEPS, None
    bad = next((p for p in known if p is not None and p.lifecycle is not Lifecycle.DONE), None)
    if bad is not None:
        return Lifecycle.CANCELLED, unmet_reason(bad)
    return Lifecycle.SPAWNED, None


def _maybe(tx: SwarmTx, node_id: str) -> Node | None:
    try:
        return tx.node(node_id)
    except NodeNotFound:
        return None


def unmet_reason(prerequisite: Node) -> str:
    why = f": {prerequisite.failure_reason}" if prerequisite.failure_reason else ""
    return f"prerequisite {prerequisite.id} ({prerequisite.title}) {prerequisite.lifecycle.value}{why}"


def release_dependents(tx: SwarmTx, prerequisite: Node) -> None:
    """``prerequisite`` has just ended: start each node that needs it once everything it needs is done, or
    cancel it if one of those failed or was cancelled (which in turn releases the nodes that need it). Runs in
    the transaction that ended ``prerequisite``, and looks only at its dependents (``Node.needed_by``) and
    their prerequisites, so an edge costs the same in a plan of ten subtasks and of a thousand."""
    for dependent_id in prerequisite.needed_by:
        dependent = tx.node(dependent_id)
        if dependent.lifecycle is not Lifecycle.WAITING_DEPS:
            continue
        needed = [tx.node(n) for n in dependent.needs]
        if any(p.lifecycle not in TERMINAL_LIFECYCLES for p in needed):
            continue
        bad = next((p for p in needed if p.lifecycle is not Lifecycle.DONE), None)
        if bad is not None:
            reason = unmet_reason(bad)
            tx.journal(dependent.id, "dependencies", f"Not started: {reason}")
            tx.update_node(dependent.id, lifecycle=Lifecycle.CANCELLED, failure_reason=reason)
            release_dependents(tx, dependent)
        else:
            tx.journal(dependent.id, "dependencies", f"Starting: {', '.join(dependent.needs)} done.")
            tx.update_node(dependent.id, lifecycle=Lifecycle.SPAWNED)
            tx.released_nodes.add(dependent.id)  # its spawn may run in this transaction (group commit)
            tx.enqueue(OperationKind.SPAWN, dependent.id, keys.attempt_key("spawn", dependent))
