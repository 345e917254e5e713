"""Steps and the context they run in.

A step is a function ``fn(ctx, data, result)`` declared with ``@step(name, context=..., result=...)``: ``data`` is
the step's context model (carried from the step before, stored in the node's continuation), ``result`` what the
step waited for (a model answer, a reply, the children's outcomes). The decorator returns a ``Step``, generic in
both, so mypy checks the function's annotations against ``context`` and ``result``, and a step that continues
names its next step by passing that ``Step`` (``ctx.ask(..., next_step=on_reply, context=data)``): the context it
hands on must be the next step's, and the next step must take what it waits for (``UserReply`` for ``ask``).

The name is the step's durable identity: a continuation stores it, and a resumed node finds its step by it in
the registry of whichever process runs it. Renaming a step strands the nodes that wait on it.

``StepContext`` is what a step may do: read its node, narrate, ask the model or the person, spawn children, use
the memory space and tools, continue, complete or fail. The engine implements it; a step sees nothing else.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, cast, overload

from pydantic import BaseModel, ValidationError

from ..schemas import ActionSpec, Attachment, Limits, MemoryFile, MemoryHit, Node, PromptMessage, SwarmConfig
from .errors import MalformedContinuation
from .plans import Subtask
from .types import ChildOutcome, ChildrenResult, NoContext, NodeContext, ToolOutcome, UserReply

C = TypeVar("C", bound=BaseModel)  # a step's context model
R = TypeVar("R")  # what a step receives: a result model, or None
M = TypeVar("M", bound=BaseModel)  # a result model


@dataclass(frozen=True)
class Step(Generic[C, R]):
    """A registered step: its durable name, its function, and the models of its context and result."""

    name: str
    fn: Callable[[StepContext, C, R], None]
    context: type[C]
    result: type[BaseModel] | None

    def __call__(self, ctx: StepContext, data: C, result: R) -> None:
        self.fn(ctx, data, result)

    def load_context(self, raw: dict[str, Any]) -> C:
        try:
            return self.context.model_validate(raw)
        except ValidationError as exc:
            raise MalformedContinuation(f"stored context for step {self.name!r} is invalid: {exc}") from None

    def load_result(self, raw: dict[str, Any] | None) -> R:
        if self.result is None:
            return cast(R, None)
        try:
            return cast(R, self.result.model_validate(raw or {}))
        except ValidationError as exc:
            raise MalformedContinuation(f"stored result for step {self.name!r} is invalid: {exc}") from None


AnyStep = Step[Any, Any]


@overload
def step(name: str) -> Callable[[Callable[[StepContext, NoContext, None], None]], Step[NoContext, None]]: ...


@overload
def step(name: str, *, context: type[C]) -> Callable[[Callable[[StepContext, C, None], None]], Step[C, None]]: ...


@overload
def step(name: str, *, result: type[M]) -> Callable[[Callable[[StepContext, NoContext, M], None]],
                                                    Step[NoContext, M]]: ...


@overload
def step(name: str, *, context: type[C], result: type[M]) -> Callable[[Callable[[StepContext, C, M], None]],
                                                                      Step[C, M]]: ...


def step(name: str, *, context: type[BaseModel] = NoContext,
         result: type[BaseModel] | None = None) -> Callable[[Callable[..., None]], AnyStep]:
    """Declare a step ``fn(ctx, data, result)`` named ``name``; ``Registry.add_steps`` (or ``Registry.step``,
    which does both) registers it."""

    def deco(fn: Callable[..., None]) -> AnyStep:
        return Step(name, fn, context, result)

    return deco


class Memory(Protocol):
    """The swarm's memory space as a step sees it: what committed, plus this step's own writes (recorded as its
    node's, committed with the step)."""

    def get(self, path: str) -> MemoryFile | None: ...

    def list(self, prefix: str = "") -> list[MemoryFile]:
        """Files under ``prefix`` (a folder path; '' for all), by path."""

    def read_bytes(self, path: str) -> bytes: ...

    def read(self, path: str) -> str:
        """A text file's content (InvalidInput for a binary one; MemoryFileNotFound for none)."""

    def write(self, path: str, content: str | bytes, *, title: str | None = None,
              content_type: str | None = None) -> MemoryFile: ...

    def search(self, query: str, limit: int = 20) -> builtins.list[MemoryHit]:
        """Files whose path or title contains ``query`` (case-insensitive), or whose text does (with the lines)."""


class StepContext(Protocol):
    """The only way a step touches the world: every effect becomes events in the step's transaction. A step
    ends by continuing (``llm``, ``ask``, ``call_tool``, ``goto``, ``wait_children``), completing or failing
    the node, exactly once."""

    @property
    def node_id(self) -> str: ...

    @property
    def step(self) -> str:
        """The running step's name."""

    @property
    def config(self) -> SwarmConfig: ...

    # ---- reading ------------------------------------------------------------------------------
    @property
    def node(self) -> Node:
        """The node as it stands (before this step's changes)."""

    @property
    def limits(self) -> Limits: ...

    @property
    def action(self) -> ActionSpec: ...

    def context(self) -> NodeContext:
        """The swarm's goal, the parent's directive, and the reports and files of the subtasks this node needs."""

    def attachments(self) -> list[Attachment]:
        """The files the person gave this node and its ancestors, each path once."""

    def children_outcomes(self) -> list[ChildOutcome]: ...

    @property
    def inbox(self) -> list[str]:
        """What a person told this node that it has not received yet."""

    def take_inbox(self) -> list[str]:
        """Receive what a person told this node: returned once, then cleared with the step's other changes."""

    @property
    def context_up(self) -> dict[str, Any]:
        """What the node hands up (its ``context_up``) with this step's changes so far (a copy)."""

    @property
    def auto_approved(self) -> Sequence[str]:
        """The tool ids (or ``*``) the person lets this swarm call without asking."""

    def tools(self) -> list[str]:
        """The tools this node may use (action ids), except those the operator's policy denies."""

    @property
    def memory(self) -> Memory: ...

    def read_blob(self, key: str) -> bytes:
        """A stored body by its key (a long tool result's ``ToolOutcome.blob_key``)."""

    def stored_request(self, key: str) -> dict[str, Any]:
        """A model request this swarm stored, by its key (what a tool-using loop's turn was sent)."""

    # ---- narrative ----------------------------------------------------------------------------
    def journal(self, text: str) -> None: ...

    def say(self, content: str, *, attachments: Sequence[str] = ()) -> None:
        """Post an agent message in this node's chat (no reply expected), citing memory-space files by path."""

    def close_chat(self) -> None: ...

    def set_followups(self, count: int) -> None:
        """How many follow-up questions this node's chat has had (the chat list shows it)."""

    def cite(self, paths: Sequence[str]) -> list[Attachment]: ...

    def add_usage(self, **delta: int) -> None:
        """Add to the swarm's usage counters (e.g. ``replans=1``)."""

    def record_tool_call(self, tool_id: str, arguments: dict[str, Any], result: str, *, step: str, error: bool,
                         ms: float) -> None:
        """A tool call in the node's developer log, beside its model calls."""

    def save_tool_result(self, tool_id: str, text: str) -> str | None:
        """Keep a tool's result in the memory space; its path, or None when it is too large even for that."""

    def save_artifact(self, name: str, content: str, content_type: str = "text/markdown") -> str:
        """Store a file under ``artifacts/<node>/`` and list it in the node's context_up; returns its blob key."""

    # ---- continuing ---------------------------------------------------------------------------
    def llm(self, purpose: str, messages: list[PromptMessage] | list[dict[str, Any]], *, next_step: Step[C, Any],
            context: C, facts: dict[str, Any] | None = None, take_inbox: bool = True,
            attachments: bool | None = None, tools: Sequence[str] | None = None,
            save_tool_results: bool = False) -> None:
        """Ask the model; ``next_step`` (whose result model is the output schema) gets the answer. With ``tools``
        it is a tool-using loop (the model calls them until it answers)."""

    def llm_turn(self, purpose: str, messages: list[PromptMessage] | list[dict[str, Any]], *,
                 next_step: Step[C, Any], context: C, facts: dict[str, Any] | None = None, take_inbox: bool = True,
                 attachments: bool | None = None, output_step: AnyStep | None = None,
                 functions: list[dict[str, Any]] | None = None, stored: Callable[[str], None] | None = None,
                 validated: bool = False, extends: tuple[str, int] | None = None) -> None:
        """One model call; for a tool-using loop's turn, ``functions`` are offered, ``output_step``'s result
        model is the schema of the final answer, and ``stored`` gets the stored request's key before ``context``
        is stored (the loop keeps its conversation by that reference). ``validated``: ``messages`` are dicts as
        ``PromptMessage`` dumps them (not validated again); ``extends`` (key, n): its first n messages are
        those of the stored request ``key``, which it is stored as a delta over."""

    def ask(self, content: str, *, next_step: Step[C, UserReply], context: C,
            attachments: Sequence[str] = ()) -> None:
        """Ask the person in this node's chat; the node parks until a reply resumes it at ``next_step``."""

    def call_tool(self, server: str, tool: str, arguments: dict[str, Any], *, idempotent: bool,
                  next_step: Step[C, ToolOutcome], context: C) -> None:
        """Call an MCP tool as an operation of its own; ``next_step`` gets its committed result."""

    def goto(self, next_step: Step[C, None], context: C, *, action: ActionSpec | None = None) -> None:
        """Chain to another step of this node as a separate operation (optionally becoming another action)."""

    def run(self, step: Step[C, R], data: C, result: R) -> None:
        """Run another step now, as part of this one (its changes land with this step's)."""

    def spawn(self, directive: str, *, action_id: str = "route", title: str | None = None,
              context_down: dict[str, Any] | None = None, needs: Sequence[str] = ()) -> str:
        """Create a child running ``action_id``; returns its id."""

    def spawn_plan(self, subtasks: Sequence[Subtask | str], *, action_id: str = "route") -> list[str]:
        """Spawn a plan's subtasks as children, in order; returns their ids."""

    def wait_children(self, next_step: Step[C, ChildrenResult], context: C) -> None:
        """Park until the termination policy hands every child's outcome to ``next_step``."""

    def update(self, **changes: Any) -> None:
        """Change node fields (context_up, title, ...) together with the step's other changes."""

    # ---- ending -------------------------------------------------------------------------------
    def complete(self, report: str, context_up: dict[str, Any] | None = None) -> None: ...

    def fail(self, reason: str) -> None: ...
