"""Engine: the wiring of store, blob store, action registry, model clients and event listeners. It is given
its registry: which actions it runs is composed above it (``aga_swarm.service.composition``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from .. import tracing
from ..llm.protocol import LLMClient
from ..schemas import LLMSettings, SwarmConfig, SwarmEvent
from ..sdk.registry import Registry
from ..store import tables as t
from ..store.blob import BlobStore, open_blob_store
from ..store.database import Database, default_data_dir, sqlite_url
from ..store.payloads import RequestStore
from .context import Services
from .errors import ConfigNotFound
from .executor import Executor
from .stats import EngineStats

if TYPE_CHECKING:
    from ..mcp.config import McpConfig
    from ..mcp.hub import McpHub, McpTool

ToolsChanged = Callable[[str, "list[McpTool]"], None]
"""Called with (server, its tools) when an MCP server reports a changed tool list."""

log = logging.getLogger("aga_swarm.engine")

EventListener = Callable[[str, list[SwarmEvent]], None]
"""Called after commit with (owner_id, events). Must not block."""

BUILTIN_CONFIGS: dict[str, SwarmConfig] = {
    "local": SwarmConfig(id="local", name="Local (scripted offline model)",
                         description="Deterministic offline model; works with no API key."),
}


def _openai_config() -> SwarmConfig | None:
    import os

    if not os.environ.get("OPENAI_API_KEY"):
        return None
    from ..schemas import LLMSettings

    def price(name: str) -> float | None:  # for a model the price table does not know (else spawn refuses it)
        value = os.environ.get(name, "").strip()
        return float(value) if value else None

    return SwarmConfig(id="openai", name="OpenAI (gpt-4o-mini)",
                       llm=LLMSettings(provider="openai", model=os.environ.get("AGA_SWARM_MODEL", "gpt-4o-mini"),
                                       api_key_env="OPENAI_API_KEY",
                                       base_url=os.environ.get("OPENAI_BASE_URL"),
                                       price_in_per_mtok=price("AGA_SWARM_PRICE_IN_PER_MTOK"),
                                       price_out_per_mtok=price("AGA_SWARM_PRICE_OUT_PER_MTOK")))


class Engine:
    def __init__(self, *, db_url: str | None = None, blob_url: str | None = None, data_dir: Path | None = None,
                 registry: Registry, llm_factory: Callable[[SwarmConfig], LLMClient] | None = None,
                 migrate: bool | None = None, pool_size: int | None = None,
                 max_overflow: int | None = None, mcp_config: McpConfig | None = None,
                 on_tools_changed: ToolsChanged | None = None, inline_bytes: int | None = None,
                 compress_bytes: int | None = None) -> None:
        if db_url is None or blob_url is None:
            data_dir = Path(data_dir or default_data_dir())
            data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        # the blob store first: a bad URL fails before any database connection is opened
        self.blobs: BlobStore = open_blob_store(blob_url or str((data_dir or default_data_dir()) / "blobs"))
        self.db = Database(db_url or sqlite_url(data_dir or default_data_dir()), migrate=migrate,
                           pool_size=pool_size, max_overflow=max_overflow, compress_bytes=compress_bytes)
        self.registry = registry
        self.requests = RequestStore(self.blobs, inline_bytes)  # model requests, stored once (store/payloads.py)
        self.services = Services(registry=registry, blobs=self.blobs, requests=self.requests)
        self._llm_factory = llm_factory
        self._clients: dict[str, LLMClient] = {}  # by the LLM settings (configs of several owners may share one)
        # by the identity of a config's settings (configs are cached and never changed in place), before the JSON key
        self._client_of: dict[int, tuple[LLMSettings, LLMClient]] = {}
        self._configs: dict[str, SwarmConfig] = dict(BUILTIN_CONFIGS)
        self._owned: dict[tuple[str, str], SwarmConfig] = {}  # (owner, id) -> a stored config
        openai_cfg = _openai_config()
        if openai_cfg is not None:
            self._configs["openai"] = openai_cfg
        self.listeners: list[EventListener] = []
        self.stats = EngineStats()  # counters for metrics (``aga_swarm.metrics`` exports them)
        self.executor = Executor(db=self.db, blobs=self.blobs, requests=self.requests, registry=registry,
                                 services=self.services,
                                 config_for=self.config_for, llm_for=self.llm_for, stats=self.stats,
                                 publish=self.publish, mcp_hub=self.mcp_hub)
        self.mcp_config = mcp_config  # the operator's MCP servers (their tools are in ``registry`` already)
        self.on_tools_changed = on_tools_changed
        self._mcp_hub: McpHub | None = None

    def mcp_hub(self) -> McpHub:
        """The connections to the operator's MCP servers, made on first use (on the loop that runs the calls)."""
        from ..mcp.hub import McpCallError, McpHub

        if self.mcp_config is None:
            raise McpCallError("no MCP servers are configured (--mcp-config or AGA_SWARM_MCP_CONFIG)")
        if self._mcp_hub is None:
            self._mcp_hub = McpHub(self.mcp_config)
            if self.on_tools_changed is not None:  # its folder of the action space is listed again
                self._mcp_hub.on_tools_changed = self.on_tools_changed
        return self._mcp_hub

    # ---- configs and clients -----------------------------------------------------------------
    def config_for(self, config_id: str, owner_id: str) -> SwarmConfig:
        """The config ``owner_id`` means by ``config_id``: a built-in one, their own, or one the operator
        shares (in that order); ConfigNotFound for anyone else's."""
        cfg = self._configs.get(config_id)
        if cfg is not None:
            return cfg
        for owner in (owner_id, t.SHARED_CONFIG_OWNER):
            cached = self._owned.get((owner, config_id))
            if cached is not None:
                return cached
        with self.db.read() as conn:
            rows = conn.execute(select(t.configs.c.owner_id, t.configs.c.data).where(
                t.configs.c.id == config_id, t.configs.c.owner_id.in_([owner_id, t.SHARED_CONFIG_OWNER]))).all()
        if not rows:
            raise ConfigNotFound(config_id)
        row = min(rows, key=lambda r: r.owner_id != owner_id)  # the owner's own first
        cfg = SwarmConfig.model_validate(row.data)
        if len(self._owned) > 10_000:
            self._owned.clear()
        self._owned[(str(row.owner_id), config_id)] = cfg
        return cfg

    def forget_config(self, owner_id: str, config_id: str) -> None:
        self._owned.pop((owner_id, config_id), None)

    def builtin_configs(self) -> list[SwarmConfig]:
        return [c for k, c in self._configs.items() if k in BUILTIN_CONFIGS or k == "openai"]

    def llm_for(self, config: SwarmConfig) -> LLMClient:
        settings = config.llm
        known = self._client_of.get(id(settings))
        if known is not None and known[0] is settings:  # the same (cached) config's settings: no JSON to make
            return known[1]
        key = settings.model_dump_json()
        client = self._clients.get(key)
        if client is None:
            if self._llm_factory is not None:
                client = self._llm_factory(config)
            else:
                from ..llm.factory import make_client

                client = make_client(config.llm)
            if tracing.ON:
                client = tracing.TracedModel(client)
            self._clients[key] = client
        if len(self._client_of) > 1_000:
            self._client_of.clear()
        self._client_of[id(settings)] = (settings, client)  # held: its id is not reused while it is here
        return client

    def forget_clients(self) -> None:
        """Drop the cached model clients: an async HTTP client works only on the event loop it first ran on,
        so a runner moving to a new loop makes new ones."""
        self._clients.clear()
        self._client_of.clear()

    # ---- events ------------------------------------------------------------------------------
    def publish(self, owner_id: str, events: list[SwarmEvent]) -> None:
        if not events:
            return
        for listener in list(self.listeners):
            try:
                listener(owner_id, events)
            except Exception:  # a broken listener must not break the engine
                log.exception("event listener failed")

    def dispose(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.dispose()
