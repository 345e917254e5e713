"""The model client protocol the engine calls. Implementations: scripted (offline) and OpenAI-compatible."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, Field

from ..schemas import Attachment, PromptMessage


class LLMRequest(BaseModel):
    """One structured call. ``purpose`` and ``facts`` let the scripted model answer without parsing prose;
    real models see only ``messages`` and the JSON schema of ``output_schema``."""

    purpose: str = Field(description="Registered step asking, e.g. 'plan.decompose'")
    messages: list[PromptMessage]
    output_schema: dict[str, Any] = Field(description="JSON schema the output must satisfy")
    schema_name: str = "output"
    facts: dict[str, Any] = Field(default_factory=dict)
    images: list[Attachment] = Field(default_factory=list, description="Images the call receives (the node's "
                                     "attachments), by memory path and seq; the last user message carries them")
    image_data: list[str] = Field(default_factory=list, exclude=True, description="Their bytes as data URLs, "
                                  "filled in when the call is made (never stored)")
    tools: list[dict[str, Any]] | None = Field(
        None, description="A turn of a tool-using loop: the functions the model may call (each {name, "
        "description, parameters}; [] on the last turn, when no more calls are allowed). None: a plain call")


class LLMResponse(BaseModel):
    model: str
    raw_output: str
    parsed: dict[str, Any]
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0
    cost_usd: float = 0.0
    attempts: int = 1
    tool_calls: list[dict[str, Any]] = Field(
        default_factory=list, description="The calls the model asked for ({id, name, arguments: JSON text}); "
        "for a turn of a tool-using loop, ``parsed`` is then {}")


def loop_turn(response: LLMResponse) -> dict[str, Any]:
    """What a tool-using loop's step receives from a turn (``actions.toolloop.ModelTurn``): the calls asked
    for, or the final output (``parsed``), and the text the model wrote besides."""
    if response.tool_calls:
        return {"tool_calls": response.tool_calls, "output": None, "content": response.raw_output or ""}
    return {"tool_calls": [], "output": response.parsed, "content": ""}


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {k: _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def without_nul(response: LLMResponse) -> LLMResponse:
    """The response with NUL characters dropped from its text. PostgreSQL's text columns refuse them (SQLite
    keeps them), so a model answering one failed its node on PostgreSQL alone; no answer needs one."""
    if not (_has_nul(response.raw_output) or _has_nul(response.parsed) or _has_nul(response.tool_calls)):
        return response
    return response.model_copy(update={"raw_output": _without_nul(response.raw_output),
                                       "parsed": _without_nul(response.parsed),
                                       "tool_calls": _without_nul(response.tool_calls)})


class LLMError(Exception):
    """A model call failed for good (after retries): bad output, auth, unreachable server."""

    def __init__(self, message: str, *, raw_output: str | None = None, attempts: int = 1, tokens_in: int = 0,
                 tokens_out: int = 0) -> None:
        super().__init__(message)
        self.raw_output = raw_output
        self.attempts = attempts
        self.tokens_in = tokens_in  # what the provider reported for the attempts that failed: they are paid
        self.tokens_out = tokens_out


class TransientLLMError(LLMError):
    """A failure worth retrying later at the operation level (timeout, rate limit, 5xx)."""


class LLMClient(Protocol):
    model: str

    async def complete(self, request: LLMRequest, output_model: type[BaseModel]) -> LLMResponse:
        """Return a response whose ``parsed`` validates against ``output_model``, or raise LLMError."""
        ...
