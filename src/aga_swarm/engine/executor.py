"""execute(op): load by id, run one step, commit every effect atomically, return. Nothing waits.

The parts, each in a module of its own: ``dispatch`` (which step runs, with what), ``lifecycle`` (the rules of
how nodes end), ``grouping`` (group commit: what shares a transaction), ``modelcall`` (calls outside any
transaction), ``rowcache`` (rows the next transaction reuses), ``failures`` (a step that raised). ``Executor``
wires them from its explicit dependencies and is what the runner and the service call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from ..llm.protocol import LLMClient
from ..schemas import Continuation, OperationKind, SwarmConfig, SwarmEvent
from ..sdk.registry import Registry
from ..store.blob import BlobStore
from ..store.database import Database
from ..store.payloads import RequestStore
from .claimed import NOTHING, ClaimedOp, Executed, LostClaim, PriorCommitFailed
from .context import Services
from .dispatch import ConfigLookup, Dispatcher
from .failures import record_failure
from .grouping import GroupCommit, OpFn
from .modelcall import ModelCalls
from .rowcache import RowCache
from .stats import EngineStats
from .tx import SwarmTx

log = logging.getLogger("aga_swarm.engine")
T = TypeVar("T")


class Executor:
    def __init__(self, *, db: Database, blobs: BlobStore, requests: RequestStore, registry: Registry,
                 services: Services,
                 config_for: ConfigLookup, llm_for: Callable[[SwarmConfig], LLMClient], stats: EngineStats,
                 publish: Callable[[str, list[SwarmEvent]], None], mcp_hub: Callable[[], Any]) -> None:
        self.db = db
        self.blobs = blobs
        self.requests = requests  # model requests, stored once (``store/payloads.py``)
        self.registry = registry
        self.stats = stats
        self.publish = publish  # for a commit made outside ``execute``'s result (a tool call's start)
        self.mcp_hub = mcp_hub  # the operator's MCP servers, connected on first use
        self.rows = RowCache(db)
        self.dispatcher = Dispatcher(registry, config_for, services)
        self.group = GroupCommit(db, self.dispatcher, self.rows, stats)
        self.model_calls = ModelCalls(db=db, registry=registry, config_for=config_for, llm_for=llm_for,
                                      blobs=blobs, requests=requests, rows=self.rows, group=self.group)

    async def execute(self, op: ClaimedOp) -> Executed:
        """Run one claimed operation; what it committed (its events for the fan-out, its chained operation)."""
        try:
            if op.kind is OperationKind.LLM_CALL:
                return await self.model_calls.run(op)
            if op.kind is OperationKind.TOOL_CALL:
                from .toolcall import run_tool_call

                return await run_tool_call(self, op)
            return await self.group.commit_together(op, self.dispatcher.dispatch)
        except PriorCommitFailed:  # the runner runs the operation before it again (``Runner._execute_and_publish``)
            raise
        except LostClaim:
            if op.reserved:  # gone from the queue before it ran (another worker's, held by a pause, absorbed)
                log.debug("reserved operation %s was no longer queued; not run", op.id)
            else:
                log.warning("operation %s lost its claim; effects rolled back", op.id)
            return NOTHING
        except Exception as exc:  # a step blew up: record it and fail the node, never stall
            return record_failure(self.db, self.requests, self.stats, op, exc)

    # ---- for the service and the runner ------------------------------------------------------------
    @property
    def group_limit(self) -> int:
        """Operations a transaction may run after the one that queued them (0: group commit off)."""
        return self.group.group_limit

    @group_limit.setter
    def group_limit(self, value: int) -> None:
        self.group.group_limit = value

    def transact(self, swarm_id: str, fn: Callable[[SwarmTx], T], *,
                 claim_tail: bool = False) -> tuple[T, SwarmTx, ClaimedOp | None]:
        """See ``GroupCommit.transact``."""
        return self.group.transact(swarm_id, fn, claim_tail=claim_tail)

    def resume_now(self, tx: SwarmTx, node_id: str, cont: Continuation, result: dict[str, Any]) -> bool:
        """See ``GroupCommit.resume_now``."""
        return self.group.resume_now(tx, node_id, cont, result)

    def in_tx(self, op: ClaimedOp, fn: OpFn) -> Executed:
        return self.group.in_tx(op, fn)

    async def commit_together(self, op: ClaimedOp, fn: OpFn) -> Executed:
        return await self.group.commit_together(op, fn)

    def run_step(self, tx: SwarmTx, node_id: str, step_name: str, data: Any, result: Any) -> None:
        self.dispatcher.run_step(tx, node_id, step_name, data, result)

    def forget_rows(self) -> None:
        """See ``RowCache.forget``."""
        self.rows.forget()

    def owner_and_config(self, swarm_id: str) -> tuple[str, str] | None:
        """See ``RowCache.owner_and_config``."""
        return self.rows.owner_and_config(swarm_id)
