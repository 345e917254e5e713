"""Configs and swarms: list, create, read, edit, delete, spawn, pause, resume, clone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from ...engine.errors import ConfigNotFound
from ...llm.redact import redact_url
from ...schemas import Swarm, SwarmConfig, SwarmPage, SwarmSummary
from ..auth import Ctx, CurrentUser
from ..errors import invalid
from ..models import AutoApproveBody, AutoApproveState, CloneBody, CreateSwarmBody, UpdateSwarmBody
from .common import R401, R404, R409, R413, R415, R422, R429, SwarmId, json_response, to_json
from .forms import SWARM_FIELDS, Parsed, limits_of, read_body, request_body

router = APIRouter(prefix="/api", tags=["swarms"], responses=R401)


def _for_browser(config: SwarmConfig) -> SwarmConfig:
    """A config as a browser may see it: no credentials in its base URL."""
    base_url = config.llm.base_url
    if not base_url or redact_url(base_url) == base_url:
        return config
    return config.model_copy(update={"llm": config.llm.model_copy(update={"base_url": redact_url(base_url)})})


@router.get("/configs", response_model=list[SwarmConfig])
async def list_configs(ctx: Ctx, user: CurrentUser) -> Response:
    """The configs this user may pick when creating a swarm: the built-in ones (at least `local`), those the
    operator shares, and the user's own. Base URLs come without credentials."""
    return json_response(await ctx.offload(lambda: to_json(
        [_for_browser(c) for c in ctx.service.configs(owner_id=user.id)])))


@router.get("/swarms", response_model=SwarmPage, responses={422: {"description": "A bad limit or cursor"}})
async def list_swarms(ctx: Ctx, user: CurrentUser,
                      limit: Annotated[int, Query(ge=1, le=200, description="Swarms per page")] = 50,
                      cursor: Annotated[str | None, Query(max_length=200, description="The previous page's "
                                                          "`next_cursor`")] = None) -> Response:
    """The caller's swarms, newest first, a page at a time; each carries the beginning of its goal and of its
    outcome, and how many chats wait on the person."""
    return json_response(await ctx.offload(lambda: to_json(ctx.service.swarm_page(user.id, limit=limit,
                                                                                   cursor=cursor))))


@router.post("/swarms", status_code=status.HTTP_201_CREATED, response_model=Swarm,
             responses={422: {"description": "Invalid body, unknown config, or a goal over the config's limit"},
                        **R413, **R415, **R429},
             openapi_extra=request_body(CreateSwarmBody, SWARM_FIELDS))
async def create_swarm(request: Request, ctx: Ctx, user: CurrentUser) -> Response:
    """Create a draft. JSON `{name?, goal, config?}`, or the same fields as multipart with files (`file`,
    repeatable): the goal's attachments, stored in the draft's memory space under `uploads/`; the root node
    receives them when the swarm is spawned. 413/415 for files as on a reply."""
    parsed = await read_body(request, CreateSwarmBody, ctx.settings, repeated=frozenset())
    if not isinstance(parsed, Parsed):
        return parsed
    body: CreateSwarmBody = parsed.body

    def create() -> bytes:
        return to_json(ctx.service.create_swarm(user.id, body.goal, name=body.name, config_id=body.config,
                                                files=parsed.files, limits=limits_of(ctx.settings)))

    async with ctx.quotas.guard(ctx, user.id, new_swarm=True):
        try:
            return json_response(await ctx.offload(create), status.HTTP_201_CREATED)
        except ConfigNotFound as exc:
            return invalid(str(exc), ["body", "config"])


@router.get("/swarms/{swarm_id}", response_model=SwarmSummary, responses=R404)
async def get_swarm(swarm_id: SwarmId, ctx: Ctx, user: CurrentUser) -> Response:
    """The swarm, with its whole outcome and how many chats wait on the person."""
    return json_response(await ctx.offload(lambda: to_json(ctx.service.get_swarm_summary(
        swarm_id, owner_id=user.id))))


@router.patch("/swarms/{swarm_id}", response_model=Swarm, responses={**R404, **R409, **R413, **R429})
async def update_swarm(swarm_id: SwarmId, body: UpdateSwarmBody, ctx: Ctx, user: CurrentUser) -> Response:
    """Rename; change the goal (only while a draft, else 409)."""
    return json_response(await ctx.offload(lambda: to_json(ctx.service.update_swarm(
        swarm_id, owner_id=user.id, name=body.name, goal=body.goal))))


@router.delete("/swarms/{swarm_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               responses=R404)
async def delete_swarm(swarm_id: SwarmId, ctx: Ctx, user: CurrentUser) -> Response:
    await ctx.offload(ctx.service.delete_swarm, swarm_id, owner_id=user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/swarms/{swarm_id}/spawn", response_model=Swarm, responses={**R404, **R409, **R429})
async def spawn(swarm_id: SwarmId, ctx: Ctx, user: CurrentUser) -> Swarm:
    """Start a draft: the root node gets the goal."""
    async with ctx.quotas.guard(ctx, user.id, run=True):
        swarm: Swarm = await ctx.offload(ctx.service.spawn, swarm_id, owner_id=user.id)
    return swarm


@router.post("/swarms/{swarm_id}/pause", response_model=Swarm, responses={**R404, **R409})
async def pause(swarm_id: SwarmId, ctx: Ctx, user: CurrentUser) -> Swarm:
    """Hold the swarm's queued operations (running ones finish)."""
    swarm: Swarm = await ctx.offload(ctx.service.pause, swarm_id, owner_id=user.id)
    return swarm


@router.post("/swarms/{swarm_id}/resume", response_model=Swarm, responses={**R404, **R409, **R429})
async def resume(swarm_id: SwarmId, ctx: Ctx, user: CurrentUser) -> Swarm:
    """Release held operations in order."""
    async with ctx.quotas.guard(ctx, user.id, run=True):
        swarm: Swarm = await ctx.offload(ctx.service.resume, swarm_id, owner_id=user.id)
    return swarm


@router.put("/swarms/{swarm_id}/auto_approve", response_model=AutoApproveState,
            responses={**R404, **R409, **R422})
async def auto_approve(swarm_id: SwarmId, body: AutoApproveBody, ctx: Ctx, user: CurrentUser) -> AutoApproveState:
    """Approve one tool (`tool`) or every tool automatically in this swarm, or stop: relaxes the operator's `ask`
    policy to `auto` (never `deny`), recorded as an `auto_approve` event. Turned on, it answers the approvals the
    swarm's nodes wait on for those tools. 422 for a tool the swarm does not have (its action space's tools: the
    memory tools and the tools of the MCP servers its config picks); 409 for turning on one the operator denies."""
    covered = await ctx.offload(ctx.service.set_auto_approve, swarm_id, body.enabled, body.tool, owner_id=user.id)
    return AutoApproveState(auto_approve=covered)


@router.post("/swarms/{swarm_id}/clone", status_code=status.HTTP_201_CREATED, response_model=Swarm,
             responses={**R404, **R413, **R429})
async def clone(swarm_id: SwarmId, ctx: Ctx, user: CurrentUser, body: CloneBody | None = None) -> Response:
    """Without `at_seq`: a new draft with the same goal. With it: a paused fork holding the state at that seq."""
    b = body or CloneBody()
    async with ctx.quotas.guard(ctx, user.id, new_swarm=True, fork=b.at_seq is not None):
        return json_response(await ctx.offload(lambda: to_json(ctx.service.clone(
            swarm_id, at_seq=b.at_seq, owner_id=user.id, name=b.name))), status.HTTP_201_CREATED)


