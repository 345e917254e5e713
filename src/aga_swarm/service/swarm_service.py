"""``SwarmService``, the Python API: everything a server, the CLI or a notebook does with swarms goes through here.

Every method that names a swarm takes an optional ``owner_id``; when given, a swarm owned by someone
else is reported as not found, exactly like a missing one.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..actions.catalog import approval_policy, describe_space, tool_ids
from ..actions.tools import pending_approval
from ..engine import attachments as att
from ..engine import history as hist
from ..engine import memory as mem
from ..engine import resume as resuming
from ..engine import steer
from ..engine.attachments import AttachmentLimits
from ..engine.context import spawn_node
from ..engine.engine import Engine
from ..engine.errors import (
    ChatNotAwaiting,
    ChatNotFound,
    Conflict,
    FileTooLarge,
    InvalidInput,
    InvalidTransition,
    MemoryFileNotFound,
    NodeNotFound,
    SwarmNotFound,
)
from ..engine.runner import Runner
from ..engine.sizes import human_size
from ..engine.tx import SwarmTx
from ..llm.prices import UnknownPrice, require_price
from ..schemas import (
    Attachment,
    ChatStatus,
    ChatSummary,
    EventType,
    JournalEntry,
    Lifecycle,
    MemoryFile,
    MemoryListing,
    Message,
    Node,
    NodeDetail,
    OperationStatus,
    Swarm,
    SwarmActionSpace,
    SwarmConfig,
    SwarmEvent,
    SwarmHistory,
    SwarmPage,
    SwarmState,
    SwarmStatus,
    SwarmSummary,
)
from ..sdk import Registry
from ..store import chats, configs, devlog, forks, outcomes, rows, sql, swarms, usage
from ..store import tables as t
from ..store.blob import BlobStore, swarm_prefix
from .cursor import decode_cursor, encode_cursor
from .quota import StoredBytes
from .text import clean_text


def _attaching(tx: SwarmTx, blobs: BlobStore, put: list[att.Checked], attach: Sequence[str]
               ) -> Callable[[], list[Attachment]]:
    """Records the person's checked files (bytes already put) and cites ``attach`` paths, in ``tx``."""
    def files() -> list[Attachment]:
        if not put and not attach:
            return []
        return att.record(tx, put) + att.cite(mem.MemoryAccess(tx, blobs, None), attach)
    return files


GOAL_PREVIEW_CHARS = 200
OUTCOME_PREVIEW_CHARS = 280  # list items carry only the beginning of an outcome
TOOL_ID = re.compile(r"\*|[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){1,3}")
AUTO_APPROVED = "yes (approved automatically: auto-approve is on for this tool in this swarm)"


@dataclass(frozen=True)
class OwnerUsage:
    swarms: int
    running: int
    forks: int
    stored_bytes: int


def _require_price(config: SwarmConfig) -> None:
    """Refuse a config whose model has no known price and which gives none: its spend would count as $0."""
    try:
        require_price(config.llm, config.id)
    except UnknownPrice as exc:
        raise InvalidInput(str(exc)) from None


class SwarmService:
    def __init__(self, engine: Engine | None = None, *, data_dir: Path | str | None = None,
                 db_url: str | None = None, blob_url: str | None = None, registry: Registry | None = None,
                 concurrency: int = 32, stall_seconds: float | None = None,
                 storage_quota: int | None = None) -> None:
        """Without an ``engine``, open the store the CLI and the server would: ``db_url`` and ``blob_url``
        default to ``$AGA_SWARM_DB_URL`` and ``$AGA_SWARM_BLOB_URL``, ``data_dir`` (for SQLite and blobs when
        those are unset) to ``$AGA_SWARM_DATA`` or ``~/.aga_swarm``, and ``registry`` (the actions it runs) to
        a new one with the built-ins (``service/composition.py``).

        ``concurrency`` and ``stall_seconds`` configure the runner (operations run at once; on PostgreSQL, how
        long a silent worker is waited for before it is taken over). ``storage_quota``: the bytes one owner may
        store (``check_storage_quota``); None, the default of the Python API and the CLI (the operator's own
        tools), sets no limit; the server passes the operator's ``AGA_SWARM_QUOTA_STORED_BYTES``."""
        if engine is None:
            db_url = db_url or os.environ.get("AGA_SWARM_DB_URL") or None
            blob_url = blob_url or os.environ.get("AGA_SWARM_BLOB_URL") or None
            from .composition import open_engine

            engine = open_engine(registry=registry, data_dir=Path(data_dir) if data_dir else None, db_url=db_url,
                                 blob_url=blob_url)
        self.engine = engine
        self.db = self.engine.db
        self.runner = Runner(self.engine, concurrency=concurrency, stall_seconds=stall_seconds)
        """Runs this process's operations; the service notifies it (and hands it work) after its writes."""
        self.stored_bytes = StoredBytes(self.db, storage_quota)

    @property
    def storage_quota(self) -> int | None:
        return self.stored_bytes.limit

    # ---- helpers -----------------------------------------------------------------------------
    def _now(self) -> datetime:
        return datetime.now(UTC)

    def _row(self, swarm_id: str, owner_id: str | None) -> Any:
        with self.db.read() as conn:
            row = rows.load_swarm_row(conn, swarm_id)
        if row is None or (owner_id is not None and row.owner_id != owner_id):
            raise SwarmNotFound(swarm_id)
        return row

    def _write(self, swarm_id: str, owner_id: str | None, fn: Any) -> Any:
        """Run ``fn`` in a ``SwarmTx`` and commit. SQLite: on the writer's connection, as the runner's
        transactions are, and what it left is kept for them (``RowCache``): a commit on another (pooled)
        connection would make the writer's discard its page cache and its kept swarm rows, so the runner's
        next claim and transaction would read cold (about 70 µs a spawn; ``bench/RESULTS.md``, fan-out seventh
        pass). PostgreSQL: a pooled connection, as before."""
        rows = self.engine.executor.rows if self.db.is_sqlite else None
        with self.db.raw_tx() if rows is not None else self.db.tx() as conn:
            tx = SwarmTx(conn, swarm_id, self._now()) if rows is None else SwarmTx.from_cache(
                rows, conn, swarm_id, self._now())
            if owner_id is not None and tx.owner_id != owner_id:
                raise SwarmNotFound(swarm_id)
            result = fn(tx)
            tx.flush()
        if rows is not None:
            tx.leave_to(rows)
        self.engine.publish(tx.owner_id, tx.events)
        self.runner.notify()
        return result

    # ---- the per-owner quota on stored bytes -------------------------------------------------------
    def check_storage_quota(self, owner_id: str | None, adding: int) -> None:
        """Refuse (QuotaExceeded, HTTP 429) to store ``adding`` more bytes for ``owner_id`` when that would take
        what they store (``store/usage.py``: goals, messages, events, memory files) past ``storage_quota``; else
        count them. Call it before storing any bytes a user sends: a goal, a reply or a tell, an upload, an
        attachment. No check without a quota or an owner (the operator's own calls).

        What an owner stores is measured at most every STORED_BYTES_MAX_AGE seconds, and the bytes accepted
        since are added to it, so the check costs a scan of their events only now and then. Parallel requests
        of one owner are counted one by one; the bytes their swarms' nodes write meanwhile show at the next
        measure (``service/quota.py``)."""
        self.stored_bytes.check(owner_id, adding)

    def measure_storage_if_stale(self, owner_id: str | None) -> bool:
        """Measure what ``owner_id`` stores if the next ``check_storage_quota`` would (a read of their rows), so
        that check costs no read: for a caller about to write on a thread that should not wait for reads. Whether
        it measured."""
        if not self.stored_bytes.stale(owner_id):
            return False
        assert owner_id is not None
        self.stored_bytes.measure(owner_id)
        return True

    # ---- configs -------------------------------------------------------------------------------
    def configs(self, owner_id: str | None = None) -> list[SwarmConfig]:
        """The configs ``owner_id`` may use: the built-in ones, those the operator shares, and their own (which
        hide a shared one of the same id), each group oldest first. Without an owner: the built-in and shared
        ones."""
        with self.db.read() as conn:
            stored = configs.usable(conn, owner_id)
        return self.engine.builtin_configs() + stored

    def save_config(self, config: SwarmConfig, owner_id: str | None = None) -> SwarmConfig:
        """Save (or replace) ``owner_id``'s config of this id; another owner's config of the same id is never
        touched. Without an owner the config is shared with every user (an operator's choice)."""
        if config.id in {c.id for c in self.engine.builtin_configs()}:
            raise InvalidInput(f"config id {config.id!r} is reserved")
        _require_price(config)
        owner = owner_id if owner_id is not None else t.SHARED_CONFIG_OWNER
        with self.db.tx() as conn:
            configs.replace(conn, owner, config, self._now().timestamp())
        self.engine.forget_config(owner, config.id)
        return config

    @staticmethod
    def read_config_file(path: Path | str) -> SwarmConfig:
        """A SwarmConfig read from JSON or YAML (not saved)."""
        import yaml

        text = Path(path).read_text()
        data = yaml.safe_load(text) if str(path).endswith((".yaml", ".yml")) else json.loads(text)
        return SwarmConfig.model_validate(data)

    def load_config_file(self, path: Path | str, owner_id: str | None = None) -> SwarmConfig:
        """Read a SwarmConfig from JSON or YAML and save it as ``owner_id``'s."""
        return self.save_config(self.read_config_file(path), owner_id)

    # ---- swarms --------------------------------------------------------------------------------
    def create_swarm(self, owner_id: str, goal: str, *, name: str | None = None,
                     config_id: str = "local", files: Sequence[mem.Upload] = (),
                     limits: AttachmentLimits | None = None) -> Swarm:
        """A draft. ``files`` (the goal's attachments, checked against ``limits`` first) land in its memory space
        under ``uploads/``; when it is spawned, the root receives every file the person put there meanwhile."""
        if files:
            checked = att.check_files(files, limits or AttachmentLimits())
            self.check_storage_quota(owner_id, sum(len(f.data) for f in checked))
            swarm = self._create_swarm(owner_id, goal, name=name, config_id=config_id)
            created = att.put_blobs(self.engine.blobs, owner_id, swarm.id, checked)
            try:
                self._write(swarm.id, owner_id, lambda tx: att.record(tx, checked))
            except BaseException:
                att.discard(self.engine.blobs, created)
                self.delete_swarm(swarm.id, owner_id)
                raise
            return self.get_swarm(swarm.id)
        return self._create_swarm(owner_id, goal, name=name, config_id=config_id)

    def _create_swarm(self, owner_id: str, goal: str, *, name: str | None, config_id: str) -> Swarm:
        config = self.engine.config_for(config_id, owner_id)
        goal = clean_text(goal, field="goal", max_chars=config.limits.max_goal_chars)
        name = clean_text(name or goal.splitlines()[0][:60], field="name", max_chars=200)
        self.check_storage_quota(owner_id, len(goal))
        now = self._now().timestamp()
        swarm_id = "s" + uuid.uuid4().hex[:16]
        with self.db.tx() as conn:
            swarms.insert_draft(conn, swarm_id, owner_id=owner_id, name=name, goal=goal, config_id=config.id,
                                now=now)
        return self.get_swarm(swarm_id)

    def get_swarm(self, swarm_id: str, owner_id: str | None = None) -> Swarm:
        return rows.swarm_from_row(self._row(swarm_id, owner_id))

    def get_swarm_summary(self, swarm_id: str, owner_id: str | None = None) -> SwarmSummary:
        """The swarm with its whole outcome (a completed swarm's root report, a failed one's reason) and how
        many chats wait on the person."""
        swarm = self.get_swarm(swarm_id, owner_id)
        with self.db.read() as conn:
            found = outcomes.outcomes(conn, [swarm])[0]
        return SwarmSummary(**swarm.model_dump(), **found.fields())

    def list_swarms(self, owner_id: str | None = None) -> list[Swarm]:
        with self.db.read() as conn:
            return swarms.all_swarms(conn, owner_id)

    def swarm_page(self, owner_id: str, *, limit: int = 50, cursor: str | None = None,
                   preview_chars: int = GOAL_PREVIEW_CHARS) -> SwarmPage:
        """One page of the owner's swarms, newest first, each with only the beginning of its goal. ``cursor``
        is the previous page's ``next_cursor`` (InvalidInput for anything else)."""
        after = decode_cursor(cursor) if cursor is not None else None
        with self.db.read() as conn:
            found = swarms.page(conn, owner_id, limit=limit, after=after, preview_chars=preview_chars)
            # the beginning of each outcome, and the questions waiting: two queries for the page
            found_outcomes = outcomes.outcomes(conn, found.items, OUTCOME_PREVIEW_CHARS)
        items = [item.model_copy(update=o.fields()) for item, o in zip(found.items, found_outcomes, strict=True)]
        return SwarmPage(items=items, next_cursor=None if found.last is None else encode_cursor(*found.last))

    def owner_usage(self, owner_id: str, *, forks_since: float) -> OwnerUsage:
        """What an owner holds, for per-user quotas: swarms, running ones, forks made since ``forks_since`` (a
        timestamp), and the bytes they store (``store/usage.py``)."""
        with self.db.read() as conn:
            counts = swarms.owner_counts(conn, owner_id, forks_since=forks_since)
            stored = usage.stored_bytes(conn, owner_id)
        return OwnerUsage(swarms=counts.swarms, running=counts.running, forks=counts.forks, stored_bytes=stored)

    def update_swarm(self, swarm_id: str, *, owner_id: str | None = None, name: str | None = None,
                     goal: str | None = None) -> Swarm:
        row = self._row(swarm_id, owner_id)
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = clean_text(name, field="name", max_chars=200)
        if goal is not None:
            if row.status != SwarmStatus.DRAFT.value:
                raise InvalidTransition("the goal can only be changed while the swarm is a draft")
            limits = self.engine.config_for(row.config_id, row.owner_id).limits
            values["goal"] = clean_text(goal, field="goal", max_chars=limits.max_goal_chars)
            self.check_storage_quota(owner_id, max(0, len(values["goal"]) - len(row.goal)))
        if values:
            values["updated_at"] = self._now().timestamp()
            with self.db.tx() as conn:
                swarms.update_fields(conn, swarm_id, values)
        return self.get_swarm(swarm_id)

    def delete_swarm(self, swarm_id: str, owner_id: str | None = None) -> None:
        row = self._row(swarm_id, owner_id)
        with self.db.tx() as conn:
            swarms.delete_rows(conn, swarm_id)
        self.engine.blobs.delete_prefix(swarm_prefix(row.owner_id, swarm_id))
        self.stored_bytes.forget(row.owner_id)  # measured afresh at the next check

    # ---- lifecycle -----------------------------------------------------------------------------
    def spawn(self, swarm_id: str, owner_id: str | None = None) -> Swarm:
        def do(tx: SwarmTx) -> None:
            if tx.swarm.status is not SwarmStatus.DRAFT:
                raise InvalidTransition(f"swarm is already {tx.swarm.status.value}; only a draft can be spawned")
            _require_price(self.engine.config_for(tx.config_id, tx.owner_id))  # one saved before prices were due
            tx.set_status(SwarmStatus.RUNNING)
            action = self.engine.registry.get_action("plan")
            spawn_node(tx, "n", None, 0, action, tx.swarm.goal, tx.swarm.name, {})
            given = [att.stored_attachment(f) for f in mem.committed_files(tx.conn, tx.swarm_id)
                     if f.file.node_id is None]  # the goal's files, and any the person put there before
            if given:
                tx.update_node("n", attachments=att.dumped(given))

        self._write(swarm_id, owner_id, do)
        return self.get_swarm(swarm_id)

    def pause(self, swarm_id: str, owner_id: str | None = None) -> Swarm:
        def do(tx: SwarmTx) -> None:
            if tx.swarm.status is not SwarmStatus.RUNNING:
                raise InvalidTransition(f"swarm is {tx.swarm.status.value}; only a running swarm can be paused")
            tx.set_status(SwarmStatus.PAUSED)
            sql.run(tx.conn, sql.HOLD_QUEUED, {"sid": swarm_id})

        self._write(swarm_id, owner_id, do)
        return self.get_swarm(swarm_id)

    def set_auto_approve(self, swarm_id: str, enabled: bool, tool: str | None = None,
                         owner_id: str | None = None) -> list[str]:
        """The person's per-swarm switch: turn on (or off) approving ``tool`` (an action id such as
        ``files.write_file``; None for every tool) automatically in this swarm. It relaxes the operator's ``ask``
        to ``auto``, never ``deny``, and is an event of the swarm's history (the fold, the slider and forks see
        it). Turned on, it answers the approvals that nodes wait on for the tools it covers, as a ``yes`` from the
        switch. Returns the tools now covered (``*``: all)."""
        key = "*" if tool is None else tool.strip()
        if not TOOL_ID.fullmatch(key):
            raise InvalidInput("tool must be a tool's id such as files.write_file (or left out for every tool)")
        row = self._row(swarm_id, owner_id)
        config = self.engine.config_for(row.config_id, row.owner_id)

        def do(tx: SwarmTx) -> list[str]:
            if key != "*" and (enabled or key not in tx.state.auto_approve):  # a stale id can always be turned off
                self._check_approvable(config, key, enabled)
            tx.emit(EventType.AUTO_APPROVE, None, {"tool": key, "enabled": enabled})
            return list(tx.state.auto_approve)

        covered: list[str] = self._write(swarm_id, owner_id, do)
        if enabled:
            for node in self.state(swarm_id, owner_id).nodes.values():
                cont = node.continuation
                if node.lifecycle is not Lifecycle.WAITING_USER or cont is None:
                    continue
                waiting = pending_approval(cont.next_step, cont.context)
                if waiting is not None and (key == "*" or waiting == key):
                    try:
                        self._reply(swarm_id, node.chat_id, AUTO_APPROVED, owner_id, [], ())
                    except ChatNotAwaiting:
                        pass  # answered meanwhile
        return covered

    def _check_approvable(self, config: SwarmConfig, tool: str, enabled: bool) -> None:
        """InvalidInput for a tool the swarm does not have (its config's space: the built-in tools and the tools
        of the operator's MCP servers it picks), naming the nearest ones; Conflict for turning on a tool the
        operator's policy denies."""
        reg, mcp_config = self.engine.registry, self.engine.mcp_config
        policy = approval_policy(reg, config, tool, mcp_config)
        if policy is None:
            known = tool_ids(reg, config, mcp_config)
            near = difflib.get_close_matches(tool, known, n=1, cutoff=0.6)
            hint = (f"did you mean {near[0]}?" if near else
                    "its tools are " + ", ".join(known[:12]) + (", ..." if len(known) > 12 else ""))
            raise InvalidInput(f"{tool} is not a tool of this swarm (the built-in memory tools, and the tools of "
                               f"the MCP servers the operator declares that its config {config.id!r} picks); "
                               + hint)
        if policy == "deny" and enabled:
            raise Conflict(f"{tool} cannot be approved automatically: the operator's policy denies it (it is never "
                           "called)")

    def resume(self, swarm_id: str, owner_id: str | None = None) -> Swarm:
        def do(tx: SwarmTx) -> None:
            if tx.swarm.status is not SwarmStatus.PAUSED:
                raise InvalidTransition(f"swarm is {tx.swarm.status.value}; only a paused swarm can be resumed")
            tx.set_status(SwarmStatus.RUNNING)
            sql.run(tx.conn, sql.RELEASE_HELD, {"sid": swarm_id})

        self._write(swarm_id, owner_id, do)
        return self.get_swarm(swarm_id)

    # ---- steering a node ------------------------------------------------------------------------
    def _steer(self, swarm_id: str, node_id: str, owner_id: str | None, fn: Any) -> Any:
        def do(tx: SwarmTx) -> Any:
            if tx.state.status is SwarmStatus.DRAFT:
                raise InvalidTransition("the swarm is a draft; spawn it first")
            return fn(tx)

        return self._write(swarm_id, owner_id, do)

    def cancel_node(self, swarm_id: str, node_id: str, owner_id: str | None = None) -> Node:
        """Cancel a live node and its subtree (their queued operations dropped); its parent is told, and its
        termination policy decides what follows. Conflict when the node has ended."""
        return self._steer(swarm_id, node_id, owner_id,  # type: ignore[no-any-return]
                           lambda tx: steer.cancel(tx, node_id))

    def retry_node(self, swarm_id: str, node_id: str, owner_id: str | None = None) -> Node:
        """Run a failed or cancelled node again from its entry step, as a new attempt (the earlier one stays in
        its developer log). Conflict when it is running or done, or its parent no longer waits for it, or the
        swarm stopped on a final limit that its config still holds there (``steer.LimitStillBinds``: raise the
        limit first)."""
        row = self._row(swarm_id, owner_id)
        config = self.engine.config_for(row.config_id, row.owner_id)
        built_in = row.config_id in {c.id for c in self.engine.builtin_configs()}
        return self._steer(swarm_id, node_id, owner_id,  # type: ignore[no-any-return]
                           lambda tx: steer.retry(tx, node_id, config.limits, row.config_id, built_in))

    def tell_node(self, swarm_id: str, node_id: str, content: str, owner_id: str | None = None, *,
                  files: Sequence[mem.Upload] = (), attach: Sequence[str] = (),
                  limits: AttachmentLimits | None = None) -> Message:
        """Say something to a live node, whether or not it asked: posted to its chat at once, received by its
        next model call (a node waiting on its children passes it to its review). To a node awaiting a reply
        this is the reply. ``files`` (the person's, checked against ``limits``) and ``attach`` (memory paths)
        go with it as attachments. InvalidInput when empty; Conflict when the node has ended."""
        row = self._row(swarm_id, owner_id)
        config_limits = self.engine.config_for(row.config_id, row.owner_id).limits
        text = clean_text(content, field="content", max_chars=config_limits.max_message_chars,
                          allow_empty=bool(files or attach))
        with self.db.read() as conn:
            node = rows.load_node(conn, swarm_id, node_id)
        if node is None:
            raise NodeNotFound(node_id)
        with self._stored_files(row, owner_id, files, limits) as put:
            if node.lifecycle is Lifecycle.WAITING_USER:
                try:
                    return self._reply(swarm_id, node.chat_id, text, owner_id, put, attach)
                except ChatNotAwaiting:
                    pass  # it moved on meanwhile: tell it instead
            self.check_storage_quota(owner_id, len(text))
            return self._steer(swarm_id, node_id, owner_id,  # type: ignore[no-any-return]
                               lambda tx: steer.tell(tx, node_id, text, _attaching(tx, self.engine.blobs, put,
                                                                                   attach)))

    @contextmanager
    def _stored_files(self, row: Any, owner_id: str | None, files: Sequence[mem.Upload],
                      limits: AttachmentLimits | None) -> Iterator[list[att.Checked]]:
        """Check the person's files (limits, then the stored-bytes quota) and put their bytes (content-addressed)
        before the transaction that records them; if the block fails, the bytes it put are deleted again."""
        if not files:
            yield []
            return
        checked = att.check_files(files, limits or AttachmentLimits())
        self.check_storage_quota(owner_id, sum(len(f.data) for f in checked))
        created = att.put_blobs(self.engine.blobs, row.owner_id, row.id, checked)
        try:
            yield checked
        except BaseException:
            att.discard(self.engine.blobs, created)
            raise

    # ---- chats ---------------------------------------------------------------------------------
    def post_reply(self, swarm_id: str, chat_id: str, content: str, owner_id: str | None = None, *,
                   files: Sequence[mem.Upload] = (), attach: Sequence[str] = (),
                   limits: AttachmentLimits | None = None) -> Message:
        """Record the user's reply and resume the waiting node at its next step, in the reply's transaction
        (so the node's next message commits with the reply). While the swarm is paused, or when the step
        fails, the resumption is a ``user_reply`` operation instead: held, or run (and failed) on its own.
        ``files`` (the person's, checked against ``limits``: 413/415/422 before anything is stored) and
        ``attach`` (paths already in the memory space) go with the reply as attachments: each file lands in
        the memory space under ``uploads/`` in the reply's transaction, and the node receives them."""
        if not files:
            return self._reply(swarm_id, chat_id, content, owner_id, [], attach)
        with self._stored_files(self._row(swarm_id, owner_id), owner_id, files, limits) as put:
            return self._reply(swarm_id, chat_id, content, owner_id, put, attach)

    def _reply(self, swarm_id: str, chat_id: str, content: str, owner_id: str | None, put: list[att.Checked],
               attach: Sequence[str]) -> Message:
        def do(tx: SwarmTx) -> Message:
            if owner_id is not None and tx.owner_id != owner_id:
                raise SwarmNotFound(swarm_id)
            limits = self.engine.config_for(tx.config_id, tx.owner_id).limits
            text = clean_text(content, field="content", max_chars=limits.max_message_chars,
                              allow_empty=bool(put or attach))
            return resuming.reply(tx, self.engine.executor, chat_id, text, _attaching(tx, self.engine.blobs, put,
                                                                                    attach))

        self.check_storage_quota(owner_id, len(content))
        handoff = self.runner.accepts_handoff()
        msg, tx, claimed = self.engine.executor.transact(swarm_id, do, claim_tail=handoff)
        self.runner.count_done(tx.grouped)
        self.engine.publish(tx.owner_id, tx.events)
        if claimed is not None:
            self.runner.adopt(claimed)  # the node's model call, already claimed: no claim round-trip
        if tx.queued_work:
            self.runner.notify()
        return msg

    def chats(self, swarm_id: str, owner_id: str | None = None) -> list[ChatSummary]:
        """Chats in the order a person should look at them: awaiting you, then open, then closed."""
        self._row(swarm_id, owner_id)
        with self.db.read() as conn:
            found = chats.chats_of(conn, swarm_id)
        rank = {ChatStatus.AWAITING_USER: 0, ChatStatus.OPEN: 1, ChatStatus.CLOSED: 2, ChatStatus.IDLE: 3}
        return sorted(found, key=lambda c: (rank[c.status], c.id))

    def messages(self, swarm_id: str, chat_id: str, owner_id: str | None = None) -> list[Message]:
        self._row(swarm_id, owner_id)
        with self.db.read() as conn:
            if rows.load_chat(conn, swarm_id, chat_id) is None:
                raise ChatNotFound(chat_id)
            return chats.messages_of(conn, swarm_id, chat_id)

    # ---- state and history ---------------------------------------------------------------------
    def state(self, swarm_id: str, owner_id: str | None = None) -> SwarmState:
        self._row(swarm_id, owner_id)
        return hist.current_state(self.db, swarm_id)

    def state_at(self, swarm_id: str, seq: int, owner_id: str | None = None) -> SwarmState:
        row = self._row(swarm_id, owner_id)
        every = self.engine.config_for(row.config_id, row.owner_id).snapshot_every
        return hist.state_at(self.db, self.engine.blobs, swarm_id, seq, snapshot_every=every)

    def history(self, swarm_id: str, after: int = 0, limit: int | None = None,
                owner_id: str | None = None) -> SwarmHistory:
        self._row(swarm_id, owner_id)
        return hist.history(self.db, swarm_id, after, limit)

    def compact(self, swarm_id: str, keep: int | None = None, owner_id: str | None = None) -> int:
        row = self._row(swarm_id, owner_id)
        keep = keep or self.engine.config_for(row.config_id, row.owner_id).history_retention
        if keep is None:
            raise InvalidInput("no retention given and the swarm's config sets none")
        return hist.compact(self.db, self.engine.blobs, swarm_id, keep)

    def node_detail(self, swarm_id: str, node_id: str, owner_id: str | None = None,
                    at: int | None = None) -> NodeDetail:
        """The node with its journal, developer log and continuation: now, or as they were at seq ``at`` (the
        history slider's point: the node from ``state_at``, and only the journal lines and model calls whose
        events came at or before ``at``)."""
        row = self._row(swarm_id, owner_id)
        if at is not None and at == row.last_seq:
            at = None  # the point is now (past the last seq, ``state_at`` refuses it)
        node: Node | None
        if at is None:
            with self.db.read() as conn:
                node = rows.load_node(conn, swarm_id, node_id)
        else:
            node = self.state_at(swarm_id, at, owner_id).nodes.get(node_id)
        if node is None:
            raise NodeNotFound(node_id)
        journal, calls = devlog.node_log(self.db, self.engine.blobs, self.engine.requests, swarm_id, node_id, at)
        return NodeDetail(node=node, journal=journal, llm_calls=calls, continuation=node.continuation)

    def journal(self, swarm_id: str, node_id: str, owner_id: str | None = None) -> list[JournalEntry]:
        return self.node_detail(swarm_id, node_id, owner_id).journal

    # ---- clone ---------------------------------------------------------------------------------
    def clone(self, swarm_id: str, *, at_seq: int | None = None, owner_id: str | None = None,
              name: str | None = None) -> Swarm:
        """Copy a swarm. Without ``at_seq`` the copy is a fresh draft with the same goal; with it, a fork
        holding the state at that point (paused, so it runs again only when resumed)."""
        src = self.get_swarm(swarm_id, owner_id)
        if at_seq is None:
            return self.create_swarm(src.owner_id, src.goal, name=name or f"{src.name} (copy)",
                                     config_id=src.config_id)
        state = self.state_at(swarm_id, at_seq, owner_id)
        return self._fork(src, state, name or f"{src.name} (fork @{at_seq})")

    def _fork(self, src: Swarm, state: SwarmState, name: str) -> Swarm:
        now = self._now().timestamp()
        new_id = "s" + uuid.uuid4().hex[:16]
        status = state.status
        if status is SwarmStatus.RUNNING:
            status = SwarmStatus.PAUSED
        with self.db.tx() as conn:
            forks.copy_swarm(conn, self.engine.blobs, src, new_id, name=name, state=state, status=status, now=now,
                             memory_key=lambda path: mem.blob_key_for(src.owner_id, new_id, path))
            if status not in (SwarmStatus.COMPLETED, SwarmStatus.FAILED):
                forks.insert_operations(conn, new_id, resuming.pending_operations(state),
                                        OperationStatus.HELD if status is not SwarmStatus.RUNNING
                                        else OperationStatus.QUEUED, now)
        return self.get_swarm(new_id)

    # ---- action space --------------------------------------------------------------------------
    def action_space(self, swarm_id: str, *, owner_id: str | None = None) -> SwarmActionSpace:
        """Every folder and action the swarm's nodes may route to (its config's space), each described."""
        swarm = self.get_swarm(swarm_id, owner_id)
        return describe_space(self.engine.registry, self.engine.config_for(swarm.config_id, swarm.owner_id),
                              swarm_id, self.engine.mcp_config)

    # ---- memory space --------------------------------------------------------------------------
    def memory(self, swarm_id: str, *, at: int | None = None, owner_id: str | None = None) -> MemoryListing:
        """The memory space's files now, or as of seq ``at`` (each file's latest version at or before it)."""
        row = self._row(swarm_id, owner_id)
        if at is not None and not 0 <= at <= row.last_seq:
            raise InvalidInput(f"seq must be between 0 and {row.last_seq}")
        seq = row.last_seq if at is None else at
        with self.db.read() as conn:
            files = mem.committed_files(conn, swarm_id, seq)
        return MemoryListing(swarm_id=swarm_id, seq=seq, files=[f.file for f in files])

    def memory_file(self, swarm_id: str, path: str, *, at: int | None = None,
                    owner_id: str | None = None) -> tuple[MemoryFile, bytes]:
        """One file's metadata and bytes, now or as of seq ``at``."""
        self._row(swarm_id, owner_id)
        path = mem.clean_path(path)
        with self.db.read() as conn:
            found = mem.committed_file(conn, swarm_id, path, mem.LATEST if at is None else at)
        if found is None:
            raise MemoryFileNotFound(path)
        try:
            return found.file, self.engine.blobs.get(found.blob_key)
        except KeyError:
            raise MemoryFileNotFound(path) from None

    def upload_memory(self, swarm_id: str, files: list[mem.Upload], *, owner_id: str | None = None,
                      path: str | None = None, folder: str = "uploads",
                      allowed: frozenset[str] = frozenset(mem.DEFAULT_UPLOAD_TYPES),
                      max_file_bytes: int = mem.DEFAULT_MAX_UPLOAD_BYTES,
                      max_request_bytes: int | None = None) -> list[MemoryFile]:
        """The person's files into the memory space (``folder/<file name>``, or ``path`` for a single file), in
        one transaction. Every file is checked first (size, allowlisted type shown by its bytes); if anything
        fails, no bytes, row or event is left behind."""
        self._row(swarm_id, owner_id)
        if not files:
            raise InvalidInput("no file given")
        if path is not None and len(files) != 1:
            raise InvalidInput("a path can be given only with a single file")
        total = sum(len(f.data) for f in files)
        if max_request_bytes is not None and total > max_request_bytes:
            raise FileTooLarge(f"the files come to {human_size(total)}; the limit is {human_size(max_request_bytes)}"
                               " a request")
        planned = []
        for f in files:
            target = mem.clean_path(path) if path is not None else mem.upload_path(folder, f.name)
            kind = mem.check_upload(f.name, f.content_type, f.data, allowed=allowed, max_bytes=max_file_bytes)
            planned.append((target, kind, f))
        self.check_storage_quota(owner_id, total)
        keys: list[str] = []
        owner = self.get_swarm(swarm_id).owner_id

        def record(tx: SwarmTx) -> list[MemoryFile]:
            return [tx.write_memory(target, title=target.rsplit("/", 1)[-1], size=len(f.data), content_type=kind,
                                    node_id=None, blob_key=key) for (target, kind, f), key in zip(planned, keys,
                                                                                                   strict=True)]
        try:
            for target, _, f in planned:
                key = mem.blob_key_for(owner, swarm_id, target)
                keys.append(key)
                self.engine.blobs.put(key, f.data)
            written: list[MemoryFile] = self._write(swarm_id, owner_id, record)
        except BaseException:
            for key in keys:
                self.engine.blobs.delete_prefix(mem.version_prefix(key))
            raise
        return written

    # ---- running -------------------------------------------------------------------------------
    async def run_until_idle(self, swarm_id: str | None = None, *, timeout: float | None = None) -> None:
        """Run queued operations until none is left (the swarm is done, paused, or waiting on the user)."""
        await self.runner.run_until_idle(swarm_id, timeout=timeout)

    def recover(self) -> int:
        return self.runner.recover()

    def waiting_chats(self, swarm_id: str, owner_id: str | None = None) -> list[ChatSummary]:
        return [c for c in self.chats(swarm_id, owner_id) if c.status is ChatStatus.AWAITING_USER]

    def close(self) -> None:
        self.engine.dispose()


__all__ = ["SwarmEvent", "SwarmService", "clean_text"]
