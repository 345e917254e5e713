"""The action space as people see it: every folder and action of a swarm's space, each action described (where it
comes from, what input it takes, its approval policy when it calls a tool).

Built from the registry the engine routes with, so the view and the routing never disagree. Of an MCP tool only
the server's name is shown: the operator's command, URL, headers and environment stay on the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..schemas import (
    ActionFolder,
    ActionFolderInfo,
    ActionInfo,
    ActionOrigin,
    ActionSpec,
    SwarmActionSpace,
    SwarmConfig,
)
from ..sdk import Registry

if TYPE_CHECKING:
    from ..mcp.config import McpConfig

BUILT_IN_MODULE = "aga_swarm.actions."


def describe_space(reg: Registry, config: SwarmConfig, swarm_id: str,
                   mcp_config: McpConfig | None = None) -> SwarmActionSpace:
    """The space ``config``'s swarms route down, with the MCP servers it does not pick left out."""
    allowed: list[str] | None = getattr(config, "mcp_servers", None)  # a config field the MCP work adds
    root = _folder(reg, reg.space_for(config.action_space).root, "", _Picks(allowed, mcp_config))
    return SwarmActionSpace(swarm_id=swarm_id, config_id=config.id,
                            root=root or ActionFolderInfo(id="actions", path="", description=""))


def _folder(reg: Registry, folder: ActionFolder, path: str, picks: _Picks) -> ActionFolderInfo | None:
    actions = [info for a in folder.actions if (info := describe_action(reg, a, picks)) is not None]
    folders = [f for sub in folder.folders
               if (f := _folder(reg, sub, f"{path}/{sub.id}" if path else sub.id, picks)) is not None]
    if path and not actions and not folders and _only_hidden_tools(reg, folder, picks):
        return None  # a folder of an MCP server this config does not pick
    return ActionFolderInfo(id=folder.id, path=path, description=folder.description, folders=folders,
                            actions=actions)


def _only_hidden_tools(reg: Registry, folder: ActionFolder, picks: _Picks) -> bool:
    return bool(folder.actions) and all(describe_action(reg, a, picks) is None for a in folder.actions)


class _Picks:
    """What the swarm's config and the operator's MCP config say about tools."""

    def __init__(self, allowed: list[str] | None = None, mcp_config: McpConfig | None = None) -> None:
        self.allowed = allowed
        self.mcp_config = mcp_config

    def hides(self, server: str) -> bool:
        return self.allowed is not None and server not in self.allowed

    def policy(self, server: str, tool: str, read_only: bool) -> str:
        """The operator's policy for the tool (per tool, else '*'), else ``ask`` unless it is read-only."""
        cfg = self.mcp_config.servers.get(server) if self.mcp_config is not None else None
        chosen = (cfg.policy.get(tool) or cfg.policy.get("*")) if cfg is not None else None
        return chosen or ("auto" if read_only else "ask")


def approval_policy(reg: Registry, config: SwarmConfig, tool_id: str,
                    mcp_config: McpConfig | None = None) -> str | None:
    """The approval policy (``auto``, ``ask`` or ``deny``) of the tool ``tool_id`` in the space of ``config``'s
    swarms, or None when it has no such tool: neither a built-in one (the memory tools) or a plugin's, nor a tool
    of an MCP server that the operator declares and the config picks. A declared server whose tools could not be
    listed (it did not start) is taken at its word: any tool name of it is accepted, with the policy the
    operator's config gives it (``ask`` when it names none)."""
    picks = _Picks(getattr(config, "mcp_servers", None), mcp_config)
    tool = reg.tools.get(tool_id)
    if tool is not None:
        remote: tuple[str, str] | None = tool.remote
        return None if remote is not None and picks.hides(remote[0]) else str(tool.policy)
    server, _, name = tool_id.partition(".")
    if mcp_config is None or server not in mcp_config.servers or picks.hides(server):
        return None
    if any(getattr(t, "remote", None) and t.remote[0] == server for t in reg.tools.values()):
        return None  # the server's tools were listed, and this is not one of them
    return picks.policy(server, name, read_only=False)


def tool_ids(reg: Registry, config: SwarmConfig, mcp_config: McpConfig | None = None) -> list[str]:
    """Every tool of ``config``'s swarms, by id (``approval_policy`` knows each), sorted."""
    return sorted(i for i in reg.tools if approval_policy(reg, config, i, mcp_config) is not None)


def describe_action(reg: Registry, spec: ActionSpec, picks: _Picks | None = None) -> ActionInfo | None:
    """One action described, or None for an MCP server's tool the config does not allow."""
    tool = reg.tools.get(spec.id)
    base: dict[str, Any] = {"id": spec.id, "description": spec.description, "action_type": spec.action_type,
                            "routable": spec.routable, "termination_policy": spec.termination_policy}
    if tool is not None:
        remote: tuple[str, str] | None = tool.remote
        picks = picks or _Picks()
        if remote is not None and picks.hides(remote[0]):
            return None
        read_only = bool(tool.read_only)
        policy = picks.policy(remote[0], remote[1], read_only) if remote is not None else "auto"
        return ActionInfo(**base, origin=ActionOrigin.MCP if remote is not None else ActionOrigin.TOOL,
                          input_schema=tool.schema, approval=policy, read_only=read_only,
                          idempotent=bool(tool.idempotent) if remote is not None else None,
                          server=remote[0] if remote is not None else None)
    step = reg.steps.get(spec.entry_step)
    module = getattr(step.fn, "__module__", "") if step is not None else ""
    origin = ActionOrigin.BUILT_IN if module.startswith(BUILT_IN_MODULE) else ActionOrigin.CUSTOM
    schema: dict[str, Any] | None = None
    if step is not None and origin is ActionOrigin.CUSTOM:
        found = step.context.model_json_schema()
        schema = found if found.get("properties") else None
    return ActionInfo(**base, origin=origin, input_schema=schema)
