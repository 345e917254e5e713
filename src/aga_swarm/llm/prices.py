"""Model prices in USD per one million tokens, and the cost of one call.

The table is deliberately small: unknown models cost 0.0 (the spend limits then count tokens only).
Dated or suffixed model names ("gpt-4o-2024-08-06") match their family by the longest known prefix,
and a provider prefix ("openai/gpt-4o") is ignored.
"""

from __future__ import annotations

from typing import NamedTuple


class Price(NamedTuple):
    input_per_m: float
    output_per_m: float


PRICES: dict[str, Price] = {
    # OpenAI (list prices, standard tier)
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "o3-mini": Price(1.10, 4.40),
    "o4-mini": Price(1.10, 4.40),
    # Local / self-hosted models and the offline scripted model: free
    "scripted": Price(0.0, 0.0),
    "llama": Price(0.0, 0.0),
    "qwen": Price(0.0, 0.0),
    "mistral": Price(0.0, 0.0),
    "mixtral": Price(0.0, 0.0),
    "gemma": Price(0.0, 0.0),
    "phi": Price(0.0, 0.0),
    "deepseek": Price(0.0, 0.0),
    "gpt-oss": Price(0.0, 0.0),
}

# Longest first, so "gpt-4o-mini-2024-07-18" matches gpt-4o-mini rather than gpt-4o.
_PREFIXES: tuple[str, ...] = tuple(sorted(PRICES, key=len, reverse=True))


def price_for(model: str) -> Price | None:
    """The price entry for ``model`` (exact, else longest prefix), or None if unknown."""
    name = model.strip().lower().rsplit("/", 1)[-1]
    if name in PRICES:
        return PRICES[name]
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return PRICES[prefix]
    return None


def cost_usd(model: str, tokens_in: int, tokens_out: int) -> float:
    """USD cost of a call; 0.0 for unknown models."""
    price = price_for(model)
    if price is None:
        return 0.0
    return (max(tokens_in, 0) * price.input_per_m + max(tokens_out, 0) * price.output_per_m) / 1_000_000
