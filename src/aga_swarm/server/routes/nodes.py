"""Steering a node: cancel it, retry it, tell it something."""

from __future__ import annotations

from fastapi import APIRouter, status

from ...schemas import Message, Node
from ..auth import Ctx, CurrentUser
from ..models import PostMessageBody
from .common import R401, R404, R409, R413, R429, NodeId, SwarmId

router = APIRouter(prefix="/api", tags=["steering"], responses={**R401, **R404, **R409})


@router.post("/swarms/{swarm_id}/nodes/{node_id}/cancel", response_model=Node)
async def cancel_node(swarm_id: SwarmId, node_id: NodeId, ctx: Ctx, user: CurrentUser) -> Node:
    """Cancel a live node and its subtree (their queued operations are dropped); the parent is told, and its
    termination policy decides what follows. Cancelling the root ends the swarm. 409 when the node has ended."""
    node: Node = await ctx.offload(ctx.service.cancel_node, swarm_id, node_id, owner_id=user.id)
    return node


@router.post("/swarms/{swarm_id}/nodes/{node_id}/retry", response_model=Node)
async def retry_node(swarm_id: SwarmId, node_id: NodeId, ctx: Ctx, user: CurrentUser) -> Node:
    """Run a failed or cancelled node again from its entry step, as a new attempt (the earlier one stays in its
    developer log). 409 when it is running or done, or its parent no longer waits for it."""
    node: Node = await ctx.offload(ctx.service.retry_node, swarm_id, node_id, owner_id=user.id)
    return node


@router.post("/swarms/{swarm_id}/nodes/{node_id}/tell", status_code=status.HTTP_202_ACCEPTED,
             response_model=Message, responses={**R413, **R429})
async def tell_node(swarm_id: SwarmId, node_id: NodeId, body: PostMessageBody, ctx: Ctx,
                    user: CurrentUser) -> Message:
    """Say something to a live node, whether or not it asked: posted to its chat at once; its next model call
    receives it (a node waiting on its children passes it to its review; to a node awaiting a reply, this is
    the reply). 409 when the node has ended; 422 when the message is empty; 429 past the stored-bytes quota."""
    message: Message = await ctx.offload(ctx.service.tell_node, swarm_id, node_id, body.content,
                                         owner_id=user.id)
    return message
