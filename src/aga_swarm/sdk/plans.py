"""Plans as small DAGs: a subtask names, by 1-based number, the other subtasks of the same plan whose results
it needs. ``check_plan`` refuses an unknown number, a self-reference or a cycle (the engine's ``deps`` starts
the subtasks once what they need has ended)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field, model_validator

from .errors import InvalidPlan


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
