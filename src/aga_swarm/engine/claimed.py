"""A claimed operation, what running it produced, and the few things every part of the executor shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from ..schemas import Continuation, Lifecycle, OperationKind, SwarmEvent
from ..store import sql


class Prefetched(NamedTuple):
    """What a model (or tool) call needs to start, read when it was claimed (the commit re-checks it)."""

    config_id: str
    lifecycle: Lifecycle
    continuation: Continuation | None


UNWRITTEN = -1
"""The ``id`` of a model call handed to this process's runner with no row (``GroupCommit.transact``): its node's
``llm`` continuation is its record, from which recovery re-derives it (``Runner.recover``)."""


@dataclass
class ClaimedOp:
    """An operation row this worker holds a claim on (``claim``), or one run from memory (``id`` 0), or a model
    call with no row yet (``id`` ``UNWRITTEN``; ``row`` is the row it would be: ``GroupCommit.materialize``), or
    one it reserved (``reserved``: its row stays ``queued`` until the transaction that runs it deletes it, by a
    compare-and-set on ``id``, ``swarm_id``, ``idem_key`` and the status, before anything else: ``Runner.claim``)."""

    id: int
    swarm_id: str
    node_id: str
    kind: OperationKind
    payload: dict[str, Any]
    attempts: int
    claim: str
    prefetched: Prefetched | None = None  # for a model call: what it needs, read when it was claimed
    row: dict[str, Any] | None = None  # an ``UNWRITTEN`` operation's row, written only if it does not end done
    reserved: bool = False  # reserved, not claimed: no claim was written (``claim`` is empty)
    idem_key: str = ""  # a reserved operation's key: with its id, what its compare-and-set matches
    # PostgreSQL: the commit of the transaction that chained this operation, sent and not yet confirmed
    # (``store.database.PendingCommit``); this operation's transaction confirms it before its own commit
    after: Any = None
    # whether its transaction may send its commit ahead: set by the runner, which handles ``PriorCommitFailed``
    # (not for an operation it runs again after such a failure)
    defer: bool = False


class Executed(NamedTuple):
    """What running a claimed operation committed."""

    events: list[SwarmEvent]
    chained: ClaimedOp | None = None  # the node's next operation, already claimed in the same transaction
    grouped: int = 0  # operations run after this one in its transaction (group commit)
    queued_work: bool = False  # it wrote queued operations (for any worker)
    # the operation ended (done or failed) in what committed: not when another worker ran it, a pause held it,
    # its claim was lost or a transient failure queued it again (``NOTHING``), which ``Runner.ops_done`` skips
    finished: bool = True


NOTHING = Executed([], finished=False)


class LostClaim(Exception):
    """Another worker took the operation over (lease expired); our effects are rolled back."""


class PriorCommitFailed(Exception):
    """The transaction that chained this operation failed at its commit (sent ahead: ``ClaimedOp.after``), so this
    operation's transaction, built on what that one did, is rolled back too; the runner runs the earlier one's
    leading operation again, on its own."""


def now() -> datetime:
    return datetime.now(UTC)


def read_for_llm_call(conn: Any, swarm_id: str, node_id: str) -> Prefetched | None:
    """What a model call needs to start, in one query (the commit re-checks it under the write lock)."""
    found = sql.fetch_one(conn, sql.NODE_FOR_LLM_CALL, {"sid": swarm_id, "id": node_id})
    if found is None:
        return None
    data = sql.from_json(found.data)
    raw = data.get("continuation")
    return Prefetched(found.config_id, Lifecycle(data["lifecycle"]),
                      Continuation.model_validate(raw) if raw else None)
