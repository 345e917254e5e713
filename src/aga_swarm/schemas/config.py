"""SwarmConfig: the shared blueprint many swarms point at (the design notes' single copy)."""

from __future__ import annotations

from pydantic import Field

from .common import Model
from .spaces import ActionSpace, MemorySpace


class LLMSettings(Model):
    """How to reach a model. The key is referenced by the *name* of an environment variable, never stored."""

    provider: str = Field(
        "scripted", description="'scripted' (offline, deterministic) or 'openai' (any OpenAI-compatible server)")
    model: str = "scripted-1"
    base_url: str | None = Field(None, description="OpenAI-compatible base URL, e.g. http://localhost:11434/v1")
    api_key_env: str | None = Field(None, description="Name of the environment variable holding the API key")
    temperature: float = 0.2
    timeout_s: float = 60.0
    max_retries: int = 3
    max_invalid_retries: int = 2
    max_tokens: int = Field(4096, ge=1, le=1_000_000,
                            description="Most output tokens one model call may produce (sent to the model); the "
                                        "token and cost limits count on it for each call's worst case")
    script_path: str | None = Field(None, description="Scripted model only: a YAML/JSON file fixing outputs per step")
    price_in_per_mtok: float | None = Field(None, ge=0, description="USD per million prompt tokens; required (with "
                                            "price_out_per_mtok) when the model has no known price")
    price_out_per_mtok: float | None = Field(None, ge=0, description="USD per million output tokens")


class Limits(Model):
    """Per-swarm bounds. Depth, nodes, model calls, tokens, cost and seconds are final: the node that reaches
    one fails, the rest of the swarm is cancelled, and the swarm fails with a reason naming the limit, its
    value and the node. Re-plans and follow-ups bound one node's work and are not final."""

    max_depth: int = Field(8, ge=1, description="Levels of the tree, the root's included (the root is level 1)")
    max_nodes: int = Field(20000, ge=1)
    max_replans: int = Field(2, ge=0)
    max_followups: int = Field(3, ge=0)
    max_tool_calls: int = Field(20, ge=0, description="Tool calls one node may make in a tool-using loop (do's "
                                "function calling); at the limit the model is told so and must answer")
    max_llm_calls: int = Field(50000, ge=0)
    max_tokens: int = Field(50_000_000, ge=0, description="Tokens in and out; a call starts only if its worst "
                                                           "case fits")
    max_cost_usd: float = Field(100.0, ge=0, description="A call starts only if its worst case fits")
    max_seconds: float | None = Field(None, gt=0, description="Wall-clock seconds the swarm may run, paused time "
                                                              "not counted; checked at each step")
    max_goal_chars: int = Field(100_000, ge=1)
    max_message_chars: int = Field(20_000, ge=1)


class SwarmConfig(Model):
    id: str
    name: str
    description: str = ""
    llm: LLMSettings = Field(default_factory=LLMSettings)
    limits: Limits = Field(default_factory=Limits)
    action_space: ActionSpace | None = Field(None, description="Extra folders/actions grafted onto the built-in space")
    memory_space: MemorySpace = Field(default_factory=lambda: MemorySpace(name="memory"))
    mcp_servers: list[str] | None = Field(None, description="Which of the operator's MCP servers this config's "
                                          "swarms may use, by name (None: all of them; []: none)")
    snapshot_every: int = Field(256, ge=1, description="Events between history snapshots")
    history_retention: int | None = Field(None, ge=1, description="Keep at most this many events; older are compacted")
