"""Resuming nodes from outside a step: a person's reply to the node that asked, and the operations a state implies.

A reply resumes the waiting node at the continuation's next step, in the reply's own transaction when it may run
now (``GroupCommit.resume_now``); otherwise (the swarm is paused, the group is full, an older operation of the
node waits) the continuation becomes kind ``step`` with the reply as its result, and a ``user_reply`` operation
carries it. Nothing re-runs from the top.
"""

from __future__ import annotations

from collections.abc import Callable

from ..schemas import (
    TERMINAL_LIFECYCLES,
    Attachment,
    ChatStatus,
    Continuation,
    ContinuationKind,
    Lifecycle,
    Message,
    MessageRole,
    OperationKind,
    SwarmState,
)
from ..store.forks import PendingOperation
from . import attachments as att
from . import keys
from .context import UserReply
from .errors import ChatNotAwaiting
from .executor import Executor
from .tx import SwarmTx


def reply(tx: SwarmTx, executor: Executor, chat_id: str, text: str,
          attachments: Callable[[], list[Attachment]]) -> Message:
    """Record the person's reply ``text`` in ``chat_id`` (with the files ``attachments()`` records) and resume the
    node that asked. ChatNotAwaiting when the chat's node is not waiting on the person (the loser of two racing
    replies gets it: the caller holds the swarm's row lock)."""
    chat = tx.chat(chat_id)
    node = tx.node(chat.node_id)
    cont = node.continuation
    if (chat.status is not ChatStatus.AWAITING_USER or node.lifecycle is not Lifecycle.WAITING_USER
            or cont is None or cont.kind is not ContinuationKind.USER):
        raise ChatNotAwaiting(chat_id)
    files = attachments()
    msg = tx.post_message(chat_id, MessageRole.USER, text, reply_to=cont.request.get("message_id"),
                          attachments=files)
    tx.update_chat(chat_id, status=ChatStatus.OPEN, awaiting_since=None)
    if files:
        tx.update_node(node.id, attachments=att.dumped([*node.attachments, *files]))
    result = UserReply(content=text, message_id=msg.id, attachments=files).model_dump(
        mode="json", exclude_defaults=True)
    tx.lead(node.id)  # the node's next operations may run in this transaction (GroupCommit.transact)
    if executor.resume_now(tx, node.id, cont, result):
        return msg
    token = tx.continuation_token(node.id)
    resumed = Continuation(node_id=node.id, kind=ContinuationKind.STEP, next_step=cont.next_step,
                           context=cont.context, token=token, created_at=tx.now, request={"result": result})
    tx.update_node(node.id, lifecycle=Lifecycle.RUNNING, continuation=resumed)
    tx.enqueue(OperationKind.USER_REPLY, node.id, keys.reply_key(msg.id), {"token": token})
    return msg


def pending_operations(state: SwarmState) -> list[PendingOperation]:
    """The operations a state implies: every live node not waiting on the person has a continuation saying what is
    next (a fork writes them, held or queued)."""
    pending: list[PendingOperation] = []
    for node in state.nodes.values():
        if node.lifecycle in TERMINAL_LIFECYCLES or node.lifecycle is Lifecycle.WAITING_USER:
            continue
        cont = node.continuation
        if node.lifecycle is Lifecycle.SPAWNED:
            pending.append((OperationKind.SPAWN, node.id, keys.attempt_key("spawn", node), {}))
        elif cont is not None:
            kind, key, payload = keys.continuation_operation(cont.kind, cont.token)
            pending.append((kind, node.id, key, payload))
    return pending
