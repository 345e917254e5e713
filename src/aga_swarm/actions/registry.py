"""The action registry: actions are sets of typed steps registered under names (never import paths).

Public API for custom actions::

    from aga_swarm.actions import registry, ActionSpec, ActionType

    class GreetCtx(BaseModel):
        name: str = "world"

    @registry.step("greet.start", context=GreetCtx)
    def greet(ctx, data, result):
        ctx.complete(f"Hello, {data.name}!")

    registry.register_action(ActionSpec(id="greet", description="Say hello", entry_step="greet.start"),
                             folder="custom")

A termination policy (what a parent does when its children end) is a function registered under a name, as a
step is, and named by an action's ``ActionSpec.termination_policy``::

    from aga_swarm.engine.policies import ChildrenView, Decision, Finish, WAIT

    @registry.policy("two_done")
    def two_done(view: ChildrenView) -> Decision:
        done = view.done
        return Finish("; ".join(c.report or "" for c in done[:2])) if len(done) >= 2 else WAIT
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from ..engine.errors import MalformedContinuation, UnknownStep
from ..engine.policies import BUILTIN_POLICIES, PolicyFn, UnknownPolicy, check_policy_name
from ..schemas import ActionFolder, ActionSpace, ActionSpec

if TYPE_CHECKING:
    from ..engine.context import StepContext


class NoContext(BaseModel):
    """Context for steps that need none."""


StepFn = Callable[["StepContext", Any, Any], None]


@dataclass(frozen=True)
class StepDef:
    name: str
    fn: StepFn
    context: type[BaseModel]
    result: type[BaseModel] | None

    def load_context(self, raw: dict[str, Any]) -> BaseModel:
        try:
            return self.context.model_validate(raw)
        except ValidationError as exc:
            raise MalformedContinuation(f"stored context for step {self.name!r} is invalid: {exc}") from None

    def load_result(self, raw: dict[str, Any] | None) -> BaseModel | None:
        if self.result is None:
            return None
        try:
            return self.result.model_validate(raw or {})
        except ValidationError as exc:
            raise MalformedContinuation(f"stored result for step {self.name!r} is invalid: {exc}") from None


class Registry:
    def __init__(self) -> None:
        self.steps: dict[str, StepDef] = {}
        self.actions: dict[str, ActionSpec] = {}
        self.tools: dict[str, Any] = {}  # tool actions by action id (``actions/tools.py``)
        self.policies: dict[str, PolicyFn] = dict(BUILTIN_POLICIES)  # termination policies by name
        # how ``StepContext.llm(..., tools=...)`` runs a tool-using loop (``actions/toolloop.py``)
        self.tool_loop: Callable[..., None] | None = None
        self.space = ActionSpace(root=ActionFolder(id="actions", description="Everything this swarm can do"))

    def step(self, name: str, *, context: type[BaseModel] = NoContext,
             result: type[BaseModel] | None = None) -> Callable[[StepFn], StepFn]:
        """Register a step function ``fn(ctx, data, result)`` under ``name``."""

        def deco(fn: StepFn) -> StepFn:
            if name in self.steps and self.steps[name].fn is not fn:
                raise ValueError(f"step {name!r} is already registered")
            self.steps[name] = StepDef(name, fn, context, result)
            return fn

        return deco

    def get_step(self, name: str) -> StepDef:
        try:
            return self.steps[name]
        except KeyError:
            raise UnknownStep(f"no step registered as {name!r}") from None

    def policy(self, name: str) -> Callable[[PolicyFn], PolicyFn]:
        """Register a termination policy ``fn(view) -> decision`` under ``name`` (see ``engine/policies.py``).
        It runs inside the engine's transaction and must be deterministic: a function of the view only."""

        def deco(fn: PolicyFn) -> PolicyFn:
            check_policy_name(name)
            if name in BUILTIN_POLICIES:
                raise ValueError(f"{name!r} is a built-in termination policy; register yours under another name")
            if name in self.policies and self.policies[name] is not fn:
                raise ValueError(f"termination policy {name!r} is already registered")
            self.policies[name] = fn
            return fn

        return deco

    def get_policy(self, name: str) -> PolicyFn:
        try:
            return self.policies[name]
        except KeyError:
            raise UnknownPolicy(f"no termination policy registered as {name!r} (the plugin that registers it must "
                                "be loaded in every process that runs the swarm)") from None

    def register_action(self, spec: ActionSpec, *, folder: str | None = None,
                        folder_description: str = "") -> None:
        """Add an action; ``folder`` is a '/'-separated path under the root, created if missing. Its entry step
        and its termination policy must be registered first."""
        if spec.entry_step not in self.steps:
            raise UnknownStep(f"action {spec.id!r} names unregistered entry step {spec.entry_step!r}")
        if spec.termination_policy not in self.policies:
            raise UnknownPolicy(f"action {spec.id!r} names unregistered termination policy "
                                f"{spec.termination_policy!r} (register it first with registry.policy)")
        self.actions[spec.id] = spec
        target = self._folder(folder, folder_description)
        target.actions = [a for a in target.actions if a.id != spec.id] + [spec]

    def _folder(self, path: str | None, description: str) -> ActionFolder:
        current = self.space.root
        for part in (path or "").split("/"):
            if not part:
                continue
            found = next((f for f in current.folders if f.id == part), None)
            if found is None:
                found = ActionFolder(id=part, description=description or part)
                current.folders.append(found)
            current = found
        return current

    def get_action(self, action_id: str) -> ActionSpec:
        try:
            return self.actions[action_id]
        except KeyError:
            raise UnknownStep(f"no action registered as {action_id!r}") from None

    def mcp_servers(self) -> set[str]:
        """The MCP servers whose tools are registered (each one a folder of the space)."""
        return {t.remote[0] for t in self.tools.values() if getattr(t, "remote", None)}

    def space_for(self, extra: ActionSpace | None, mcp_servers: list[str] | None = None) -> ActionSpace:
        """The shared space, with a config's extra folders and actions grafted on (only registered ones), and
        without the folders of MCP servers the config does not pick (``mcp_servers``; None keeps all)."""
        hidden = self.mcp_servers() - set(mcp_servers) if mcp_servers is not None else set()
        if extra is None and not hidden:
            return self.space
        merged = self.space.model_copy(deep=True)
        merged.root.folders = [f for f in merged.root.folders if f.id not in hidden]
        if extra is None:
            return merged
        merged.root.folders.extend(f.model_copy(deep=True) for f in extra.root.folders)
        merged.root.actions.extend(a for a in extra.root.actions if a.id in self.actions)
        return merged


registry = Registry()
