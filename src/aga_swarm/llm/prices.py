"""Model prices in USD per one million tokens, and the cost of one call.

The table is deliberately small. A config whose model is not in it must give its price
(``price_in_per_mtok`` and ``price_out_per_mtok``), or it is refused (``require_price``): there is no silent
$0. Dated or suffixed model names ("gpt-4o-2024-08-06") match their family by the longest known prefix,
and a provider prefix ("openai/gpt-4o") is ignored. The scripted offline model is free.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ..schemas.config import LLMSettings


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
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
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


def price_of(settings: LLMSettings) -> Price | None:
    """The price a config's model is charged at: its own, else the table's (the scripted model is free)."""
    if settings.price_in_per_mtok is not None and settings.price_out_per_mtok is not None:
        return Price(settings.price_in_per_mtok, settings.price_out_per_mtok)
    if settings.provider.strip().lower() == "scripted":
        return Price(0.0, 0.0)
    return price_for(settings.model)


class UnknownPrice(ValueError):
    """The config's model has no known price and the config gives none."""


def require_price(settings: LLMSettings, config_id: str) -> Price:
    """The config's price, or UnknownPrice with what to set."""
    if (settings.price_in_per_mtok is None) != (settings.price_out_per_mtok is None):
        raise UnknownPrice(f"config {config_id!r} gives only one of llm.price_in_per_mtok and "
                           "llm.price_out_per_mtok; give both (USD per million tokens)")
    price = price_of(settings)
    if price is None:
        raise UnknownPrice(f"config {config_id!r}: model {settings.model!r} has no known price; set "
                           "llm.price_in_per_mtok and llm.price_out_per_mtok (USD per million tokens), so that "
                           "spend is counted and max_cost_usd holds")
    return price


def price_cost(price: Price, tokens_in: int, tokens_out: int) -> float:
    return (max(tokens_in, 0) * price.input_per_m + max(tokens_out, 0) * price.output_per_m) / 1_000_000


def cost_usd(model: str, tokens_in: int, tokens_out: int) -> float:
    """USD cost of a call at the table's price; 0.0 for unknown models (see ``price_of`` for a config's)."""
    price = price_for(model)
    if price is None:
        return 0.0
    return price_cost(price, tokens_in, tokens_out)
