"""Actions: the registry, and the built-in plan, route, ask_user, do (with review as plan's last step), the
memory tools (memory.list, memory.read, memory.write, memory.search) and the confirm policy's review."""

from __future__ import annotations

from ..schemas import ActionFolder, ActionSpace, ActionSpec, ActionType, TerminationPolicy
from .registry import NoContext, Registry, StepDef, registry

_registered: set[int] = set()


def register_builtins(reg: Registry) -> Registry:
    """Register the built-in actions on ``reg`` (once)."""
    if id(reg) in _registered:
        return reg
    from . import ask_user, confirm, do, plan, route, toolloop, tools

    for module in (plan, ask_user, do, route, tools, toolloop, confirm):
        module.register(reg)
    _registered.add(id(reg))
    return reg


def builtin_registry() -> Registry:
    """The shared registry with the built-ins; custom actions registered on ``registry`` appear here too."""
    return register_builtins(registry)


__all__ = [
    "ActionFolder",
    "ActionSpace",
    "ActionSpec",
    "ActionType",
    "NoContext",
    "Registry",
    "StepDef",
    "TerminationPolicy",
    "builtin_registry",
    "register_builtins",
    "registry",
]
