"""Dispatch: run an operation's step (or rule) against a ``SwarmTx``. Which step, with what data, and how the
step's changes land on its node; the lifecycle rules are in ``lifecycle``, committing in ``grouping``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import tracing
from ..schemas import (
    TERMINAL_LIFECYCLES,
    Attachment,
    ChatStatus,
    ContinuationKind,
    Lifecycle,
    MessageRole,
    Node,
    OperationKind,
    SwarmConfig,
    TerminationPolicy,
)
from ..sdk.registry import Registry
from ..sdk.steps import AnyStep
from ..sdk.types import ChildrenResult, NoContext
from ..store import sql
from ..store.codec import new_continuation, trusted_with_defaults
from . import lifecycle as rules
from .claimed import ClaimedOp
from .context import Services, StepRuntime
from .errors import LimitExceeded, MalformedContinuation
from .limits import check_time
from .policies import apply_policy
from .tx import SwarmTx

ConfigLookup = Callable[[str, str], SwarmConfig]
"""(config id, owner id) -> the config that owner means (``Engine.config_for``)."""


# Enum members read on the hot path, as module constants: on Python 3.11 ``EnumType`` defines ``__getattr__``,
# which puts every ``Kind.MEMBER`` read on a slow path (~0.2 µs; ``member.value`` is a descriptor written in
# Python, hence ``_value_``), and a fan-out reads a dozen per child (bench/RESULTS.md, "Fan-out, third pass").
_SPAWN, _SPAWNED, _RUNNING = OperationKind.SPAWN, Lifecycle.SPAWNED, Lifecycle.RUNNING
_NO_CONTEXT = NoContext()  # what every step without a context type gets for an empty one (it has no fields)

class Dispatcher:
    def __init__(self, registry: Registry, config_for: ConfigLookup, services: Services) -> None:
        self.registry = registry
        self.config_for = config_for
        self.services = services

    @tracing.traced_operation
    def dispatch(self, tx: SwarmTx, op: ClaimedOp) -> None:
        """Run ``op`` (any kind but the model and tool calls, which run outside transactions) in ``tx``."""
        self.run(tx, op.node_id, op.kind, op.payload)

    def run(self, tx: SwarmTx, node_id: str, kind: OperationKind, payload: dict[str, Any]) -> None:
        """Run an operation of ``kind`` on ``node_id`` in ``tx``: a claimed one, or one kept back in ``tx``."""
        node = tx.node(node_id)
        if node.lifecycle in TERMINAL_LIFECYCLES:
            return  # cancelled or finished meanwhile: the operation is moot
        if kind is _SPAWN:
            if node.lifecycle is not _SPAWNED:
                return
            action = self.registry.get_action(node.action_id)
            step = self.registry.get_step(action.entry_step)
            down = node.context_down
            data = _NO_CONTEXT if not down and step.context is NoContext else step.load_context(down)
            self._run_step(tx, node, step, data, None)
        elif kind in (OperationKind.STEP, OperationKind.USER_REPLY):
            cont = node.continuation
            if cont is None or cont.token != payload.get("token") or cont.kind is not ContinuationKind.STEP:
                return  # stale
            step = self.registry.get_step(cont.next_step)
            self.run_step(tx, node.id, step.name, step.load_context(cont.context),
                          step.load_result(cont.request.get("result")))
        elif kind is OperationKind.USER_PROMPT:
            self._user_prompt(tx, node, payload)
        elif kind is OperationKind.TERMINATE:
            self._terminate(tx, node, payload)
        elif kind is OperationKind.FAILURE:
            rules.fail_node(tx, node.id, str(payload.get("reason", "failed")))
        else:  # pragma: no cover - LLM_CALL and TOOL_CALL are handled before
            raise MalformedContinuation(f"unknown operation kind {kind}")

    def run_step(self, tx: SwarmTx, node_id: str, step_name: str, data: Any, result: Any) -> None:
        """Run a registered step on ``node_id`` and apply what it did to the node; a limit it reaches is final
        for the swarm (``lifecycle.breach``)."""
        self._run_step(tx, tx.node(node_id), self.registry.get_step(step_name), data, result)

    def _run_step(self, tx: SwarmTx, node: Node, step: AnyStep, data: Any, result: Any) -> None:
        """``run_step`` with the node and the step at hand (a spawn's: a fan-out runs thousands)."""
        node_id = node.id
        config = self.config_for(tx.config_id, tx.owner_id)
        ctx = StepRuntime(tx, node_id, step.name, config, self.services)
        changes = ctx.changes
        if node.lifecycle is not _RUNNING:
            changes["lifecycle"] = _RUNNING
        changes["continuation"] = None
        try:
            limits = config.limits
            if limits.max_seconds is not None:
                check_time(tx.state, limits, node_id, tx.now)
            step.fn(ctx, data, result)
        except LimitExceeded as exc:  # final for the swarm: never reviewed or re-planned
            rules.breach(tx, node_id, str(exc))
            return
        if not ctx.continued:
            raise RuntimeError(f"step {step.name!r} returned without continuing, completing or failing the node")
        node = tx.update_node(node_id, **ctx.changes)
        if node.lifecycle in TERMINAL_LIFECYCLES:
            rules.after_terminal(tx, node)

    def _user_prompt(self, tx: SwarmTx, node: Node, payload: dict[str, Any]) -> None:
        cont = node.continuation
        if cont is None or cont.token != payload.get("token") or cont.kind is not ContinuationKind.USER:
            return
        if cont.request.get("posted"):
            return
        cited = [Attachment.model_validate(a) for a in cont.request.get("attachments", ())]
        msg = tx.post_message(node.chat_id, MessageRole.AGENT, str(cont.request["message"]), attachments=cited)
        chat = tx.chat(node.chat_id)
        tx.update_chat(chat.id, status=ChatStatus.AWAITING_USER, awaiting_since=tx.now)
        # once posted, the question is the chat's message: the continuation keeps its id, not its text again (a
        # tool approval's text, its arguments and the model's reason, would go once more in the node's row and in
        # its node_updated event)
        request = {k: v for k, v in cont.request.items() if k != "message"}
        request["posted"], request["message_id"] = True, msg.id
        posted = new_continuation(cont.node_id, cont.kind, request, cont.context, cont.next_step, cont.token,
                                  cont.created_at)
        tx.update_node(node.id, lifecycle=Lifecycle.WAITING_USER, continuation=posted)

    def _terminate(self, tx: SwarmTx, parent: Node, payload: dict[str, Any]) -> None:
        """A child ended (or the parent checks whether all have): its termination policy decides
        (``engine/policies.py``); under ``all``, once no child is live, its ``children`` continuation (a plan's
        review) runs."""
        if parent.termination_policy != TerminationPolicy.ALL:  # every other policy decides in engine/policies.py
            apply_policy(self, tx, parent, payload.get("child_id"))
            return
        cont = parent.continuation
        if cont is None or cont.kind is not ContinuationKind.CHILDREN:
            return
        # under "all", every queued child-ended notice asks the same question (are all children done?),
        # so this check answers them all: fan-in costs a few operations, not one per child (none to delete
        # when the parent is known to have none queued: a fan-out's own transaction)
        if not tx.none_queued(parent.id):
            sql.send(tx.conn, sql.ABSORB_TERMINATES, {"sid": tx.swarm_id, "nid": parent.id})
        tx.absorb_inline(OperationKind.TERMINATE, parent.id)
        if tx.has_live_children(parent):
            return
        step = self.registry.get_step(cont.next_step)
        ctx = StepRuntime(tx, parent.id, step.name, self.config_for(tx.config_id, tx.owner_id), self.services)
        result = trusted_with_defaults(ChildrenResult, {"children": ctx.children_outcomes()})
        self.run_step(tx, parent.id, step.name, step.load_context(cont.context), result)
