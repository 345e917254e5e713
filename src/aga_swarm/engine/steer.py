"""Steering a node by hand: cancel it, retry it, tell it something. Each is one transaction on the swarm, made
of ordinary events (so the history records it, the slider replays it and the browser gets it live), and
each names what it refused in a ``Conflict`` (409 over HTTP)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..schemas import (
    TERMINAL_LIFECYCLES,
    Attachment,
    ChatStatus,
    Lifecycle,
    Limits,
    Message,
    MessageRole,
    Node,
    OperationKind,
    SwarmStatus,
)
from ..sdk.types import CANCELLED_BY_PERSON as CANCELLED_BY_PERSON
from ..store import sql
from . import keys
from . import lifecycle as rules
from .deps import start_lifecycle
from .errors import Conflict
from .limits import Breach, breach_of
from .tx import SwarmTx

RETRYABLE = frozenset({Lifecycle.FAILED, Lifecycle.CANCELLED})


class NodeEnded(Conflict):
    def __init__(self, node: Node, what: str) -> None:
        super().__init__(f"node {node.id} has ended ({node.lifecycle.value}); {what}")


class LimitStillBinds(Conflict):
    """A retry in a swarm that a final limit stopped, while its config still holds that limit where it stopped
    the swarm: the retry would meet it again at once. The message names the limit and how to raise it."""

    def __init__(self, node_id: str, breach: Breach, config_id: str, built_in: bool) -> None:
        above = format(breach.value, "f").rstrip("0").rstrip(".")
        if built_in:
            how = (f"its config {config_id!r} is built in and cannot change: start a new swarm with a config "
                   f"whose limits.{breach.field} is above {above} (aga-swarm run --config-file FILE)")
        else:
            how = (f"raise limits.{breach.field} above {above} in its config {config_id!r} (its owner saves it "
                   "again, e.g. aga-swarm retry SWARM NODE --config-file FILE; the operator, for a shared config), "
                   "then retry")
        super().__init__(f"node {node_id} cannot be retried: the swarm stopped on its {breach.limit} (reached at "
                         f"node {breach.node_id}), and a retry would meet it again at once; {how}")
        self.breach = breach


def _live_subtree(tx: SwarmTx, node: Node) -> list[Node]:
    out: list[Node] = []
    for child in tx.children(node):
        if child.lifecycle not in TERMINAL_LIFECYCLES:
            out.append(child)
            out.extend(_live_subtree(tx, child))
    return out


def cancel(tx: SwarmTx, node_id: str) -> Node:
    """Cancel a live node and its subtree, drop their queued operations, and tell the parent (its termination
    policy decides what follows), or end the swarm when it is the root."""
    node = tx.node(node_id)
    if node.lifecycle in TERMINAL_LIFECYCLES:
        raise NodeEnded(node, "only a live node can be cancelled")
    subtree = [node, *_live_subtree(tx, node)]
    rules.cancel_children(tx, node, f"parent {node.id} was {CANCELLED_BY_PERSON}")
    rules.close_chat(tx, node)
    tx.journal(node.id, "person", "Cancelled by the person.")
    tx.update_node(node.id, lifecycle=Lifecycle.CANCELLED, failure_reason=CANCELLED_BY_PERSON, continuation=None)
    for n in subtree:
        sql.send(tx.conn, sql.DROP_PENDING_OF_NODE, {"sid": tx.swarm_id, "nid": n.id,
                                                    "why": f"dropped: {node.id} {CANCELLED_BY_PERSON}"})
    gone = {n.id for n in subtree}
    tx.drop_inline(gone)
    rules.after_terminal(tx, tx.node(node.id))
    if node.parent_id is None and tx.state.status is SwarmStatus.FAILED:
        tx.set_status(SwarmStatus.FAILED, f"the root node n was {CANCELLED_BY_PERSON}")
    return tx.node(node.id)


def retry(tx: SwarmTx, node_id: str, limits: Limits | None = None, config_id: str = "",
          built_in: bool = False) -> Node:
    """Run a failed or cancelled node again from its action's entry step, as attempt ``n + 1``. Its earlier
    attempt stays in the history and its developer log; its old children stay as they ended. The parent must
    still be waiting for its children (a root's retry reopens an ended swarm). A swarm that a final limit
    stopped is retried only once ``limits`` (its config ``config_id`` now) no longer hold that limit where it
    stopped it (``LimitStillBinds``); what it used so far still counts."""
    node = tx.node(node_id)
    if limits is not None and tx.state.status is SwarmStatus.FAILED:
        breach = breach_of(tx.state.failure_reason)
        if breach is not None and breach.binds(limits):
            raise LimitStillBinds(node.id, breach, config_id, built_in)
    if node.lifecycle not in RETRYABLE:
        state = "is running" if node.lifecycle not in TERMINAL_LIFECYCLES else "has ended"
        raise Conflict(f"node {node.id} {state} ({node.lifecycle.value}); only a failed or cancelled node can be "
                       "retried")
    if node.parent_id is not None:
        parent = tx.node(node.parent_id)
        if parent.lifecycle is not Lifecycle.WAITING_CHILDREN:
            raise Conflict(f"node {node.id} cannot be retried: its parent {parent.id} is no longer waiting for "
                           f"its subtasks ({parent.lifecycle.value})")
    lifecycle, unmet = start_lifecycle(tx, node.needs) if node.needs else (Lifecycle.SPAWNED, None)
    if lifecycle is Lifecycle.CANCELLED:
        raise Conflict(f"node {node.id} cannot be retried: {unmet}; retry that first")
    attempt = node.attempt + 1
    if node.parent_id is None and tx.state.status in (SwarmStatus.FAILED, SwarmStatus.COMPLETED):
        tx.set_status(SwarmStatus.RUNNING)
    tx.journal(node.id, "person", f"Retried by the person: attempt {attempt} starts from the entry step.")
    tx.update_node(node.id, lifecycle=lifecycle, failure_reason=None, report=None, continuation=None,
                   attempt=attempt, replans=0)  # its inbox stays: not received yet
    chat = tx.chat(node.chat_id)
    if chat.status is ChatStatus.CLOSED:
        tx.update_chat(chat.id, status=ChatStatus.OPEN)
    fresh = tx.node(node.id)
    if lifecycle is Lifecycle.SPAWNED:
        tx.enqueue(OperationKind.SPAWN, node.id, keys.attempt_key("spawn", fresh))
    return fresh


def tell(tx: SwarmTx, node_id: str, content: str, attachments: Callable[[], list[Attachment]] | None = None
         ) -> Message:
    """Post what the person says to a live node's chat at once and put it in the node's inbox: its next model
    call receives it (a node waiting on its children passes it to its review). ``attachments`` records the
    files the message carries (in this transaction, once the node is known to be live); the node receives them
    with its next model calls (``Node.attachments``)."""
    node = tx.node(node_id)
    if node.lifecycle in TERMINAL_LIFECYCLES:
        raise NodeEnded(node, "there is nobody left to tell")
    files = attachments() if attachments is not None else []
    chat = tx.chat(node.chat_id)
    msg = tx.post_message(chat.id, MessageRole.USER, content, attachments=files)
    if chat.status in (ChatStatus.IDLE, ChatStatus.CLOSED):
        tx.update_chat(chat.id, status=ChatStatus.OPEN)
    said = content or "(files only)"
    if files:
        said += " [files: " + ", ".join(a.path for a in files) + "]"
    tx.journal(node.id, "person", "The person said (delivered with the next model call): " + said[:500])
    changes: dict[str, Any] = {"inbox": [*node.inbox, said]}
    if files:
        changes["attachments"] = [a.model_dump(mode="json") for a in [*node.attachments, *files]]
    tx.update_node(node.id, **changes)
    return msg
