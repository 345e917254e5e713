"""What swarms came to (the root's report, or the reason they failed) and how many chats wait on the person.

Two queries for any number of swarms: one for the root nodes of the completed ones, one counting the chats
awaiting a reply, grouped by swarm. A list asks for previews (`preview_chars`), so its payload stays small
however long the reports are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from sqlalchemy import and_, func, select

from ..schemas import ChatStatus, SwarmStatus
from . import tables as t
from .sql import from_json

_CHUNK = 500  # ids per IN (...), well under every backend's parameter limit


def preview(text: str, chars: int) -> tuple[str, bool]:
    """The beginning of `text`, at most `chars` characters, cut at a word where one is near; and whether cut."""
    flat = " ".join(text.split())
    if len(flat) <= chars:
        return flat, False
    cut = flat[:chars]
    space = cut.rfind(" ")
    if space >= chars * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…", True


class Summarized(Protocol):
    """What the outcome of a swarm is read from: a `Swarm`, or a list item."""

    @property
    def id(self) -> str: ...
    @property
    def status(self) -> SwarmStatus: ...
    @property
    def failure_reason(self) -> str | None: ...
    @property
    def root_node_id(self) -> str | None: ...


class Outcome(NamedTuple):
    outcome: str | None
    outcome_truncated: bool
    waiting_count: int

    def fields(self) -> dict[str, Any]:
        return self._asdict()


def outcomes(conn: Any, swarms: Sequence[Summarized], preview_chars: int | None = None) -> list[Outcome]:
    """The outcome of each of `swarms`, in order. Without `preview_chars` the outcome is whole."""
    ids = [s.id for s in swarms]
    waiting: dict[str, int] = {}
    for k in range(0, len(ids), _CHUNK):
        q = (select(t.chats.c.swarm_id, func.count())
             .where(and_(t.chats.c.swarm_id.in_(ids[k:k + _CHUNK]),
                         t.chats.c.status == ChatStatus.AWAITING_USER.value))
             .group_by(t.chats.c.swarm_id))
        waiting.update({row[0]: int(row[1]) for row in conn.execute(q)})

    reports: dict[str, str] = {}
    done = [s for s in swarms if s.status == SwarmStatus.COMPLETED and s.root_node_id]
    for k in range(0, len(done), _CHUNK):
        roots = {s.id: s.root_node_id for s in done[k:k + _CHUNK]}
        q = (select(t.nodes.c.swarm_id, t.nodes.c.id, t.nodes.c.data)
             .where(and_(t.nodes.c.swarm_id.in_(list(roots)), t.nodes.c.parent_id.is_(None))))
        for swarm_id, node_id, data in conn.execute(q):
            report = from_json(data).get("report") if roots.get(swarm_id) == node_id else None
            if isinstance(report, str) and report.strip():
                reports[swarm_id] = report

    out: list[Outcome] = []
    for s in swarms:
        text = reports.get(s.id) if s.status == SwarmStatus.COMPLETED else s.failure_reason
        truncated = False
        if text and preview_chars is not None:
            text, truncated = preview(text, preview_chars)
        out.append(Outcome(text or None, truncated, waiting.get(s.id, 0)))
    return out
