"""The registry: actions are sets of steps registered under names (never import paths), in an explicit object.
An engine is given its registry; a test makes a fresh one. A plugin adds its actions to the registry it is
handed::

    from pydantic import BaseModel
    from aga_swarm.sdk import ActionSpec, NoContext, Registry, StepContext, step

    class GreetCtx(BaseModel):
        name: str = "world"

    @step("greet.start", context=GreetCtx)
    def greet(ctx: StepContext, data: GreetCtx, result: None) -> None:
        ctx.complete(f"Hello, {data.name}!")

    def register(registry: Registry) -> None:
        registry.add_steps(greet)
        registry.register_action(ActionSpec(id="greet", description="Say hello", entry_step="greet.start"),
                                 folder="custom")

A termination policy (what a parent does when its children end) is a function registered under a name, as a
step is, and named by an action's ``ActionSpec.termination_policy`` (``aga_swarm.sdk.policies``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from pydantic import BaseModel

from ..schemas import ActionFolder, ActionSpace, ActionSpec
from .errors import UnknownPolicy, UnknownStep
from .policies import BUILTIN_POLICIES, PolicyFn, check_policy_name
from .steps import AnyStep, Step, StepContext
from .types import NoContext

C = TypeVar("C", bound=BaseModel)
M = TypeVar("M", bound=BaseModel)


class Registry:
    """Steps, actions (in a tree of folders: the action space), tools and termination policies, by name."""

    def __init__(self) -> None:
        self.steps: dict[str, AnyStep] = {}
        self.actions: dict[str, ActionSpec] = {}
        self.tools: dict[str, Any] = {}  # tool actions by action id (``actions/tools.py``)
        self.policies: dict[str, PolicyFn] = dict(BUILTIN_POLICIES)  # termination policies by name
        # how ``StepContext.llm(..., tools=...)`` runs a tool-using loop (``actions/toolloop.py``)
        self.tool_loop: Callable[..., None] | None = None
        self.space = ActionSpace(root=ActionFolder(id="actions", description="Everything this swarm can do"))
        self.plugins: set[str] = set()  # the plugins loaded onto this registry (``aga_swarm.plugins``)

    # ---- steps --------------------------------------------------------------------------------
    def add_steps(self, *steps: AnyStep) -> None:
        """Register steps declared with ``@step``; a name is registered once (the same step again is a no-op)."""
        for s in steps:
            known = self.steps.get(s.name)
            if known is not None and known.fn is not s.fn:
                raise ValueError(f"step {s.name!r} is already registered")
            self.steps[s.name] = s

    @overload
    def step(self, name: str) -> Callable[[Callable[[StepContext, NoContext, None], None]],
                                          Step[NoContext, None]]: ...

    @overload
    def step(self, name: str, *, context: type[C]) -> Callable[[Callable[[StepContext, C, None], None]],
                                                               Step[C, None]]: ...

    @overload
    def step(self, name: str, *, result: type[M]) -> Callable[[Callable[[StepContext, NoContext, M], None]],
                                                              Step[NoContext, M]]: ...

    @overload
    def step(self, name: str, *, context: type[C], result: type[M]) -> Callable[
            [Callable[[StepContext, C, M], None]], Step[C, M]]: ...

    def step(self, name: str, *, context: type[BaseModel] = NoContext,
             result: type[BaseModel] | None = None) -> Callable[[Callable[..., None]], AnyStep]:
        """``@step`` and ``add_steps`` at once: declare the function as a step and register it here."""

        def deco(fn: Callable[..., None]) -> AnyStep:
            declared: AnyStep = Step(name, fn, context, result)
            self.add_steps(declared)
            return declared

        return deco

    def get_step(self, name: str) -> AnyStep:
        try:
            return self.steps[name]
        except KeyError:
            raise UnknownStep(f"no step registered as {name!r}") from None

    # ---- termination policies -----------------------------------------------------------------
    def policy(self, name: str) -> Callable[[PolicyFn], PolicyFn]:
        """Register a termination policy ``fn(view) -> decision`` under ``name`` (``aga_swarm.sdk.policies``).
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

    # ---- actions and the action space ---------------------------------------------------------
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
