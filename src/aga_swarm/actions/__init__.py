"""Actions: the built-in plan, route, ask_user, do (with review as plan's last step), the memory tools
(memory.list, memory.read, memory.write, memory.search), the tool-using loop and the confirm policy's review.
Each module is written against ``aga_swarm.sdk`` only and adds its steps to the registry it is given."""

from __future__ import annotations

from ..sdk import Registry

BUILTINS = "aga_swarm.actions"  # how a registry records that it has the built-ins (``Registry.plugins``)


def register_builtins(reg: Registry) -> Registry:
    """Register the built-in actions on ``reg`` (once)."""
    if BUILTINS in reg.plugins:
        return reg
    from . import ask_user, confirm, do, plan, route, toolloop, tools

    for module in (plan, ask_user, do, route, tools, toolloop, confirm):
        module.register(reg)
    reg.plugins.add(BUILTINS)
    return reg


def builtin_registry() -> Registry:
    """A new registry with the built-in actions."""
    return register_builtins(Registry())


__all__ = ["BUILTINS", "builtin_registry", "register_builtins"]
