"""What the built-in reviews share: the children's outcomes as a prompt shows them, and the subtasks to run
again."""

from __future__ import annotations

from ..schemas import Lifecycle
from ..sdk import ChildOutcome, Subtask
from ..sdk.types import CANCELLED_BY_PERSON


def report_lines(children: list[ChildOutcome]) -> str:
    """The children's outcomes as the review prompts show them, one line each."""
    lines = []
    for c in children:
        if c.lifecycle is Lifecycle.DONE:
            lines.append(f"- [done] {c.directive}: {c.report}")
        else:
            lines.append(f"- [{c.lifecycle.value}] {c.directive}: {c.failure_reason or 'no report'}")
    return "\n".join(lines)


def non_empty(subtasks: list[Subtask]) -> list[Subtask]:
    """The subtasks with text, their ``needs`` renumbered (a need of a dropped, empty subtask is dropped)."""
    kept = [i for i, s in enumerate(subtasks, start=1) if s.task.strip()]
    number = {old: new for new, old in enumerate(kept, start=1)}
    return [Subtask(task=subtasks[i - 1].task.strip(), needs=[number[n] for n in subtasks[i - 1].needs if n in number])
            for i in kept]


def unfinished(children: list[ChildOutcome]) -> list[str]:
    """Directives whose latest attempt did not end done (one the person cancelled is not needed any more)."""
    latest = {c.directive: c for c in children}
    return [d for d, c in latest.items() if c.lifecycle is not Lifecycle.DONE
            and not (c.failure_reason or "").startswith(CANCELLED_BY_PERSON)]
