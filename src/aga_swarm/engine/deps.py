"""Plans as small DAGs: checking the dependencies a plan names, and starting (or cancelling) the subtasks that
wait for them once everything they need has ended.

A subtask of a plan names, by 1-based number, the other subtasks of the same plan whose results it needs. The
node it becomes stores them as sibling ids (``Node.needs``) and is created ``waiting_deps``, with no operation
queued. Its parent releases it (``release_dependents``) in the transaction that handles a child's end: when
all it needs are ``done`` it becomes ``spawned`` and its spawn operation is queued; when one of them failed or
was cancelled it ends ``cancelled`` with a reason naming that prerequisite. Both happen in the parent's
transaction, so a crash either loses neither or keeps both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, model_validator

from ..schemas import TERMINAL_LIFECYCLES, Lifecycle, Node, OperationKind
from .errors import InvalidPlan

if TYPE_CHECKING:
    from .tx import SwarmTx


class Subtask(BaseModel):
    """One subtask of a plan: an instruction and the numbers of the subtasks whose results it needs."""

    task: str = Field(description="One self-contained instruction")
    needs: list[int] = Field(default_factory=list,
                             description="Numbers (1-based, in this list) of the subtasks whose results this one "
                                         "needs before it can start; empty when it needs none")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        """A plain string is a subtask that needs nothing (older scripts and models write plans this way)."""
        return {"task": value} if isinstance(value, str) else value


def plan_problem(needs: Sequence[Sequence[int]]) -> str | None:
    """What is wrong with a plan's dependencies (``needs[i]``: the 1-based numbers subtask ``i + 1`` needs):
    an unknown number, a subtask that needs itself, or a cycle. None when they form a DAG."""
    count = len(needs)
    for i, wanted in enumerate(needs, start=1):
        for n in wanted:
            if n == i:
                return f"subtask {i} needs itself"
            if not 1 <= n <= count:
                return f"subtask {i} needs subtask {n}, but the plan has {count} subtask{'s' if count != 1 else ''}"
    state = [0] * (count + 1)  # 0 unvisited, 1 on the current path, 2 finished
    path: list[int] = []

    def visit(i: int) -> list[int] | None:
        state[i] = 1
        path.append(i)
        for n in needs[i - 1]:
            if state[n] == 1:
                return [*path[path.index(n):], n]
            if state[n] == 0 and (found := visit(n)) is not None:
                return found
        path.pop()
        state[i] = 2
        return None

    for i in range(1, count + 1):
        if state[i] == 0 and (cycle := visit(i)) is not None:
            return "dependency cycle: " + " -> ".join(f"subtask {n}" for n in cycle)
    return None


def check_plan(subtasks: Sequence[Subtask]) -> None:
    """Raise ``InvalidPlan`` (a ``ValueError``) if the plan's dependencies are not a DAG of its own subtasks."""
    problem = plan_problem([s.needs for s in subtasks])
    if problem is not None:
        raise InvalidPlan(problem)


def start_lifecycle(tx: SwarmTx, needs: Sequence[str]) -> tuple[Lifecycle, str | None]:
    """The lifecycle a new node needing ``needs`` starts in, and the reason when that is ``cancelled``."""
    known = [tx.state.nodes.get(n) or _maybe(tx, n) for n in needs]
    if any(p is None or p.lifecycle not in TERMINAL_LIFECYCLES for p in known):
        return Lifecycle.WAITING_DEPS, None
    bad = next((p for p in known if p is not None and p.lifecycle is not Lifecycle.DONE), None)
    if bad is not None:
        return Lifecycle.CANCELLED, unmet_reason(bad)
    return Lifecycle.SPAWNED, None


def _maybe(tx: SwarmTx, node_id: str) -> Node | None:
    from .errors import NodeNotFound

    try:
        return tx.node(node_id)
    except NodeNotFound:
        return None


def unmet_reason(prerequisite: Node) -> str:
    why = f": {prerequisite.failure_reason}" if prerequisite.failure_reason else ""
    return f"prerequisite {prerequisite.id} ({prerequisite.title}) {prerequisite.lifecycle.value}{why}"


def release_dependents(tx: SwarmTx, parent: Node) -> int:
    """Start the children of ``parent`` whose prerequisites are all done; cancel those with a prerequisite
    that failed or was cancelled (which may in turn cancel theirs). Returns how many changed. Costs one
    indexed count when no child waits."""
    if not tx.waiting_children(parent):
        return 0
    children = tx.children(parent)
    by_id = {c.id: c for c in children}
    changed = 0
    progress = True
    while progress:
        progress = False
        for child in children:
            if child.lifecycle is not Lifecycle.WAITING_DEPS:
                continue
            prerequisites = [by_id[n] for n in child.needs if n in by_id]
            if any(p.lifecycle not in TERMINAL_LIFECYCLES for p in prerequisites):
                continue
            bad = next((p for p in prerequisites if p.lifecycle is not Lifecycle.DONE), None)
            if bad is not None:
                reason = unmet_reason(bad)
                tx.journal(child.id, "dependencies", f"Not started: {reason}")
                tx.update_node(child.id, lifecycle=Lifecycle.CANCELLED, failure_reason=reason)
            else:
                tx.journal(child.id, "dependencies", f"Starting: {', '.join(child.needs)} done.")
                tx.update_node(child.id, lifecycle=Lifecycle.SPAWNED)
                tx.enqueue(OperationKind.SPAWN, child.id, f"spawn:{child.id}")
            changed += 1
            progress = True
    return changed
