"""A node's journal and developer log (its model calls, tool calls and step errors) as stored, now or as of a seq.

A call's body is inline in its row or, above ``AGA_SWARM_BLOB_INLINE_BYTES``, in the blob store; its prompt is
stored once by content (``payloads.RequestStore``). A body or prompt lost from the blob store reads as a note
saying so, not as an error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select

from ..schemas import JournalEntry, LLMCall
from . import payloads, rows, sql
from . import tables as t
from .blob_keys import BlobStore
from .database import Database


def node_log(db: Database, blobs: BlobStore, requests: payloads.RequestStore, swarm_id: str, node_id: str,
             at: int | None) -> tuple[list[JournalEntry], list[LLMCall]]:
    """The node's journal lines and calls, all of them or those whose events came at or before seq ``at``."""
    with db.read() as conn:
        journal_q = select(t.journal).where(t.journal.c.swarm_id == swarm_id, t.journal.c.node_id == node_id)
        calls_q = select(t.llm_calls).where(t.llm_calls.c.swarm_id == swarm_id, t.llm_calls.c.node_id == node_id)
        if at is not None:
            # rows from before migration 0003 have no seq: they go by the time of the event at ``at``
            at_ts = conn.execute(select(t.events.c.ts).where(t.events.c.swarm_id == swarm_id,
                                                             t.events.c.seq == at)).scalar()
            before = float("-inf") if at_ts is None else at_ts
            journal_q = journal_q.where(or_(t.journal.c.seq <= at, and_(
                t.journal.c.seq.is_(None), t.journal.c.created_at <= before)))
            calls_q = calls_q.where(or_(t.llm_calls.c.seq <= at, and_(
                t.llm_calls.c.seq.is_(None), t.llm_calls.c.created_at <= before)))
        journal_rows = conn.execute(journal_q.order_by(t.journal.c.id)).all()
        journal = _journal(conn, swarm_id, journal_rows)
        call_rows = conn.execute(calls_q.order_by(t.llm_calls.c.created_at, t.llm_calls.c.id)).all()
    calls: list[LLMCall] = []
    for r in call_rows:
        body = sql.from_json(r.body) or {}
        if r.blob_key:
            try:
                body = json.loads(blobs.get(r.blob_key))
            except KeyError:
                body = {"raw_output": "(log body missing from the blob store)"}
        request = None
        if "request" in body:  # stored once, by key (migration 0006)
            try:
                request = requests.fetch(db, swarm_id, body["request"])
            except KeyError:
                request = {"messages": [{"role": "system", "content": "(prompt missing from the store)"}]}
        calls.append(rows.llm_call_from_row(r, payloads.read_call_body(body, request)))
    return journal, calls


def journal_events(conn: Any, swarm_id: str, seqs: Sequence[int]) -> dict[int, tuple[float, dict[str, Any]]]:
    """The time and data of the journal events at ``seqs``, by seq."""
    said: dict[int, tuple[float, dict[str, Any]]] = {}
    for i in range(0, len(seqs), 500):  # (a bound on a statement's parameters)
        for seq, ts, data in conn.execute(select(t.events.c.seq, t.events.c.ts, t.events.c.data).where(
                t.events.c.swarm_id == swarm_id, t.events.c.seq.in_(seqs[i:i + 500]))):
            said[int(seq)] = (float(ts), sql.from_json(data))
    return said


MISSING = "(journal line missing from the history)"


def _journal(conn: Any, swarm_id: str, journal_rows: Sequence[Any]) -> list[JournalEntry]:
    """The journal's entries; a row without its step and text (migration 0012) has them in its event."""
    said = journal_events(conn, swarm_id, [r.seq for r in journal_rows if r.text is None and r.seq is not None])
    out: list[JournalEntry] = []
    for r in journal_rows:
        if r.text is None:
            ts, data = said.get(r.seq) or (0.0, {"step": "", "text": MISSING})
            out.append(rows.journal_entry(r, str(data.get("step", "")), str(data.get("text", "")), ts))
        else:
            out.append(rows.journal_from_row(r))
    return out
