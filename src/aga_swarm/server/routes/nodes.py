"""Steering a node: cancel it, retry it, tell it something."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from ...schemas import Message, Node
from ..auth import Ctx, CurrentUser
from ..models import PostMessageBody
from .common import R401, R404, R409, R413, R415, R422, R429, NodeId, SwarmId, json_response, to_json
from .forms import MESSAGE_FIELDS, Parsed, limits_of, message_body, read_body, request_body

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
             response_model=Message, responses={**R413, **R415, **R422, **R429},
             openapi_extra=request_body(PostMessageBody, MESSAGE_FIELDS))
async def tell_node(swarm_id: SwarmId, node_id: NodeId, request: Request, ctx: Ctx,
                    user: CurrentUser) -> Response:
    """Say something to a live node, whether or not it asked: posted to its chat at once; its next model call
    receives it (a node waiting on its children passes it to its review; to a node awaiting a reply, this is
    the reply). JSON `{content, attachments?}` or multipart with files, as a reply. 409 when the node has
    ended; 422 when the message is empty; 413/415/429 for files as on a reply."""
    parsed = message_body(await read_body(request, PostMessageBody, ctx.settings))
    if not isinstance(parsed, Parsed):
        return parsed
    body: PostMessageBody = parsed.body
    message: Message = await ctx.offload(ctx.service.tell_node, swarm_id, node_id, body.content,
                                         owner_id=user.id, files=parsed.files, attach=parsed.attach,
                                         limits=limits_of(ctx.settings))
    return json_response(to_json(message), status.HTTP_202_ACCEPTED)
