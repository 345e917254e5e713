"""SwarmTx: the unit of work of one operation.

Every change is an event: ``emit`` appends it and applies the fold to a partial state holding only the
nodes and chats the operation touched; ``flush`` writes events, the changed projection rows, new
operations and the swarm row in the caller's transaction, so all of it commits or none of it does.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime
from operator import itemgetter
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy import Connection

from .. import tracing
from ..schemas import (
    Attachment,
    ChatStatus,
    ChatSummary,
    Continuation,
    EventType,
    Lifecycle,
    MemoryFile,
    Message,
    MessageRole,
    Node,
    OperationKind,
    OperationStatus,
    Swarm,
    SwarmEvent,
    SwarmState,
    SwarmStatus,
    TerminationPolicy,
    Usage,
)
from ..store import packing, rows, sql
from ..store.codec import (
    ChatRow,
    ChatUpdateRow,
    EventRow,
    JournalRow,
    MessageRow,
    NodeDataRow,
    NodeRow,
    NodeUpdateRow,
    RequestRow,
    SwarmSeqRow,
    SwarmUpdateRow,
    iso,
    jsonable_changes,
    new_chat,
    node_json,
    node_json_and_text,
    row_json,
    set_field,
    set_fields,
    trusted,
    trusted_event,
)
from ..store.database import RawConnection
from ..store.payloads import RequestStore
from . import keys, swarmrow
from .errors import ChatNotFound, NodeNotFound, SwarmNotFound
from .fold import (
    USAGE_EVENTS,
    apply_event,
    chat_ids_touched,
    continuation_delta,
    node_ids_touched,
    node_ids_touched_by,
    reserve,
)
from .rowcache import CACHED_ROWS_PER_SWARM, CachedRows, RowCache
from .stats import ModelCallRecord

CHAIN_LEASE_SECONDS = 300.0
# the prefix of the claim tokens this process writes: ``w<id>:`` while it is Procrastinate worker <id>, whose
# heartbeat then tells whether a claim is orphaned (``engine/jobs.py``); empty for lease-based claims
CLAIM_OWNER = ""


def claim_token() -> str:
    """A new claim token (at most 40 characters, the column's size), marked with ``CLAIM_OWNER``."""
    return CLAIM_OWNER + uuid.uuid4().hex[:40 - len(CLAIM_OWNER)] if CLAIM_OWNER else uuid.uuid4().hex


class SwarmTx:
    def __init__(self, conn: Connection | RawConnection, swarm_id: str, now: datetime, *, optimistic: bool = False,
                 cached: CachedRows | None = None) -> None:
        """The swarm row is read and locked (``FOR UPDATE`` on PostgreSQL; SQLite's transactions hold its one
        write lock). ``cached``: what this process's last commit on the swarm left (``RowCache``). SQLite: its
        row is taken as it is, unread, when nothing was written to the database since (``engine/swarmrow.py``).
        ``optimistic`` (a ``RawConnection`` on PostgreSQL): read without a lock, or taken as ``cached.row``, and
        locked and checked before the first write (``sql.send_guards``): a row that changed meanwhile fails the
        transaction, which the caller then runs again (``GroupCommit._group``)."""
        unguarded = getattr(conn, "unguarded", None) if optimistic and conn.dialect.name == "postgresql" else None
        row = cached.row if cached is not None else None
        # SQLite (the writer's connection): read under the write lock, noted with this transaction's writes
        self._data_version = version = swarmrow.data_version(conn) if unguarded is None else None
        if unguarded is None and (row is None or not swarmrow.unchanged(conn, version, cached.stamp)):  # type: ignore[union-attr]
            row = rows.load_swarm_row(conn, swarm_id, for_update=True)
        elif row is None:
            row = rows.load_swarm_row(conn, swarm_id)
        if row is None:
            raise SwarmNotFound(swarm_id)
        self._stamp: swarmrow.Stamp | None = None
        if unguarded is not None:
            unguarded.append((swarm_id, row.last_seq))
        self.conn = conn
        self.swarm_id = str(row.id)
        self.now = now
        self.now_ts = rows.ts(now)  # ``now`` as the float the tables store
        self.row = row  # the swarm row as read under the lock (``swarm`` is built from it when asked)
        self.owner_id = str(row.owner_id)
        self.config_id = str(row.config_id)
        self._swarm: Swarm | None = None
        self.state = trusted(SwarmState, {
            "swarm_id": swarm_id, "seq": row.last_seq, "status": SwarmStatus(row.status),
            "failure_reason": row.failure_reason, "root_node_id": row.root_node_id, "nodes": {}, "chats": {},
            # the usage that commit left, copied (its fields are plain values): the transaction changes it in place
            "usage": trusted(Usage, dict(cached.usage.__dict__)) if cached is not None and cached.usage is not None
            and row is cached.row else rows.usage_from_row(row),
            "memory": {}, "auto_approve": rows.auto_approve_from_row(row)})
        self.events: list[SwarmEvent] = []
        self._new_nodes: set[str] = set()
        self._dirty_nodes: set[str] = set()
        # each loaded node's lifecycle as its row holds it: a row as live (or ended) as it was is written without
        # its ``live`` column, which leaves the (parent, live) index untouched (one page less to commit)
        self._stored_lifecycle: dict[str, str] = {}
        self._new_chats: set[str] = set()
        # the chats of nodes created in this transaction that nothing has read yet, as (node id, title): a new
        # node's chat is idle and empty, so its row is written from these (``_new_chat_json``) and its
        # ``ChatSummary`` made only when asked for (``chat``; a fan-out's children are never asked)
        self._unread_chats: dict[str, tuple[str, str]] = {}
        self._dirty_chats: set[str] = set()
        self._ops: list[dict[str, Any]] = []
        self._messages: list[MessageRow] = []
        self._journal: list[JournalRow] = []
        self._memory_rows: list[dict[str, Any]] = []
        self._requests: list[RequestRow] = []  # llm_requests rows (``store_request``)
        self.memory_keys: dict[str, str] = {}  # blob key of each memory file written in this transaction
        self._flushed_events = 0
        # each node's changes in this transaction not yet made an event (``update_node``): one ``node_updated``
        # per node, emitted at the end (``settle``), in the order of each node's first change
        self._node_changes: dict[str, dict[str, Any]] = {}
        # each such node's continuation before its first change in them: its event carries the new continuation as
        # a delta against it (``fold.continuation_delta``)
        self._node_cont_before: dict[str, Continuation | None] = {}
        # the ``node_spawned`` events of nodes created in this transaction and not written yet: each carries its
        # node as the transaction leaves it, filled in by ``flush`` (``update_node`` makes no other event for it)
        self._spawn_events: dict[str, SwarmEvent] = {}
        self.grouping = False  # set by the executor, which then runs the operations kept back (``take_inline``)
        self.group_budget = 0  # how many kept-back operations the executor may run in this transaction
        self.spawn_budget = 0  # how many kept-back spawns of new nodes it may run besides (``GroupCommit.drain``)
        self.spawn_deadline = 0.0  # ... until this thread CPU time (``time.thread_time``)
        self.chain_node: str | None = None  # the node whose operation leads the transaction (see ``enqueue``)
        self.created_nodes: set[str] = set()
        self.released_nodes: set[str] = set()  # left waiting_deps in this transaction (see ``may_run_inline``)
        # operations kept back to run in this transaction, oldest first (a str: a new node's spawn, ``enqueue_spawn``)
        self.inline: deque[dict[str, Any] | str] = deque()
        # parents under the ``all`` policy with a child-ended notice kept back in ``inline`` and not run yet
        # (``notify_parent``); clearing it is always safe (it only means a notice more)
        self._pending_notices: set[str] = set()
        self._swarm_dirty = False
        self._row_written: dict[str, Any] | None = None  # the swarm row's columns this transaction wrote
        self._usage_dirty = False  # an event of ``fold.USAGE_EVENTS`` changed ``state.usage`` (see ``flush``)
        self._auto_approve_dirty = False  # an ``auto_approve`` event changed ``state.auto_approve``
        self.grouped = 0  # kept-back operations the executor ran after the leading change (``GroupCommit.drain``)
        self.spawns_grouped = 0  # how many of them were spawns counted in ``spawn_budget``
        self.queued_work = False  # whether a queued operation was written (a runner should look)
        self.ran: list[str] = []  # kinds of the operations this transaction ran (counted once it commits)
        self.model_calls: list[ModelCallRecord] = []  # counted once the transaction commits
        self._older_queued: bool | None = None  # whether the chain node has queued operations (None: not asked)
        self._queued_for: set[str] = set()  # nodes this transaction wrote a queued operation row for
        # operations written claimed whose id is read after the commit (``send_claimed``), with the cursor to read
        self.pending_claims: list[tuple[Any, Any]] = []

    # ---- loading -------------------------------------------------------------------------------
    @classmethod
    def from_cache(cls, rows: RowCache, conn: Any, swarm_id: str, at: datetime, *,
                   optimistic: bool = False) -> SwarmTx:
        """A transaction that starts from what the last committed one on this swarm left in ``rows`` (its
        swarm row, when still current, and its nodes and chats at this swarm's sequence number); ``leave_to``
        hands on what this one leaves once it has committed."""
        cached = rows.take(swarm_id)
        tx = cls(conn, swarm_id, at, optimistic=optimistic, cached=cached)
        if cached is not None and cached.seq == tx.state.seq:
            tx.adopt(cached)
        return tx

    def leave_to(self, rows: RowCache) -> None:
        """After the commit: keep this transaction's nodes, chats and swarm row for the next one on its swarm."""
        rows.remember_owner(self.swarm_id, self.owner_id, self.config_id)
        rows.keep(self.swarm_id, self.cacheable(CACHED_ROWS_PER_SWARM))

    def adopt(self, cached: CachedRows) -> None:
        """Take the nodes and chats a committed transaction left at this swarm's current sequence number
        (``RowCache`` keeps them), so they are not read and parsed again."""
        self.state.nodes.update(cached.nodes)
        self.state.chats.update(cached.chats)
        for node_id, node in cached.nodes.items():
            self._stored_lifecycle[node_id] = node.lifecycle.value

    def cacheable(self, max_nodes: int) -> CachedRows | None:
        """What this transaction leaves for the next one on the same swarm, once it has committed: its nodes
        and chats, and the swarm row as the commit left it (when read as a plain row: ``sql.fetch``)."""
        nodes, chats = self.state.nodes, self.state.chats
        if len(nodes) > max_nodes or len(chats) + len(self._unread_chats) > max_nodes:
            return None
        for chat_id in list(self._unread_chats):
            self.chat(chat_id)
        row = self.row
        if type(row) is not SimpleNamespace:
            row = None
        elif self._row_written:
            row = SimpleNamespace(**{**vars(row), **self._row_written})
        return CachedRows(self.state.seq, dict(nodes), dict(chats), row, self._stamp,
                          self.state.usage if row is not None else None)

    @property
    def swarm(self) -> Swarm:
        """The swarm as it was when this transaction began (see ``state`` for its status now)."""
        if self._swarm is None:
            self._swarm = rows.swarm_from_row(self.row)
        return self._swarm

    def node(self, node_id: str) -> Node:
        node = self.state.nodes.get(node_id)
        if node is None:
            node = rows.load_node(self.conn, self.swarm_id, node_id)
            if node is None:
                raise NodeNotFound(node_id)
            self.state.nodes[node_id] = node
            self._stored_lifecycle[node_id] = node.lifecycle.value
        return node

    def children(self, parent: Node) -> list[Node]:
        """All children of ``parent``, loaded in one query (in-transaction changes take precedence)."""
        missing = [c for c in parent.children if c not in self.state.nodes]
        if missing:
            for row in sql.fetch(self.conn, sql.CHILD_NODES, {"sid": self.swarm_id, "pid": parent.id}):
                if row.id not in self.state.nodes:
                    child = self.state.nodes[row.id] = rows.node_from_data(row.data)
                    self._stored_lifecycle[row.id] = child.lifecycle.value
        return [self.node(c) for c in parent.children]

    def has_live_children(self, parent: Node) -> bool:
        """Whether a child has not ended: from the nodes at hand when this transaction holds every child (a
        fan-out's, made in it), else asked of the index rather than by loading every child."""
        nodes = self.state.nodes
        children = parent.children
        if all(c in nodes for c in children):  # as this transaction left them: what a flush would write
            return any(nodes[c].lifecycle._value_ in _LIVE for c in children)
        self.flush(swarm_row=False)
        return sql.fetch_one(self.conn, sql.ANY_LIVE_CHILD, {"sid": self.swarm_id, "pid": parent.id}) is not None

    def chat(self, chat_id: str) -> ChatSummary:
        chat = self.state.chats.get(chat_id)
        if chat is None and self._unread_chats:
            unread = self._unread_chats.pop(chat_id, None)
            if unread is not None:
                chat = self.state.chats[chat_id] = new_chat(chat_id, *unread)
        if chat is None:
            chat = rows.load_chat(self.conn, self.swarm_id, chat_id)
            if chat is None:
                raise ChatNotFound(chat_id)
            self.state.chats[chat_id] = chat
        return chat

    # ---- events --------------------------------------------------------------------------------
    def emit(self, type_: EventType, node_id: str | None, data: dict[str, Any], *,
             applied: bool = False) -> SwarmEvent:
        """Append an event and apply it to the partial state (``applied``: the caller already changed the
        state exactly as the fold would, see ``update_node``)."""
        if self._node_changes and not applied:  # a node the fold of this event touches: its changes go first
            for nid in node_ids_touched_by(type_, data):
                if nid in self._node_changes:
                    self.settle(nid)
        event = trusted_event(self.swarm_id, self.state.seq + 1, self.now, type_, node_id, data)
        if applied:
            set_field(self.state, "seq", event.seq)  # an int, as declared: no need for pydantic's setattr
        else:
            for nid in node_ids_touched(event):
                self.node(nid)
                self._dirty_nodes.add(nid)
            for cid in chat_ids_touched(event):
                self.chat(cid)
                self._dirty_chats.add(cid)
            apply_event(self.state, event)
        if type_ in USAGE_EVENTS:
            self._usage_dirty = True
        elif type_ is _AUTO_APPROVE:
            self._auto_approve_dirty = True
        if type_ is _NODE_SPAWNED:
            node_id_new = data["node"]["id"]
            self._new_nodes.add(node_id_new)
            self.created_nodes.add(node_id_new)
            self._new_chats.add(data["node"]["chat_id"])
        self.events.append(event)
        return event

    def spawned(self, node: Node) -> SwarmEvent:
        """Emit ``node_spawned`` for ``node``, a new node the caller built (and pydantic validated), applying
        the fold's rule for it with the typed node at hand rather than validating its JSON again (a
        fan-out's children are made here by the thousand; ``tests/engine/test_fold.py`` checks the
        outcome equals the fold's)."""
        state = self.state
        fields = node.__dict__  # (a pydantic model's attributes are read on a slow path)
        node_id, parent_id, chat_id = fields["id"], fields["parent_id"], fields["chat_id"]
        if parent_id is not None:
            if parent_id in self._node_changes:  # as in ``emit``
                self.settle(parent_id)
            self.node(parent_id).children.append(node_id)
            self._dirty_nodes.add(parent_id)
        else:
            state.root_node_id = node_id
        state.nodes[node_id] = node
        self._unread_chats[chat_id] = (node_id, fields["title"])
        usage = state.usage.__dict__
        usage["nodes"] += 1  # an int, as declared
        self._new_nodes.add(node_id)
        self.created_nodes.add(node_id)
        self._new_chats.add(chat_id)
        event = trusted_event(self.swarm_id, state.seq + 1, self.now, _NODE_SPAWNED, node_id, {})
        set_field(state, "seq", event.seq)
        self._usage_dirty = True
        self.events.append(event)
        self._spawn_events[node_id] = event  # its node is filled in by ``flush``, as the transaction leaves it
        return event

    def _spawn_written(self, node_id: str, *, flushing: bool = False) -> str | None:
        """Fill in the ``node_spawned`` event of ``node_id`` (created in this transaction) with the node as it is
        now; its later changes are ``node_updated`` events. Its children are its own spawn events' to add.
        ``flushing``: the node is written now, so a childless one's JSON is made once, for its row and its event,
        and returned (else None)."""
        event = self._spawn_events.pop(node_id)
        node = self.state.nodes[node_id]
        text = None
        if flushing and not node.children:
            data, text = node_json_and_text(node)
        else:
            data = node_json(node)
            if data["children"]:
                data["children"] = []
        event.data["node"] = data
        chat_id = node.chat_id
        unread = self._unread_chats.get(chat_id)
        if unread is not None:  # the fold names the chat after the node it spawns
            if unread[1] != node.title:
                self._unread_chats[chat_id] = (node_id, node.title)
        else:
            chat = self.state.chats.get(chat_id)
            if chat is not None and chat.title != node.title:
                set_field(chat, "title", node.title)
        return text

    def update_node(self, node_id: str, **changes: Any) -> Node:
        """Change a node now; its ``node_updated`` event is emitted by ``settle``, one per node for all its changes
        in the transaction (later values win). A transaction is atomic, so nothing but its end state is ever
        stored or seen; one event per node keeps the history shorter. The fold of the merged event is the fold of
        the separate ones: each change sets a whole field, and the reservation a continuation holds is released
        and taken by its old and its new value either way."""
        node = self.node(node_id)
        if node_id in self._spawn_events:  # created in this transaction: its ``node_spawned`` carries the change
            return self._change_new_node(node, changes)
        jsonable = jsonable_changes(changes)
        pending = self._node_changes.get(node_id)
        if pending is None:
            self._node_changes[node_id] = jsonable
        else:
            pending.update(jsonable)
        swapped = "continuation" in changes
        if swapped and node_id not in self._node_cont_before:
            self._node_cont_before[node_id] = node.continuation
        if swapped and reserve(self.state.usage, node.continuation, -1):  # as the fold does
            self._usage_dirty = True
        # what apply_event does with the event's JSON, but with the typed values at hand (no re-validation)
        set_fields(node, changes, jsonable, _TYPED_CHANGES)
        set_field(node, "updated_at", self.now)
        self._dirty_nodes.add(node_id)
        if swapped and reserve(self.state.usage, node.continuation, 1):
            self._usage_dirty = True
        return node

    def _change_new_node(self, node: Node, changes: dict[str, Any]) -> Node:
        """``update_node`` for a node whose ``node_spawned`` event is not written yet (``_spawn_events``)."""
        usage = self.state.usage
        fields = node.__dict__
        swapped = "continuation" in changes
        if swapped and fields["continuation"] is not None and reserve(usage, fields["continuation"], -1):
            self._usage_dirty = True
        for key, value in changes.items():
            kind = _TYPED_CHANGES.get(key)
            if kind is not None and isinstance(value, kind):
                fields[key] = value
            else:  # validated, as the fold of its JSON would set it
                setattr(node, key, jsonable_changes({key: value})[key])
                fields = node.__dict__
        fields["updated_at"] = self.now
        if swapped and node.__dict__["continuation"] is not None and reserve(usage, node.continuation, 1):
            self._usage_dirty = True
        return node

    def settle(self, node_id: str | None = None) -> None:
        """Emit the ``node_updated`` event of the changes ``update_node`` made (of ``node_id``'s, or of every node's
        in the order of their first change). ``flush`` settles first; so does a leader of a batch before its
        events are taken (``GroupCommit._run_batch``)."""
        pending = self._node_changes
        if node_id is not None:
            self.emit(_NODE_UPDATED, node_id, {"changes": self._delta(node_id, pending.pop(node_id))}, applied=True)
            return
        while pending:
            nid = next(iter(pending))
            self.emit(_NODE_UPDATED, nid, {"changes": self._delta(nid, pending.pop(nid))}, applied=True)

    def _delta(self, node_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """A node's changes as its event carries them: a new continuation as ``continuation_delta``, what differs
        from the node's continuation before them (``fold.continuation_from_delta`` gives it back); none is
        ``continuation: null``."""
        if "continuation" not in changes:
            return changes
        before = self._node_cont_before.pop(node_id)  # recorded by ``update_node`` with the change
        new = changes["continuation"]
        if new is None:
            return changes
        del changes["continuation"]  # (the transaction's own dict, taken out of ``_node_changes``)
        changes["continuation_delta"] = continuation_delta(before, node_id, new, iso(self.now))
        return changes

    def continuation_token(self, node_id: str) -> str:
        """The token of a continuation ``node_id`` writes now (``keys.continuation_token``): it names the seq the
        transaction's next event takes. Tokens of a node are unique because an event comes between two of its
        continuations; with the node's change events deferred (``update_node``) none may have: when the node's
        current continuation holds that very token, its change event is emitted now, at the seq its token
        names, and the new token names the next."""
        token = keys.continuation_token(node_id, self.state.seq)
        node = self.state.nodes.get(node_id)
        cont = node.continuation if node is not None else None
        if cont is not None and cont.token == token:
            if node_id in self._spawn_events:  # its spawn event holds this continuation; the next event moves on
                self._spawn_written(node_id)
            if node_id in self._node_changes:
                self.settle(node_id)
            else:  # cannot happen (its continuation was written by a change), but a token must never repeat
                self.emit(_NODE_UPDATED, node_id, {"changes": jsonable_changes({"continuation": cont})},
                          applied=True)
            token = keys.continuation_token(node_id, self.state.seq)
        return token

    def update_chat(self, chat_id: str, **changes: Any) -> ChatSummary:
        chat = self.chat(chat_id)
        jsonable = jsonable_changes(changes)
        self.emit(EventType.CHAT_UPDATED, None, {"chat_id": chat_id, "changes": jsonable}, applied=True)
        set_fields(chat, changes, jsonable, _TYPED_CHAT_CHANGES)  # as in update_node
        self._dirty_chats.add(chat_id)
        return chat

    def set_status(self, status: SwarmStatus, reason: str | None = None) -> None:
        self.emit(EventType.SWARM_STATUS, None, {"status": status.value, "reason": reason})

    def add_usage(self, **delta: int) -> None:
        self.emit(EventType.USAGE, None, {"delta": delta})

    def post_message(self, chat_id: str, role: MessageRole, content: str, *, reply_to: str | None = None,
                     attachments: Sequence[Attachment] = ()) -> Message:
        chat = self.chat(chat_id)
        index = chat.message_count
        fields = {"id": f"{chat_id}.m{index}", "chat_id": chat_id, "index": index, "role": role, "content": content,
                  "attachments": list(attachments), "reply_to": reply_to, "created_at": self.now}
        plain = type(content) is str and not attachments and type(role) is MessageRole
        msg = trusted(Message, fields) if plain else Message(**fields)
        files = [a.model_dump(mode="json") for a in msg.attachments]
        self._messages.append(MessageRow(self.swarm_id, msg.id, chat_id, index, role.value, content, reply_to,
                                         sql.to_json(files), self.now_ts))
        # msg.model_dump(mode="json"), written out: every field is plain already
        self.emit(EventType.MESSAGE_POSTED, chat.node_id, {"message": {
            "id": msg.id, "chat_id": chat_id, "index": index, "role": role.value, "content": content,
            "attachments": files, "reply_to": reply_to, "created_at": iso(self.now)}})
        return msg

    def journal(self, node_id: str, step: str, text: str) -> None:
        # the row names its event (below), which holds the step, text and time (migration 0012: not stored twice)
        self._journal.append(JournalRow(self.swarm_id, node_id, None, None, None, self.state.seq + 1))
        self.emit(EventType.JOURNAL, node_id, {"step": step, "text": text})

    def write_memory(self, path: str, *, title: str, size: int, content_type: str, node_id: str | None,
                     blob_key: str) -> MemoryFile:
        """Record a new version of a memory-space file whose bytes are already at ``blob_key``."""
        event = self.emit(EventType.MEMORY_WRITTEN, node_id, {
            "path": path, "title": title, "size": size, "content_type": content_type, "node_id": node_id})
        self._memory_rows.append({"swarm_id": self.swarm_id, "path": path, "seq": event.seq, "title": title,
                                  "size": size, "content_type": content_type, "node_id": node_id,
                                  "blob_key": blob_key, "created_at": self.now_ts})
        self.memory_keys[path] = blob_key
        return self.state.memory[path]

    # ---- operations ----------------------------------------------------------------------------
    def packed(self, text: str) -> Any:
        """A developer-log body as this transaction writes it: packed on SQLite with AGA_SWARM_ROW_COMPRESS_BYTES
        (store/packing.py, ``Packer.log``), else the text itself."""
        pack = getattr(self.conn, "pack", None)
        return text if pack is None else pack.log(text)

    def store_request(self, requests: RequestStore, request: dict[str, Any],
                      extends: tuple[str, int] | None = None) -> str:
        """Store a model request once, by content (written with this transaction; ``extends``: as a delta over a
        stored one, ``RequestStore.row_for``); returns its key."""
        key, row = requests.row_for(self.owner_id, self.swarm_id, request, extends)
        self._requests.append(row)
        return key

    def enqueue(self, kind: OperationKind, node_id: str, idem_key: str, payload: dict[str, Any] | None = None,
                *, not_before: float = 0.0) -> None:
        """Queue an operation; held instead while the swarm is not running. Duplicate keys are ignored."""
        running = self.state.status is _SWARM_RUNNING
        status = _QUEUED if running else _HELD
        if tracing.ON:  # the operation's span will be the child of the code queuing it (tracing.py)
            payload = tracing.with_trace(payload or {})
        row = {"swarm_id": self.swarm_id, "node_id": node_id, "kind": kind._value_, "status": status,
               "payload": payload or {}, "attempts": 0, "idem_key": idem_key, "not_before": not_before,
               "claim": None, "lease_until": None, "created_at": self.now_ts}
        if running and not not_before and self.may_run_inline(node_id):
            # the executor runs it in this transaction (see ``take_inline``); its payload stays a dict
            # unless the row is written after all (``_written``)
            self.inline.append(row)
            return
        self._ops.append(_written(row))
        if running:
            self._queued_for.add(node_id)

    def enqueue_spawn(self, node_id: str) -> None:
        """``enqueue`` the ``spawn`` operation of ``node_id``, a node just created in this transaction: when it runs
        here it is kept back as the node's id alone (a fan-out keeps back thousands), its row made only if it is
        written after all (``spawn_row``)."""
        if self.grouping and not tracing.ON and self.state.status is _SWARM_RUNNING:
            self.inline.append(node_id)  # may_run_inline: a node created in this transaction
        else:
            self.enqueue(_SPAWN_KIND, node_id, keys.spawn_key(node_id))

    def spawn_row(self, node_id: str) -> dict[str, Any]:
        """The row of a spawn kept back as its node's id (``enqueue_spawn``), as ``enqueue`` makes it."""
        return {"swarm_id": self.swarm_id, "node_id": node_id, "kind": _SPAWN_KIND._value_, "status": _QUEUED,
                "payload": {}, "attempts": 0, "idem_key": keys.spawn_key(node_id), "not_before": 0.0, "claim": None,
                "lease_until": None, "created_at": self.now_ts}

    # ---- commit --------------------------------------------------------------------------------
    def flush(self, *, swarm_row: bool = True) -> None:
        """Write what changed since the last flush (the transaction commits later, all at once); the swarm
        row (last seq, status, usage) too unless ``swarm_row`` is false (a flush in mid-transaction)."""
        conn, sid, now_ts = self.conn, self.swarm_id, self.now_ts
        out = sql.Writes(conn)  # one statement on PostgreSQL; every event of this transaction has its now
        if self._node_changes:
            self.settle()
        # SQLite with AGA_SWARM_ROW_COMPRESS_BYTES: JSON values packed (store/packing.py); else the text itself
        pack: Callable[[str], Any] = getattr(conn, "pack", None) or _same
        nodes = self.state.nodes
        stored = self._stored_lifecycle
        node_rows: list[NodeRow] = []  # of the nodes created in this transaction
        spawned: dict[str, Any] = {}  # a childless new node's node_spawned event's value: its row's, packed once
        if self._spawn_events:
            both = getattr(pack, "spawned", packing.plain_spawned)
            for node_id in list(self._spawn_events):
                text = self._spawn_written(node_id, flushing=True)
                if text is not None:
                    n = nodes[node_id]
                    value, spawned[node_id] = both(text)
                    lifecycle = stored[node_id] = n.lifecycle._value_
                    node_rows.append(_row(NodeRow, (sid, node_id, n.parent_id, lifecycle, int(lifecycle in _LIVE),
                                                    value)))
        new_events = self.events[self._flushed_events:]
        if new_events:
            typed = _same if pack is _same else packing.short_type  # and event types as one-letter codes
            data: Callable[[str, str], Any] = getattr(pack, "event", packing.plain_event)
            event_rows: list[EventRow] = []
            for e in new_events:
                f = e.__dict__  # (a pydantic model's attributes are read on a slow path)
                kind, node_id = f["type"], f["node_id"]
                value = spawned.get(node_id) if kind is _NODE_SPAWNED else None
                if value is None:
                    value = data(kind._value_, sql.to_json(f["data"]))
                # tuple.__new__: a NamedTuple's own __new__ is Python code
                event_rows.append(_row(EventRow, (sid, f["seq"], now_ts, typed(kind._value_), node_id, value)))
            out.rows(sql.INSERT_EVENT, event_rows)
        if self._new_nodes:
            for i in self._new_nodes:
                if i not in spawned:  # a new node with children (or created by ``emit``)
                    n = nodes[i]
                    lifecycle = stored[i] = n.lifecycle._value_
                    node_rows.append(_row(NodeRow, (sid, i, n.parent_id, lifecycle, int(lifecycle in _LIVE),
                                                    pack(row_json(n)))))
            node_rows.sort(key=_row_id)  # in id order, as the index
            out.rows(sql.INSERT_NODE, node_rows)
        changed = self._dirty_nodes - self._new_nodes
        if changed:
            moved: list[NodeUpdateRow] = []
            kept: list[NodeDataRow] = []
            for i in sorted(changed):
                n = nodes[i]
                lifecycle = n.lifecycle._value_
                live = lifecycle in _LIVE
                was = stored.get(i)
                if was is not None and (was in _LIVE) == live:  # the parent index's entry stays as it is
                    kept.append(NodeDataRow(lifecycle, pack(row_json(n)), sid, i))
                else:
                    moved.append(NodeUpdateRow(lifecycle, int(live), pack(row_json(n)), sid, i))
                stored[i] = lifecycle
            if moved:
                out.rows(sql.UPDATE_NODE, moved)
            if kept:
                out.rows(sql.UPDATE_NODE_DATA, kept)
        chats = self.state.chats
        if self._new_chats:
            unread = self._unread_chats
            out.rows(sql.INSERT_CHAT, [
                _row(ChatRow, (sid, i, unread[i][0], _IDLE, pack(_new_chat_json(i, *unread[i])))) if i in unread else
                _row(ChatRow, (sid, i, chats[i].node_id, chats[i].status._value_, pack(row_json(chats[i]))))
                for i in sorted(self._new_chats)])
        changed = self._dirty_chats - self._new_chats
        if changed:
            out.rows(sql.UPDATE_CHAT, [
                ChatUpdateRow(c.status.value, pack(row_json(c)), sid, c.id)
                for c in (chats[i] for i in sorted(changed))])
        if self._messages:
            out.rows(sql.INSERT_MESSAGE, self._messages)
        if self._journal:
            out.rows(sql.INSERT_JOURNAL, self._journal)
        if self._memory_rows:
            sql.run_many(conn, sql.INSERT_MEMORY_FILE, self._memory_rows)
        if self._requests:
            out.rows(sql.INSERT_LLM_REQUEST, self._requests if pack is _same else [
                r._replace(body=pack(r.body)) if r.body is not None else r for r in self._requests])
        if self._ops:
            sql.run_many(conn, sql.INSERT_OPERATION, self._ops)
            self.queued_work = self.queued_work or any(
                r["status"] == _QUEUED for r in self._ops)
        if new_events:
            self._flushed_events = len(self.events)
            self._swarm_dirty = True
        if swarm_row and self._swarm_dirty:
            self._swarm_dirty = False
            st = self.state
            written = self._row_written
            if written is None:
                written = self._row_written = {}
            written.update(last_seq=st.seq, status=st.status._value_, failure_reason=st.failure_reason,
                           root_node_id=st.root_node_id, updated_at=now_ts)
            if self._usage_dirty:  # most transactions leave it alone: no need to write it back
                self._usage_dirty = False
                usage = written["usage"] = st.usage.model_dump_json()
                out.rows(sql.UPDATE_SWARM, [SwarmUpdateRow(
                    st.seq, st.status.value, st.failure_reason, st.root_node_id, now_ts, usage, sid)])
            else:
                out.rows(sql.UPDATE_SWARM_SEQ, [SwarmSeqRow(
                    st.seq, st.status.value, st.failure_reason, st.root_node_id, now_ts, sid)])
            out.send()
            if self._auto_approve_dirty:  # the person's switch, rarely flipped: a statement of its own
                self._auto_approve_dirty = False
                tools = written["auto_approve"] = sql.to_json(st.auto_approve)
                sql.run(conn, sql.UPDATE_SWARM_AUTO_APPROVE, {"tools": tools, "id": sid})
        out.send()
        self._new_nodes.clear()
        self._dirty_nodes.clear()
        self._new_chats.clear()
        self._dirty_chats.clear()
        self._ops.clear()
        self._messages.clear()
        self._journal.clear()
        self._memory_rows.clear()
        self._requests.clear()
        if self._data_version is not None:  # after the last write: what the next transaction compares
            self._stamp = swarmrow.stamp(conn, self._data_version)

    def lead(self, node_id: str | None) -> None:
        """Start a leading operation (or change) in this ``SwarmTx``, one of several in a batch
        (``GroupCommit._run_batch``): ``node_id``'s operations queued from now on may run inline."""
        self.chain_node = node_id
        self._older_queued = None

    def may_run_inline(self, node_id: str) -> bool:
        """Whether an operation queued now for ``node_id`` may run later in this same transaction: when it is
        for the node whose operation leads the transaction (``chain_node``) and no older operation of that
        node waits in the queue, or for a node created in this transaction (nobody else can know it yet) or
        released from ``waiting_deps`` in it (a waiting node has no operation anywhere). Every later
        operation of such a node is kept back too, in order, so per-node order holds."""
        if not self.grouping:
            return False
        if node_id in self.created_nodes or node_id in self.released_nodes:
            return True
        if node_id != self.chain_node:
            return False
        if self._older_queued is None and node_id not in self._queued_for:
            # a node without children has nothing else queued while one of its operations runs (its own
            # operations chain one after another; only children add notices): no need to ask the queue. Nor
            # has one whose children were all made in this transaction (a fan-out): they had no notice to send
            # before it, and whatever it wrote queued for the node is in ``_queued_for``
            children = self.node(node_id).children
            if not children or all(c in self.created_nodes for c in children):
                self._older_queued = False
        if self._older_queued is None:
            older = sql.fetch_one(self.conn, sql.NODE_HAS_QUEUED, {"sid": self.swarm_id, "nid": node_id})
            self._older_queued = bool(older.n)
        return not self._older_queued

    def none_queued(self, node_id: str) -> bool:
        """Whether ``node_id`` is known to have no queued operation row: it leads this transaction, none was
        queued when that was first asked (``may_run_inline``), and the transaction wrote none for it since."""
        return node_id == self.chain_node and self._older_queued is False and node_id not in self._queued_for

    def take_inline(self) -> dict[str, Any] | str | None:
        """The oldest operation kept back by ``enqueue`` (never written), or None; a str is the spawn of that node
        (``enqueue_spawn``)."""
        if not self.inline:
            return None
        row = self.inline.popleft()
        if not isinstance(row, str) and row["kind"] == _TERMINATE:
            self._pending_notices.discard(row["node_id"])
        return row

    def absorb_inline(self, kind: OperationKind, node_id: str) -> None:
        """Drop kept-back operations of ``kind`` for ``node_id`` (see ``sql.ABSORB_TERMINATES``)."""
        self.inline = deque(r for r in self.inline if _inline_of(r) != (kind._value_, node_id))
        if kind is OperationKind.TERMINATE:
            self._pending_notices.discard(node_id)

    def drop_inline(self, node_ids: set[str] | None = None) -> None:
        """Drop the kept-back operations of ``node_ids`` (of every node when None)."""
        if node_ids is None:
            self.inline.clear()
        else:
            self.inline = deque(r for r in self.inline if _inline_of(r)[1] not in node_ids)
        self._pending_notices.clear()

    def notify_parent(self, child: Node) -> None:
        """Queue the notice that ``child`` ended to its parent. Under the ``all`` policy a notice only asks
        whether every child has ended, and the first one to run answers for all of them (``dispatch._terminate``
        absorbs the rest): so while one for the same parent is still kept back in this transaction (it runs
        after this child's end), no second one is made. A fan-out's K children then leave one notice, not K."""
        parent_id = child.parent_id
        assert parent_id is not None
        if parent_id in self._pending_notices:
            return
        self.enqueue(OperationKind.TERMINATE, parent_id, keys.attempt_key("terminate", child),
                     {"child_id": child.id})
        inline = self.inline
        if (inline and _inline_of(inline[-1]) == (_TERMINATE, parent_id)
                and self.node(parent_id).termination_policy == TerminationPolicy.ALL):
            self._pending_notices.add(parent_id)

    def enqueue_row(self, row: dict[str, Any]) -> None:
        """Write ``row`` (taken with ``take_inline``) as queued for any worker."""
        sql.send(self.conn, sql.INSERT_OPERATION, _written(row))
        self._queued_for.add(row["node_id"])
        self.queued_work = True

    def insert_claimed(self, row: dict[str, Any]) -> int | None:
        """Write ``row`` as claimed by this worker; its id, or None when its key already exists."""
        row.update(status=OperationStatus.RUNNING.value, claim=claim_token(), attempts=1,
                   lease_until=self.now_ts + CHAIN_LEASE_SECONDS)
        found = sql.write_returning(self.conn, sql.INSERT_OPERATION_RETURNING, _written(dict(row)))
        return None if found is None else int(found.id)

    def send_claimed(self, row: dict[str, Any]) -> Any:
        """``insert_claimed`` in a pipelined PostgreSQL transaction, without waiting for the id: the statement
        goes out on a cursor of its own, whose row (the id, or none when the key already exists) is read once
        the transaction has committed (``sql.returned``)."""
        row.update(status=OperationStatus.RUNNING.value, claim=claim_token(), attempts=1,
                   lease_until=self.now_ts + CHAIN_LEASE_SECONDS)
        return sql.send_returning(self.conn, sql.INSERT_OPERATION_RETURNING, _written(dict(row)))

    @property
    def usage(self) -> Usage:
        return self.state.usage


# Enum members read on the hot path, as module constants: on Python 3.11 ``EnumType`` defines ``__getattr__``,
# which puts every ``Kind.MEMBER`` read on a slow path (~0.2 µs; ``member.value`` is a descriptor written in
# Python, hence ``_value_``), and a fan-out reads a dozen per child (bench/RESULTS.md, "Fan-out, third pass").
_TERMINATE = OperationKind.TERMINATE.value
_QUEUED, _HELD = OperationStatus.QUEUED.value, OperationStatus.HELD.value
_SPAWN_KIND = OperationKind.SPAWN


def _inline_of(row: dict[str, Any] | str) -> tuple[str, str]:
    """A kept-back operation's kind and node (``SwarmTx.inline``)."""
    return (_SPAWN_KIND._value_, row) if isinstance(row, str) else (row["kind"], row["node_id"])


def _same(text: str) -> str:
    return text


_row = tuple.__new__  # a row NamedTuple from a tuple, without its Python-level __new__ (a fan-out writes ~4 per child)
_row_id = itemgetter(1)  # a node row's id
_SWARM_RUNNING = SwarmStatus.RUNNING
_NODE_SPAWNED, _NODE_UPDATED = EventType.NODE_SPAWNED, EventType.NODE_UPDATED
_AUTO_APPROVE = EventType.AUTO_APPROVE
_LIVE = frozenset(sql.LIVE_LIFECYCLES)  # a child in one of these has not ended (``sql.ANY_LIVE_CHILD``)


# node fields whose typed value ``update_node`` may set directly: it serialises to exactly what the fold,
# validating the event's JSON, would set
_TYPED_CHANGES: dict[str, type | tuple[type, ...]] = {
    "lifecycle": Lifecycle, "continuation": (Continuation, type(None)), "report": (str, type(None)),
    "failure_reason": (str, type(None)), "replans": int, "title": str, "attempt": int,
}


_TYPED_CHAT_CHANGES: dict[str, type | tuple[type, ...]] = {
    "status": ChatStatus, "awaiting_since": (datetime, type(None)), "followups": int,
}


_IDLE = ChatStatus.IDLE.value


def _new_chat_json(chat_id: str, node_id: str, title: str) -> str:
    """``row_json(new_chat(chat_id, node_id, title))``, without the ``ChatSummary`` (``tests/engine/test_fold.py``
    checks the parity)."""
    return orjson.dumps({"id": chat_id, "node_id": node_id, "title": title, "status": _IDLE, "message_count": 0,
                         "last_message": None, "last_role": None, "awaiting_since": None, "followups": 0}).decode()


def _written(row: dict[str, Any]) -> dict[str, Any]:
    """An operation row as the table takes it: its payload as JSON text (kept-back rows hold the dict)."""
    payload = row["payload"]
    if not isinstance(payload, str):
        row["payload"] = sql.to_json(payload)
    return row
