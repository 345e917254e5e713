"""Reading history: events after a seq, the current state, and the state at any past seq.

``state_at`` starts from the nearest snapshot at or before the seq and folds the few events after it.
Snapshots are made lazily, on read, every ``snapshot_every`` events, so the write path never pays for them.
Compaction drops events older than a retention window, keeping a snapshot at the cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update

from ..schemas import SwarmHistory, SwarmState, SwarmStatus
from ..store import rows
from ..store import tables as t
from ..store.blob import BlobStore, scoped_key
from ..store.database import Database
from ..store.devlog import MISSING, journal_events
from .errors import HistoryCompacted, InvalidInput, SwarmNotFound
from .fold import apply_event
from .memory import committed_files


def current_state(db: Database, swarm_id: str) -> SwarmState:
    """The state from the row projection (the fast path)."""
    with db.read() as conn:
        row = rows.load_swarm_row(conn, swarm_id)
        if row is None:
            raise SwarmNotFound(swarm_id)
        node_rows = conn.execute(select(t.nodes.c.id, t.nodes.c.data).where(t.nodes.c.swarm_id == swarm_id)).all()
        chat_rows = conn.execute(select(t.chats.c.id, t.chats.c.data).where(t.chats.c.swarm_id == swarm_id)).all()
        files = committed_files(conn, swarm_id, row.last_seq)
    from ..schemas import ChatSummary, Node

    return SwarmState(
        swarm_id=swarm_id, seq=row.last_seq, status=SwarmStatus(row.status), failure_reason=row.failure_reason,
        root_node_id=row.root_node_id, usage=rows.usage_from_row(row), auto_approve=rows.auto_approve_from_row(row),
        nodes={r.id: Node.model_validate(r.data) for r in _natural(node_rows)},
        chats={r.id: ChatSummary.model_validate(r.data) for r in _natural(chat_rows)},
        memory={f.file.path: f.file for f in files},
    )


def _natural(items: Sequence[Any]) -> list[Any]:
    """Order ids like n.2 before n.10 so dict order matches spawn order (as the fold produces)."""
    def key(r: Any) -> list[Any]:
        return [int(p) if p.isdigit() else p for p in r.id.replace("-", ".").split(".")]
    return sorted(items, key=key)


def history(db: Database, swarm_id: str, after: int = 0, limit: int | None = None) -> SwarmHistory:
    if after < 0:
        raise InvalidInput("after must be >= 0")
    if limit is not None and limit < 1:  # SQLite reads a negative LIMIT as none, PostgreSQL refuses it
        raise InvalidInput("limit must be at least 1")
    with db.read() as conn:
        row = rows.load_swarm_row(conn, swarm_id)
        if row is None:
            raise SwarmNotFound(swarm_id)
        q = (select(t.events).where(t.events.c.swarm_id == swarm_id, t.events.c.seq > after)
             .order_by(t.events.c.seq))
        if limit is not None:
            q = q.limit(limit)
        events = [rows.event_from_row(r) for r in conn.execute(q)]
    return SwarmHistory(swarm_id=swarm_id, events=events, first_seq=row.first_seq, last_seq=row.last_seq)


def _load_snapshot(blobs: BlobStore, key: str) -> SwarmState:
    return SwarmState.model_validate_json(blobs.get(key))


def state_at(db: Database, blobs: BlobStore, swarm_id: str, seq: int, *, snapshot_every: int = 256) -> SwarmState:
    with db.read() as conn:
        row = rows.load_swarm_row(conn, swarm_id)
        if row is None:
            raise SwarmNotFound(swarm_id)
        if seq < 0 or seq > row.last_seq:
            raise InvalidInput(f"seq must be between 0 and {row.last_seq}")
        snap = conn.execute(select(t.snapshots.c.seq, t.snapshots.c.blob_key).where(
            t.snapshots.c.swarm_id == swarm_id, t.snapshots.c.seq <= seq).order_by(t.snapshots.c.seq.desc())
            .limit(1)).first()
        if snap is None and row.first_seq > 1:
            raise HistoryCompacted(seq, row.first_seq)
        owner = row.owner_id
    state = _load_snapshot(blobs, snap.blob_key) if snap else SwarmState(swarm_id=swarm_id)
    new_snapshots: list[SwarmState] = []
    start = state.seq
    page = 2000
    while state.seq < seq:
        with db.read() as conn:
            batch = conn.execute(select(t.events).where(
                t.events.c.swarm_id == swarm_id, t.events.c.seq > state.seq, t.events.c.seq <= seq)
                .order_by(t.events.c.seq).limit(page)).all()
        if not batch:
            break
        for r in batch:
            apply_event(state, rows.event_from_row(r))
            if state.seq % snapshot_every == 0 and state.seq - start >= snapshot_every:
                new_snapshots.append(state.model_copy(deep=True))
    for s in new_snapshots:
        save_snapshot(db, blobs, owner, s)
    return state


def save_snapshot(db: Database, blobs: BlobStore, owner_id: str, state: SwarmState) -> None:
    key = scoped_key(owner_id, state.swarm_id, "snapshots", f"{state.seq}.json")
    blobs.put(key, state.model_dump_json().encode())
    with db.tx() as conn:
        exists = conn.execute(select(func.count()).select_from(t.snapshots).where(
            t.snapshots.c.swarm_id == state.swarm_id, t.snapshots.c.seq == state.seq)).scalar()
        if not exists:
            conn.execute(insert(t.snapshots).values(swarm_id=state.swarm_id, seq=state.seq, blob_key=key))


def compact(db: Database, blobs: BlobStore, swarm_id: str, keep: int) -> int:
    """Keep the newest ``keep`` events; older ones are replaced by a snapshot at the cut. Returns events dropped."""
    if keep < 1:
        raise InvalidInput("keep must be >= 1")
    with db.read() as conn:
        row = rows.load_swarm_row(conn, swarm_id)
        if row is None:
            raise SwarmNotFound(swarm_id)
    cut = row.last_seq - keep
    if cut < row.first_seq:
        return 0
    snap = state_at(db, blobs, swarm_id, cut)
    save_snapshot(db, blobs, row.owner_id, snap)
    with db.tx() as conn:
        _keep_journal_text(conn, swarm_id, cut)
        res = conn.execute(delete(t.events).where(t.events.c.swarm_id == swarm_id, t.events.c.seq <= cut))
        conn.execute(delete(t.snapshots).where(t.snapshots.c.swarm_id == swarm_id, t.snapshots.c.seq < cut))
        conn.execute(update(t.swarms).where(t.swarms.c.id == swarm_id).values(first_seq=cut + 1))
    return int(res.rowcount or 0)


def _keep_journal_text(conn: Any, swarm_id: str, cut: int) -> None:
    """Journal rows whose step, text and time are in their events (migration 0012) get them back before those
    events go: the developer log loses nothing to compaction."""
    bare = conn.execute(select(t.journal.c.id, t.journal.c.seq).where(
        t.journal.c.swarm_id == swarm_id, t.journal.c.text.is_(None), t.journal.c.seq <= cut)).all()
    said = journal_events(conn, swarm_id, [int(r.seq) for r in bare])
    filled = []
    for r in bare:
        ts, data = said.get(r.seq) or (0.0, {"step": "", "text": MISSING})
        filled.append({"row_id": r.id, "new_step": str(data.get("step", "")), "new_text": str(data.get("text", "")),
                       "new_ts": ts})
    if filled:
        conn.execute(update(t.journal).where(t.journal.c.id == bindparam("row_id")).values(
            step=bindparam("new_step"), text=bindparam("new_text"), created_at=bindparam("new_ts")), filled)
