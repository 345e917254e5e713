"""Which actions an engine runs, composed above the engine: the built-in actions, the tools of the operator's
MCP servers and the plugins, on a registry of the engine's own. The engine itself imports no action; the
service, the CLI, the server and the tests open engines here."""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from ..actions import builtin_registry
from ..actions.tools import register_mcp_tools, replace_mcp_tools
from ..engine.engine import Engine
from ..sdk import Registry

if TYPE_CHECKING:
    from ..mcp.config import McpConfig


def mcp_config_from_env() -> McpConfig | None:
    """The operator's MCP config named by ``AGA_SWARM_MCP_CONFIG`` (the CLI's --mcp-config sets it)."""
    path = os.environ.get("AGA_SWARM_MCP_CONFIG")
    if not path:
        return None
    from ..mcp.config import load_mcp_config

    return load_mcp_config(path)


def default_registry(plugins: Iterable[str] = (), *, installed: bool = False) -> Registry:
    """A new registry with the built-in actions and the plugins: the installed ones (``installed``) and the
    modules named in ``plugins`` (``aga_swarm.plugins``; a failure raises ``PluginError``)."""
    reg = builtin_registry()
    plugins = list(plugins)
    if plugins or installed:
        from ..plugins import load_actions

        load_actions(plugins, registry=reg, installed=installed)
    return reg


def open_engine(*, registry: Registry | None = None, mcp_config: McpConfig | None = None,
                **engine_kwargs: Any) -> Engine:
    """An engine on ``registry`` (default: a new one with the built-ins), with the tools of the operator's MCP
    servers (``mcp_config``, default ``$AGA_SWARM_MCP_CONFIG``) added to it, each server a folder of the
    action space that is listed again when the server reports a change."""
    reg = registry if registry is not None else builtin_registry()
    config = mcp_config if mcp_config is not None else mcp_config_from_env()
    changed = None
    if config is not None and config.servers:
        from ..mcp.hub import list_all_tools

        register_mcp_tools(reg, list_all_tools(config), config)
        changed = partial(replace_mcp_tools, reg, config=config)
    return Engine(registry=reg, mcp_config=config, on_tools_changed=changed, **engine_kwargs)
