"""The lifecycle rules: how nodes end, what their ending does to their parent, subtree and swarm. Pure rules over
a ``SwarmTx`` (its events are the only effect); no step runs here (``dispatch`` runs the parent's review, and
``policies`` decides what a child's end does to its parent)."""

from __future__ import annotations

from ..schemas import TERMINAL_LIFECYCLES, ChatStatus, Lifecycle, Node, SwarmStatus
from ..store import sql
from .deps import release_dependents
from .tx import SwarmTx


def cancel_children(tx: SwarmTx, parent: Node, reason: str) -> None:
    """Cancel every live node below ``parent`` (closing their chats) with ``reason``."""
    for child in tx.children(parent):
        if child.lifecycle in TERMINAL_LIFECYCLES:
            continue
        cancel_children(tx, child, reason)
        close_chat(tx, child)
        tx.update_node(child.id, lifecycle=Lifecycle.CANCELLED, failure_reason=reason, continuation=None)


def close_chat(tx: SwarmTx, node: Node) -> None:
    """A node that ends while its chat waits for the person closes the chat."""
    chat = tx.chat(node.chat_id)
    if chat.status is ChatStatus.AWAITING_USER:
        tx.update_chat(chat.id, status=ChatStatus.CLOSED, awaiting_since=None)


def fail_node(tx: SwarmTx, node_id: str, reason: str) -> None:
    """Fail a live node: its subtree is cancelled, its chat closed, its parent told."""
    node = tx.node(node_id)
    if node.lifecycle in TERMINAL_LIFECYCLES:
        return
    cancel_children(tx, node, f"parent {node_id} failed")
    close_chat(tx, node)
    tx.journal(node_id, "failure", f"Failed: {reason}")
    tx.update_node(node_id, lifecycle=Lifecycle.FAILED, failure_reason=reason, continuation=None)
    after_terminal(tx, tx.node(node_id))


def breach(tx: SwarmTx, node_id: str, reason: str) -> None:
    """A final limit was reached at ``node_id``: that node fails, every other live node of the swarm is
    cancelled, pending operations are dropped, and the swarm fails with ``reason``. Nobody reviews it."""
    node = tx.node(node_id)
    tx.journal(node_id, "limit", f"Stopped: {reason}")
    if node.lifecycle not in TERMINAL_LIFECYCLES:
        close_chat(tx, node)
        tx.update_node(node_id, lifecycle=Lifecycle.FAILED, failure_reason=reason, continuation=None)
    end_swarm(tx, reason)


def end_swarm(tx: SwarmTx, reason: str) -> None:
    """Fail the swarm with ``reason``: cancel every live node, drop every pending operation."""
    tx.flush(swarm_row=False)  # the live-node query must see this transaction's changes
    for row in sql.fetch(tx.conn, sql.LIVE_NODES, {"sid": tx.swarm_id}):
        live = tx.node(row.id)
        if live.lifecycle in TERMINAL_LIFECYCLES:
            continue
        close_chat(tx, live)
        tx.update_node(live.id, lifecycle=Lifecycle.CANCELLED, failure_reason=f"swarm stopped: {reason}",
                       continuation=None)
    sql.send(tx.conn, sql.DROP_PENDING, {"sid": tx.swarm_id, "why": f"dropped: {reason}"[:4000]})
    tx.drop_inline()
    tx.set_status(SwarmStatus.FAILED, reason)


def after_terminal(tx: SwarmTx, node: Node) -> None:
    """A node ended: release (or cancel) the siblings that need it, and tell the parent, or end the swarm when
    the root ends."""
    if node.needed_by:  # siblings waiting for this node start (or are cancelled) in this same transaction
        release_dependents(tx, node)
    if node.parent_id is not None:
        tx.notify_parent(node)
        return
    if node.lifecycle is Lifecycle.DONE:
        tx.set_status(SwarmStatus.COMPLETED)
    else:
        tx.set_status(SwarmStatus.FAILED, node.failure_reason or "the root node failed")

