"""The operator's MCP config, in the shape MCP clients share:

```json
{"mcpServers": {
  "fs":   {"command": "npx", "args": ["@modelcontextprotocol/server-filesystem", "/srv/share"], "env": {}},
  "docs": {"url": "https://example.org/mcp", "headers": {"Authorization": "Bearer ${DOCS_TOKEN}"}}
}}
```

JSON or YAML (``load_mcp_config``), named by ``--mcp-config FILE`` on ``run``, ``serve`` and ``worker`` or by
``$AGA_SWARM_MCP_CONFIG`` (see docs/tools.md).
Extra keys per server (ours, optional):
``timeout`` (seconds a call may take, default 60), ``start_timeout`` (seconds to start, default 60),
``idempotent`` (tool names safe to repeat after a crash) and ``policy`` (``auto``/``ask``/``deny`` per tool).
``${NAME}`` in ``env`` and ``headers`` values is read from the environment when the server starts, so secrets
stay out of the file and out of the store.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_TIMEOUT_S = 60.0
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

Policy = Literal["auto", "ask", "deny"]


class McpConfigError(ValueError):
    """The operator's MCP config cannot be used; the message names the file and the problem."""


class McpServerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(DEFAULT_TIMEOUT_S, gt=0, le=3600, description="Seconds a call (or listing) may take")
    start_timeout: float = Field(60.0, gt=0, le=3600, description="Seconds the server may take to start")
    idempotent: list[str] = Field(default_factory=list, description="Tools safe to call again after a crash")
    policy: dict[str, Policy] = Field(default_factory=dict, description="Per tool (or '*'): auto, ask or deny")

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError("give either `command` (a stdio server) or `url` (a streamable-HTTP server)")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError("`url` must be http:// or https://")
        return self

    @property
    def transport(self) -> Literal["stdio", "http"]:
        return "stdio" if self.command is not None else "http"

    def resolved_env(self) -> dict[str, str]:
        return {k: expand(v) for k, v in self.env.items()}

    def resolved_headers(self) -> dict[str, str]:
        return {k: expand(v) for k, v in self.headers.items()}


class McpConfig(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    servers: dict[str, McpServerConfig] = Field(default_factory=dict, alias="mcpServers")

    @model_validator(mode="after")
    def _names(self) -> McpConfig:
        for name in self.servers:
            if not _NAME.match(name):
                raise ValueError(f"server name {name!r}: use letters, digits, '_' or '-' (it names a folder of "
                                 "the action space)")
        return self


def expand(value: str) -> str:
    """``${NAME}`` replaced by the environment's value (a missing variable is an error, never an empty secret)."""
    def sub(m: re.Match[str]) -> str:
        found = os.environ.get(m.group(1))
        if found is None:
            raise McpConfigError(f"environment variable {m.group(1)} is not set")
        return found
    return _VAR.sub(sub, value)


def load_mcp_config(path: str | Path) -> McpConfig:
    """Read and check the file; every problem is one McpConfigError naming the file."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise McpConfigError(f"MCP config {p}: cannot read it ({exc.strerror or exc})") from None
    try:
        if p.suffix in (".yaml", ".yml"):
            import yaml

            data: Any = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as exc:
        raise McpConfigError(f"MCP config {p}: not valid {'YAML' if p.suffix in ('.yaml', '.yml') else 'JSON'} "
                             f"({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict) or "mcpServers" not in data:
        raise McpConfigError(f'MCP config {p}: expected an object with "mcpServers"')
    try:
        return McpConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise McpConfigError(f"MCP config {p}: {where}: {err['msg']}") from None
