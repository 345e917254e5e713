"""State (now or at a seq), history pages and node details."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from ...schemas import NodeDetail, SwarmHistory, SwarmState
from ..auth import Ctx, CurrentUser
from ..models import MAX_SEQ
from .common import R401, R404, R410, NodeId, SwarmId, json_response, to_json

router = APIRouter(prefix="/api", tags=["state and history"], responses={**R401, **R404})


@router.get("/swarms/{swarm_id}/state", response_model=SwarmState, responses=R410)
async def get_state(swarm_id: SwarmId, ctx: Ctx, user: CurrentUser,
                    at: Annotated[int | None, Query(ge=0, le=MAX_SEQ, description="The state at this seq")] = None,
                    ) -> Response:
    """The state now, or at a seq. Rendered states are cached by (swarm, seq): a state at a seq never changes."""
    def build() -> bytes:
        swarm = ctx.service.get_swarm(swarm_id, owner_id=user.id)  # ownership first, and the current seq
        if at is None or at <= swarm.last_seq:
            hit = ctx.states.get(swarm_id, swarm.last_seq if at is None else at)
            if hit is not None:
                return hit
        state = (ctx.service.state(swarm_id, owner_id=user.id) if at is None
                 else ctx.service.state_at(swarm_id, at, owner_id=user.id))
        body = to_json(state)
        if state.swarm_id == swarm_id:
            ctx.states.put(swarm_id, state.seq, body)
        return body

    return json_response(await ctx.offload(build))


@router.get("/swarms/{swarm_id}/history", response_model=SwarmHistory)
async def get_history(swarm_id: SwarmId, ctx: Ctx, user: CurrentUser,
                      after: Annotated[int, Query(ge=0, le=MAX_SEQ, description="Events after this seq")] = 0,
                      limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> Response:
    """A page of events, oldest first. Page on with `after=<last seq of the page>` until it is `last_seq`."""
    return json_response(await ctx.offload(lambda: to_json(ctx.service.history(
        swarm_id, after=after, limit=limit, owner_id=user.id))))


@router.get("/swarms/{swarm_id}/nodes/{node_id}", response_model=NodeDetail, responses=R410)
async def get_node(swarm_id: SwarmId, node_id: NodeId, ctx: Ctx, user: CurrentUser,
                   at: Annotated[int | None, Query(ge=0, le=MAX_SEQ, description="The node as it was at this seq")]
                   = None) -> Response:
    """The node with its journal, developer log (LLM calls with prompts) and continuation; with `at`, as they
    were at that point of the history (the journal lines and model calls whose events came at or before it)."""
    return json_response(await ctx.offload(lambda: to_json(ctx.service.node_detail(
        swarm_id, node_id, owner_id=user.id, at=at))))
