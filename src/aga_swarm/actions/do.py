"""do: the model carries out a directive and writes a report (optionally saving an artifact), calling the swarm's
tools through function calling as it needs (``actions/toolloop.py``)."""

from __future__ import annotations

from pydantic import BaseModel

from ..sdk import ActionSpec, ActionType, Registry, StepContext
from .outputs import DoOutput
from .prompts import render


class DoCtx(BaseModel):
    guidance: str = ""


def register(reg: Registry) -> None:
    @reg.step("do.start", context=DoCtx)
    def start(ctx: StepContext, data: DoCtx, result: None) -> None:
        directive = ctx.node.directive
        guidance = f"\nGuidance from the person: {data.guidance}" if data.guidance else ""
        context = ctx.context()
        ctx.journal("Working on the task" + (f" with the results of {', '.join(i.id for i in context.inputs)}."
                                             if context.inputs else "."))
        ctx.llm("do.execute", render("do", "execute", directive=directive, guidance=guidance,
                                     context=context.render()),
                next_step=on_result, context=data,
                facts={"directive": directive, "guidance": data.guidance,
                       "inputs": [i.model_dump() for i in context.inputs]},
                tools=ctx.tools())  # the model may call the swarm's tools (actions/toolloop.py)

    @reg.step("do.on_result", context=DoCtx, result=DoOutput)
    def on_result(ctx: StepContext, data: DoCtx, result: DoOutput) -> None:
        if ctx.inbox:  # the person said something while the model worked: do it again with that
            ctx.journal("The person told me something while I worked; doing the task again with it.")
            start(ctx, data, None)
            return
        if result.artifact:
            ctx.save_artifact(result.artifact_title or "artifact", result.artifact)
            path = ctx.context_up["artifacts"][-1]["path"]
            ctx.journal(f"Saved {path} to the memory space.")
        ctx.journal("Finished and reported.")
        ctx.complete(result.report)

    reg.register_action(ActionSpec(
        id="do", description="Carry out a concrete task directly (write, compute, answer, draft) and report.",
        action_type=ActionType.DO, entry_step="do.start"), folder="work",
        folder_description="Doing concrete work directly.")
