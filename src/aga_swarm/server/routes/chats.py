"""Chats: list, messages, reply."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from ...schemas import ChatSummary, Message
from ..auth import Ctx, CurrentUser
from ..models import PostMessageBody
from .common import R401, R404, R409, R413, R429, ChatId, SwarmId, json_response, to_json

router = APIRouter(prefix="/api", tags=["chats"], responses={**R401, **R404})


@router.get("/swarms/{swarm_id}/chats", response_model=list[ChatSummary])
async def list_chats(swarm_id: SwarmId, ctx: Ctx, user: CurrentUser) -> Response:
    """Chats awaiting the user first, then open, closed, idle."""
    return json_response(await ctx.offload(lambda: to_json(ctx.service.chats(swarm_id, owner_id=user.id))))


@router.get("/swarms/{swarm_id}/chats/{chat_id}/messages", response_model=list[Message])
async def list_messages(swarm_id: SwarmId, chat_id: ChatId, ctx: Ctx, user: CurrentUser) -> Response:
    return json_response(await ctx.offload(lambda: to_json(ctx.service.messages(
        swarm_id, chat_id, owner_id=user.id))))


@router.post("/swarms/{swarm_id}/chats/{chat_id}/messages", status_code=status.HTTP_202_ACCEPTED,
             response_model=Message, responses={**R409, **R413, **R429})
async def post_message(swarm_id: SwarmId, chat_id: ChatId, body: PostMessageBody, ctx: Ctx,
                       user: CurrentUser) -> Message:
    """Reply to a node that awaits the user; it resumes at its next step. 409 when the chat is not awaiting a
    reply (also for the losing side of two racing replies); 429 past the stored-bytes quota."""
    ctx.realtime.reply_started(swarm_id, chat_id)  # for the reply-to-push latency metric
    try:
        message: Message = await ctx.offload(ctx.service.post_reply, swarm_id, chat_id, body.content,
                                             owner_id=user.id)
    except BaseException:
        ctx.realtime.reply_failed(swarm_id, chat_id)
        raise
    return message
