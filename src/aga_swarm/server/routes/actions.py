"""The action space of a swarm: every folder and action its nodes may route to, described for the view."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ...schemas import SwarmActionSpace
from ..auth import Ctx, CurrentUser
from .common import R401, R404, SwarmId, json_response, to_json

router = APIRouter(prefix="/api", tags=["actions"], responses={**R401, **R404})


@router.get("/swarms/{swarm_id}/actions", response_model=SwarmActionSpace)
async def action_space(swarm_id: SwarmId, ctx: Ctx, user: CurrentUser) -> Response:
    """The swarm's action space (its config's): built-in actions, tools (the memory tools, the MCP servers' the
    config picks) and custom ones, each with its description, input schema and, for a tool, its approval
    policy. An MCP server is named, never its command, URL or environment."""
    return json_response(await ctx.offload(lambda: to_json(ctx.service.action_space(swarm_id, owner_id=user.id))))
