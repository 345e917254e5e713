"""plan: decompose a directive into subtasks (a small DAG: each names the subtasks it needs), one routed child
each; review when they end."""

from __future__ import annotations

from pydantic import BaseModel

from ..sdk import ActionSpec, ActionType, ChildrenResult, NoContext, Registry, StepContext
from .outputs import PlanOutput, ReviewOutput
from .prompts import render
from .reviews import non_empty, report_lines

MAX_SUBTASKS = 1000


class PlanCtx(BaseModel):
    round: int = 0


def register(reg: Registry) -> None:
    @reg.step("plan.start")
    def start(ctx: StepContext, data: NoContext, result: None) -> None:
        directive = ctx.node.directive
        ctx.journal("Planning how to split the task into subtasks.")
        context = ctx.context()
        ctx.llm("plan.decompose", render("plan", "decompose", directive=directive, context=context.render()),
                next_step=on_plan, context=PlanCtx(),
                facts={"directive": directive, "inputs": [i.model_dump() for i in context.inputs]})

    @reg.step("plan.on_plan", context=PlanCtx, result=PlanOutput)
    def on_plan(ctx: StepContext, data: PlanCtx, result: PlanOutput) -> None:
        subtasks = non_empty(result.subtasks)
        if not subtasks:
            ctx.fail("the plan had no subtasks")
            return
        if len(subtasks) > MAX_SUBTASKS:
            ctx.fail(f"the plan had {len(subtasks)} subtasks; at most {MAX_SUBTASKS} are allowed")
            return
        ctx.spawn_plan(subtasks)
        edges = sum(len(s.needs) for s in subtasks)
        ctx.journal(f"Split the task into {len(subtasks)} subtask{'s' if len(subtasks) != 1 else ''}"
                    + (f" with {edges} dependenc{'ies' if edges != 1 else 'y'}." if edges else "."))
        if result.policy is not None and result.policy != ctx.node.termination_policy:
            ctx.journal(f"When the subtasks end: the {result.policy!r} termination policy.")
            ctx.update(termination_policy=result.policy)
        ctx.wait_children(review, data)

    @reg.step("plan.review", context=PlanCtx, result=ChildrenResult)
    def review(ctx: StepContext, data: PlanCtx, result: ChildrenResult) -> None:
        reports = report_lines(result.children)
        ctx.journal(f"All {len(result.children)} subtasks ended; reviewing their reports.")
        ctx.llm("plan.review", render("plan", "review", directive=ctx.node.directive, reports=reports,
                                      context=ctx.context().render()),
                next_step=on_review, context=data,
                facts={"directive": ctx.node.directive,
                       "children": [c.model_dump(mode="json") for c in result.children]})

    @reg.step("plan.on_review", context=PlanCtx, result=ReviewOutput)
    def on_review(ctx: StepContext, data: PlanCtx, result: ReviewOutput) -> None:
        node = ctx.node
        if result.complete:
            ctx.journal("The work is complete.")
            if node.parent_id is None:
                ctx.say(f"**Summary**\n\n{result.summary}")
                ctx.close_chat()
            ctx.complete(result.summary)
            return
        missing = non_empty(result.missing)
        if node.replans >= ctx.limits.max_replans or not missing:
            limit = ctx.limits.max_replans
            if not missing:
                why = "the review named no missing subtask to re-plan"
            else:  # what is still missing is the real cause: name it (the subtasks' own failures are in the tree)
                tasks = "; ".join(" ".join(m.task.split()) for m in missing)
                tasks = tasks if len(tasks) <= 300 else tasks[:299] + "…"
                why = f"re-plan limit {limit} reached; still missing: {tasks}"
            ctx.journal(f"The work is incomplete and cannot be re-planned: {why}.")
            ctx.fail(f"work incomplete after review: {why}")
            return
        ctx.journal(f"The work is incomplete; re-planning {len(missing)} missing subtask(s).")
        ctx.add_usage(replans=1)
        ctx.update(replans=node.replans + 1)
        ctx.spawn_plan(missing)
        ctx.wait_children(review, PlanCtx(round=data.round + 1))

    reg.register_action(ActionSpec(
        id="plan", description="Break a large task with several parts into subtasks and coordinate them.",
        action_type=ActionType.PLAN, entry_step="plan.start"), folder="thinking",
        folder_description="Organising work: planning and breaking down larger tasks.")
