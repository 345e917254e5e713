"""Custom actions from plugins: installed packages' ``aga_swarm.actions`` entry points, modules named with
``--actions`` (on ``run``, ``serve`` and ``worker``) or in ``$AGA_SWARM_ACTIONS`` (comma-separated).

An entry point or ``--actions`` value names a module whose ``register(registry)`` function adds its actions (as
docs/custom-actions.md shows), or a callable in one that takes the registry (``my_pkg.actions:register``). A
plugin that fails to load stops the command with one line naming it. Plugins load onto the registry they are
given (``Registry.plugins`` records which), never onto a shared one.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any

from .sdk import Registry

ENTRY_POINT_GROUP = "aga_swarm.actions"
ENV_VAR = "AGA_SWARM_ACTIONS"


class PluginError(Exception):
    """A plugin could not be loaded; the message is one line naming it."""


def modules_from_env(environ: Mapping[str, str] | None = None) -> list[str]:
    raw = (os.environ if environ is None else environ).get(ENV_VAR, "")
    return [name.strip() for name in raw.split(",") if name.strip()]


def load_actions(modules: Iterable[str] = (), *, registry: Registry, installed: bool = True) -> list[str]:
    """Load the installed plugins (unless ``installed`` is false), then each module in ``modules``, onto
    ``registry``. Returns what was loaded, as named."""
    reg = registry
    done = reg.plugins  # each plugin loads once per registry, however often it is named
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name) if installed else []
    plugins: list[tuple[str, Callable[[], Any]]] = [(ep.value, partial(_load_entry_point, ep)) for ep in found]
    plugins += [(name, partial(_import, name)) for name in modules]
    loaded: list[str] = []
    for name, load in plugins:
        if name in loaded:
            continue
        if name not in done:
            _apply(load(), reg, name)
            done.add(name)
        loaded.append(name)
    return loaded


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _load_entry_point(ep: EntryPoint) -> Any:
    dist = ep.dist.name if ep.dist is not None else "an installed package"
    try:
        return ep.load()
    except Exception as exc:
        raise PluginError(f"cannot load actions from {ep.value!r} (entry point {ep.name!r} of {dist}): "
                          f"{_first_line(exc)}") from exc


def _import(name: str) -> Any:
    """``pkg.module``, or ``pkg.module:register`` for a callable in it (as in an entry point)."""
    module_name, _, attr = name.partition(":")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr) if attr else module
    except Exception as exc:
        raise PluginError(f"cannot load actions from module {name!r}: {_first_line(exc)}") from exc


def _apply(target: Any, reg: Registry, name: str) -> None:
    """A module's ``register`` function, or the callable named, adds the plugin's actions to ``reg``."""
    if isinstance(target, ModuleType):
        target = getattr(target, "register", None)
        if not callable(target):
            raise PluginError(f"cannot load actions from module {name!r}: it has no register(registry) function")
    elif not callable(target):
        raise PluginError(f"cannot load actions from {name!r}: it is not a function that takes the registry")
    try:
        target(reg)
    except Exception as exc:
        raise PluginError(f"cannot load actions from {name!r}: {_first_line(exc)}") from exc
