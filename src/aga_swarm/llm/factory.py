"""Pick the LLMClient for an LLMSettings."""

from __future__ import annotations

from ..schemas.config import LLMSettings
from .protocol import LLMClient, LLMError

# Providers that speak the OpenAI chat-completions protocol; all use OpenAIClient with their base_url.
OPENAI_COMPATIBLE: frozenset[str] = frozenset(
    {"openai", "azure", "ollama", "vllm", "llamacpp", "llama.cpp", "llama-cpp", "openai-compatible"}
)
PROVIDERS: tuple[str, ...] = ("scripted", *sorted(OPENAI_COMPATIBLE))


def make_client(settings: LLMSettings) -> LLMClient:
    """Build the client for ``settings.provider``; raises LLMError for an unknown provider or missing key."""
    provider = (settings.provider or "").strip().lower()
    if provider == "scripted":
        from .scripted import ScriptedModel

        scripted: LLMClient = ScriptedModel(settings)
        return scripted
    if provider in OPENAI_COMPATIBLE:
        from .openai_client import OpenAIClient

        return OpenAIClient(settings)
    raise LLMError(
        f"unknown LLM provider {settings.provider!r}; expected one of: {', '.join(PROVIDERS)}"
    )
