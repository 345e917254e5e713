"""Chats: list, messages, reply."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from ...schemas import ChatSummary, Message
from ..auth import Ctx, CurrentUser
from ..models import PostMessageBody
from .common import R401, R404, R409, R413, R415, R422, R429, ChatId, SwarmId, json_response, to_json
from .forms import MESSAGE_FIELDS, Parsed, limits_of, message_body, read_body, request_body

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
             response_model=Message, responses={**R409, **R413, **R415, **R422, **R429},
             openapi_extra=request_body(PostMessageBody, MESSAGE_FIELDS))
async def post_message(swarm_id: SwarmId, chat_id: ChatId, request: Request, ctx: Ctx,
                       user: CurrentUser) -> Response:
    """Reply to a node that awaits the user; it resumes at its next step. JSON `{content, attachments?}`, or
    multipart with files (`file`, repeatable) that land in the memory space under `uploads/` and go to the
    node with the reply. 409 when the chat is not awaiting a reply (also for the losing side of two racing
    replies); 413 over the operator's size limits or file count, 415 for a type off the allowlist or bytes
    that are not what they claim, 429 past the stored-bytes quota."""
    parsed = message_body(await read_body(request, PostMessageBody, ctx.settings))
    if not isinstance(parsed, Parsed):
        return parsed
    body: PostMessageBody = parsed.body
    if ctx.service.stored_bytes.stale(user.id):  # the quota's read, here on the offload threads, not in the write
        await ctx.offload(ctx.service.measure_storage_if_stale, user.id)
    ctx.realtime.reply_started(swarm_id, chat_id)  # for the reply-to-push latency metric
    try:
        # without files, on the runner's thread on SQLite (``ServerContext.write``); files are written to the
        # blob store first, on the offload threads
        message: Message = await (ctx.offload if parsed.files else ctx.write)(
            ctx.service.post_reply, swarm_id, chat_id, body.content, owner_id=user.id, files=parsed.files,
            attach=parsed.attach, limits=limits_of(ctx.settings))
    except BaseException:
        ctx.realtime.reply_failed(swarm_id, chat_id)
        raise
    return json_response(to_json(message), status.HTTP_202_ACCEPTED)
