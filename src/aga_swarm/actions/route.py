"""route: walk the action tree by model choice, one level at a time; backtrack when nothing fits; ask the
person when nothing fits at all."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..schemas import ActionFolder
from ..sdk import ActionSpec, ActionType, NoContext, Registry, StepContext, UserReply
from .do import DoCtx
from .outputs import RouteChoice
from .prompts import render

MAX_ROUTE_CHOICES = 24


class RouteCtx(BaseModel):
    path: list[str] = Field(default_factory=list, description="Folder ids from the root to the current level")
    excluded: list[str] = Field(default_factory=list, description="Folder paths that held nothing fitting")
    choices: int = 0


def _folder_at(root: ActionFolder, path: list[str]) -> ActionFolder:
    current = root
    for part in path:
        current = next(f for f in current.folders if f.id == part)
    return current


def _actions_under(folder: ActionFolder) -> list[str]:
    out = [a.id for a in folder.actions if a.routable]
    for f in folder.folders:
        out += _actions_under(f)
    return out


def options(root: ActionFolder, data: RouteCtx) -> list[dict[str, Any]]:
    folder = _folder_at(root, data.path)
    opts: list[dict[str, Any]] = []
    for f in folder.folders:
        if "/".join([*data.path, f.id]) in data.excluded or not _actions_under(f):
            continue
        opts.append({"id": f.id, "kind": "folder", "description": f.description, "contains": _actions_under(f)})
    for a in folder.actions:
        if a.routable:
            opts.append({"id": a.id, "kind": "action", "description": a.description, "contains": [a.id]})
    return opts


def register(reg: Registry) -> None:
    def space(ctx: StepContext) -> ActionFolder:
        return reg.space_for(ctx.config.action_space, ctx.config.mcp_servers).root

    def choose(ctx: StepContext, data: RouteCtx) -> None:
        opts = options(space(ctx), data)
        if not opts or data.choices >= MAX_ROUTE_CHOICES:
            if data.path:  # nothing here: backtrack one level
                data.excluded.append("/".join(data.path))
                data.path.pop()
                ctx.journal("Nothing fits in this folder; going back up.")
                choose(ctx, data)
                return
            ask_person(ctx, data)
            return
        listing = "\n".join(f"- {o['id']} ({o['kind']}): {o['description']}" for o in opts)
        data.choices += 1
        ctx.llm("route.choose", render("route", "choose", directive=ctx.node.directive, options=listing,
                                       context=ctx.context().render()),
                next_step=on_choose, context=data, take_inbox=False,
                facts={"directive": ctx.node.directive, "options": opts, "path": data.path})

    def ask_person(ctx: StepContext, data: RouteCtx) -> None:
        names = ", ".join(f"`{a}`" for a in _actions_under(space(ctx)))
        msg = render("route", "unsure", directive=ctx.node.directive, choices=names)[0].content
        ctx.journal("No action fits; asking the person what to do.")
        ctx.ask(msg, next_step=on_person, context=data)

    @reg.step("route.start")
    def start(ctx: StepContext, data: NoContext, result: None) -> None:
        ctx.journal("Looking for the action that fits this subtask.")
        choose(ctx, RouteCtx())

    @reg.step("route.on_choose", context=RouteCtx, result=RouteChoice)
    def on_choose(ctx: StepContext, data: RouteCtx, result: RouteChoice) -> None:
        opts = {o["id"]: o for o in options(space(ctx), data)}
        picked = opts.get(result.choice.strip())
        if picked is None:
            if data.path:
                data.excluded.append("/".join(data.path))
                ctx.journal(f"Nothing fits under {'/'.join(data.path)}; backtracking.")
                data.path.pop()
                choose(ctx, data)
            else:
                ask_person(ctx, data)
            return
        if picked["kind"] == "folder":
            data.path.append(picked["id"])
            ctx.journal(f"Looking inside {'/'.join(data.path)}.")
            choose(ctx, data)
            return
        hand_over(ctx, reg.get_action(picked["id"]))

    @reg.step("route.on_person", context=RouteCtx, result=UserReply)
    def on_person(ctx: StepContext, data: RouteCtx, result: UserReply) -> None:
        answer = result.content.strip()
        wanted = answer.strip("`").lower()
        named = next((a for a in _actions_under(space(ctx)) if a.lower() == wanted), None)
        ctx.say("Thanks, I will take it from here.")
        ctx.close_chat()
        if named is not None:
            hand_over(ctx, reg.get_action(named))
        else:
            ctx.journal("Following the person's guidance.")
            ctx.goto(reg.get_step("do.start"), DoCtx(guidance=answer), action=reg.get_action("do"))

    def hand_over(ctx: StepContext, action: ActionSpec) -> None:
        ctx.journal(f"Routed to {action.id}.")
        ctx.goto(reg.get_step(action.entry_step), NoContext(), action=action)

    reg.register_action(ActionSpec(
        id="route", description="Find the right action for a task.", action_type=ActionType.ROUTE,
        entry_step="route.start", routable=False))
