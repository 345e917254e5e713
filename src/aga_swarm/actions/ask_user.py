"""ask_user: the conversation from the design notes.

first message -> user reply -> (not sufficient) follow-up -> ... -> closing message, chat closed.
The node reports what it learned so its parent can use it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..sdk import ActionSpec, ActionType, InvalidInput, NoContext, Registry, StepContext, UserReply
from .outputs import AskEvaluation, AskMessage
from .prompts import render


class AskCtx(BaseModel):
    followups: int = 0
    transcript: list[dict[str, str]] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list, description="Memory paths of the files the person replied with")


def _exists(ctx: StepContext, path: str) -> bool:
    try:
        return ctx.memory.get(path) is not None
    except InvalidInput:
        return False


def _transcript(t: list[dict[str, str]]) -> str:
    return "\n".join(f"{m['role']}: {m['content']}" for m in t)


def register(reg: Registry) -> None:
    @reg.step("ask.start")
    def start(ctx: StepContext, data: NoContext, result: None) -> None:
        directive = ctx.node.directive
        ctx.journal("Preparing a question for the person.")
        context = ctx.context()
        ctx.llm("ask.compose", render("ask_user", "compose", directive=directive, context=context.render()),
                next_step=on_compose, context=AskCtx(),
                facts={"directive": directive, "inputs": [i.model_dump() for i in context.inputs]})

    @reg.step("ask.on_compose", context=AskCtx, result=AskMessage)
    def on_compose(ctx: StepContext, data: AskCtx, result: AskMessage) -> None:
        ctx.journal("Asked the person and parked until they reply.")
        data.transcript.append({"role": "agent", "content": result.message})
        cited = [p for p in dict.fromkeys(result.attachments) if _exists(ctx, p)]
        if len(cited) < len(set(result.attachments)):
            ctx.journal("Left out attachments the memory space does not have: "
                        + ", ".join(p for p in result.attachments if p not in cited))
        ctx.ask(result.message, next_step=on_reply, context=data, attachments=cited)

    @reg.step("ask.on_reply", context=AskCtx, result=UserReply)
    def on_reply(ctx: StepContext, data: AskCtx, result: UserReply) -> None:
        data.transcript.append({"role": "user", "content": result.content})
        if result.attachments:
            data.files = list(dict.fromkeys([*data.files, *(a.path for a in result.attachments)]))
        ctx.journal("The person replied; checking whether the answer is enough.")
        directive = ctx.node.directive
        ctx.llm("ask.evaluate", render("ask_user", "evaluate", directive=directive, context=ctx.context().render(),
                                       transcript=_transcript(data.transcript)),
                next_step=on_evaluate, context=data,
                facts={"directive": directive, "reply": result.content, "followups": data.followups})

    @reg.step("ask.on_evaluate", context=AskCtx, result=AskEvaluation)
    def on_evaluate(ctx: StepContext, data: AskCtx, result: AskEvaluation) -> None:
        last_reply = next((m["content"] for m in reversed(data.transcript) if m["role"] == "user"), "")
        if not result.sufficient and data.followups < ctx.limits.max_followups:
            question = result.followup or "Could you tell me a bit more?"
            data.followups += 1
            ctx.set_followups(data.followups)  # the chat list shows it
            data.transcript.append({"role": "agent", "content": question})
            ctx.journal(f"The answer was not enough; asked follow-up {data.followups}.")
            ctx.ask(question, next_step=on_reply, context=data)
            return
        if result.sufficient:
            ctx.say(result.closing or "Thank you, that is what I needed.")
            learned = result.learned or f"The person answered: {last_reply}"
            ctx.journal(f"Got what was needed: {learned}")
        else:
            ctx.say("Thank you. I will go on with what I have.")
            learned = f"Follow-up limit reached; best answer from the person: {last_reply}"
            ctx.journal(learned)
        ctx.close_chat()
        ctx.complete(learned, context_up={"answer": last_reply, **({"files": data.files} if data.files else {})})

    reg.register_action(ActionSpec(
        id="ask_user", description="Ask the person for information, a preference or a decision only they have.",
        action_type=ActionType.ASK, entry_step="ask.start"), folder="people",
        folder_description="Working with the person: questions, preferences, decisions.")
