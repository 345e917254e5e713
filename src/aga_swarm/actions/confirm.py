"""The ``confirm`` termination policy's review: once every child has ended, the model confirms that the parent's
directive is met (then the parent's own review step runs, as under ``all``), or what is missing is re-planned
under the parent, within ``max_replans``; past that the parent fails with the review's reason."""

from __future__ import annotations

from ..sdk import ChildrenResult, Registry, StepContext, Subtask
from ..sdk.policies import CONFIRM_STEP, ConfirmCtx
from .outputs import ConfirmOutput
from .prompts import render
from .reviews import non_empty, report_lines, unfinished


def register(reg: Registry) -> None:
    @reg.step(CONFIRM_STEP, context=ConfirmCtx, result=ChildrenResult)
    def review(ctx: StepContext, data: ConfirmCtx, result: ChildrenResult) -> None:
        directive = ctx.node.directive
        ctx.journal(f"All {len(result.children)} subtasks ended; confirming that the task is met.")
        # what the person told the node waits for its own review, which writes the report
        ctx.llm("confirm.review", render("confirm", "review", directive=directive,
                                         reports=report_lines(result.children), context=ctx.context().render()),
                next_step=on_review, context=data, take_inbox=False,
                facts={"directive": directive, "children": [c.model_dump(mode="json") for c in result.children]})

    @reg.step("confirm.on_review", context=ConfirmCtx, result=ConfirmOutput)
    def on_review(ctx: StepContext, data: ConfirmCtx, result: ConfirmOutput) -> None:
        node = ctx.node
        children = ctx.children_outcomes()
        if result.met:
            ctx.journal(f"Confirmed that the task is met: {result.reason}")
            step = reg.get_step(data.review_step)
            # the parent's own review runs now, in this step, as it would under "all"
            ctx.run(step, step.load_context(data.review_context), ChildrenResult(children=children))
            return
        missing = non_empty(result.missing) or [Subtask(task=d) for d in unfinished(children)]
        limit = ctx.limits.max_replans
        if not missing:
            ctx.journal(f"The task is not met and nothing was named to do again: {result.reason}")
            ctx.fail(f"directive not confirmed ({result.reason}); the review named nothing to re-plan")
            return
        if node.replans >= limit:
            ctx.journal(f"The task is not met and the re-plan limit ({limit}) is reached: {result.reason}")
            ctx.fail(f"directive not confirmed after {node.replans} re-plan{'s' if node.replans != 1 else ''} "
                     f"(max_replans {limit}): {result.reason}")
            return
        ctx.journal(f"The task is not met ({result.reason}); re-planning {len(missing)} subtask(s).")
        ctx.add_usage(replans=1)
        ctx.update(replans=node.replans + 1)
        ctx.spawn_plan(missing)
        step = reg.get_step(data.review_step)
        ctx.wait_children(step, step.load_context(data.review_context))
