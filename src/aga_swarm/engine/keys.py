"""The formats of operation idempotency keys and continuation tokens: the one place they are written.

An operation's key is unique per swarm (``uq_operation_idem``): queueing a key that is already there queues nothing,
which makes a re-run transaction, a duplicate reply or a fork's re-derived operations harmless. A continuation's
token names the transaction that wrote it (the node and the seq its first event takes); an operation carrying a
token other than the node's current one does nothing (it is stale).

Keys and tokens are stored in rows (``operations.idem_key``, ``Node.continuation.token``), so their formats are
durable: change one only with a migration.
"""

from __future__ import annotations

from ..schemas import ContinuationKind, Node, OperationKind


def continuation_token(node_id: str, seq: int) -> str:
    """The token of a continuation ``node_id`` writes in a transaction over the state at ``seq`` (its events start
    at ``seq + 1``), e.g. ``"n1.2@57"``."""
    return f"{node_id}@{seq + 1}"


def llm_call_key(token: str) -> str:
    """The ``llm_call`` operation that makes the model call a continuation of kind ``llm`` asks for."""
    return f"llm:{token}"


def user_prompt_key(token: str) -> str:
    """The ``user_prompt`` operation that posts a continuation's question (kind ``user``) in the node's chat."""
    return f"prompt:{token}"


def tool_call_key(token: str) -> str:
    """The ``tool_call`` operation that makes the MCP tool call a continuation of kind ``tool`` asks for."""
    return f"tool:{token}"


def step_key(token: str) -> str:
    """The ``step`` operation that runs a continuation's next step (kind ``step``)."""
    return f"step:{token}"


def children_check_key(token: str) -> str:
    """The ``terminate`` operation that checks the children of a node waiting on them (kind ``children``) when they
    had all ended already as it began to wait."""
    return f"check:{token}"


def reply_key(message_id: str) -> str:
    """The ``user_reply`` operation that runs the next step with the person's reply (a message id: one a reply)."""
    return f"reply:{message_id}"


def failure_key(operation_id: int) -> str:
    """The ``failure`` operation that ends a node whose operation ``operation_id`` failed for good."""
    return f"failure:{operation_id}"


def attempt_key(kind: str, node: Node) -> str:
    """The key of a once-per-attempt operation of ``node`` (its ``spawn``, its parent's ``terminate`` notice): a
    retried node runs them again (``steer.retry``), so from its second attempt on the key carries the attempt."""
    return f"{kind}:{node.id}" if node.attempt == 1 else f"{kind}:{node.id}#{node.attempt}"


def spawn_key(node_id: str) -> str:
    """The ``spawn`` operation of a new node (its first attempt: ``attempt_key("spawn", node)``)."""
    return f"spawn:{node_id}"


def continuation_operation(cont_kind: ContinuationKind, token: str) -> tuple[OperationKind, str, dict[str, object]]:
    """The operation that carries a continuation of ``cont_kind`` forward, as the step that wrote it queued it: its
    kind, key and payload. (For ``user`` it is the question's ``user_prompt``; a node already waiting on the person
    has none.)"""
    if cont_kind is ContinuationKind.LLM:
        return OperationKind.LLM_CALL, llm_call_key(token), {"token": token}
    if cont_kind is ContinuationKind.TOOL:
        return OperationKind.TOOL_CALL, tool_call_key(token), {"token": token}
    if cont_kind is ContinuationKind.STEP:
        return OperationKind.STEP, step_key(token), {"token": token}
    if cont_kind is ContinuationKind.USER:
        return OperationKind.USER_PROMPT, user_prompt_key(token), {"token": token}
    return OperationKind.TERMINATE, children_check_key(token), {"check": True}  # ContinuationKind.CHILDREN
