"""The swarm's final limits, checked before the work that would pass them (see ``Limits``).

A model call is checked against its worst case: every attempt the client may make (structured output that
does not validate is asked again, with the reply and the error appended), each with the whole prompt counted at
one token per UTF-8 byte (a byte-level tokenizer never does worse) and ``max_tokens`` out. Spend can then
never pass the limit, whatever the model answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..llm.prices import price_of
from ..schemas import Limits, LLMSettings, SwarmState
from .errors import LimitExceeded
from .fold import run_ms

PER_MESSAGE_TOKENS = 8  # role and framing of one chat message
PER_CALL_TOKENS = 16
RETRY_NOTE_TOKENS = 2048  # the validation error a re-ask appends (bounded by the client)


# The final limits, by the words a failure reason names them with (``LimitExceeded``), and their ``Limits`` field.
FINAL_LIMITS = {"depth limit": "max_depth", "node limit": "max_nodes", "model call limit": "max_llm_calls",
                "token limit": "max_tokens", "cost limit": "max_cost_usd", "time limit": "max_seconds"}
_BREACH = re.compile(r"(?P<limit>(?P<words>" + "|".join(FINAL_LIMITS) + r") \$?(?P<value>[0-9]+(?:\.[0-9]+)?)"
                     r"(?: s)?) reached at node (?P<node>\S+)")


def _plain(value: float) -> str:
    """A number in full, with no exponent and no trailing zeros (``0.004``, ``90``, ``1000000``)."""
    return format(value, "f").rstrip("0").rstrip(".")


def named(field: str, value: float) -> str:
    """A limit as failure reasons name it: ``depth limit 8``, ``cost limit $5.00``, ``time limit 30 s``. The
    value is written in full (a cost below the cent too), so ``breach_of`` reads back the value that was hit."""
    words = next(w for w, f in FINAL_LIMITS.items() if f == field)
    if field == "max_cost_usd":
        return f"{words} ${value:.2f}" if round(value, 2) == value else f"{words} ${_plain(value)}"
    if field == "max_seconds":
        return f"{words} {_plain(value)} s"
    return f"{words} {int(value)}"


@dataclass(frozen=True)
class Breach:
    """The final limit a swarm stopped on, read back from its failure reason."""

    field: str  # the ``Limits`` field, e.g. ``max_depth``
    value: float  # the value that was reached
    limit: str  # as the reason names it: ``depth limit 8``
    node_id: str

    def binds(self, limits: Limits) -> bool:
        """Whether ``limits`` (the swarm's config now) still hold this limit where it stopped the swarm, so
        that a retry would meet it again at once. Raised above the value reached (or removed) it no longer
        binds."""
        now: float | None = getattr(limits, self.field)
        return now is not None and now <= self.value


def breach_of(reason: str | None) -> Breach | None:
    """The final limit a failure reason names (``<limit> <value> reached at node <id>``), or None."""
    m = _BREACH.match(reason or "")
    if m is None:
        return None
    return Breach(FINAL_LIMITS[m["words"]], float(m["value"]), m["limit"], m["node"])


def worst_case_tokens(settings: LLMSettings, messages: list[dict[str, Any]], schema_json: str) -> tuple[int, int]:
    """(tokens in, tokens out) one model call may spend at most, over every attempt the client makes."""
    prompt = (sum(len(str(m.get("content", "")).encode()) + PER_MESSAGE_TOKENS for m in messages)
              + len(schema_json.encode()) + PER_CALL_TOKENS)
    attempts = 1 if settings.provider == "scripted" else 1 + max(settings.max_invalid_retries, 0)
    out = settings.max_tokens
    tokens_in = sum(prompt + k * (out + RETRY_NOTE_TOKENS) for k in range(attempts))
    return tokens_in, attempts * out


def check_call(state: SwarmState, limits: Limits, settings: LLMSettings, node_id: str,
               worst: tuple[int, int]) -> dict[str, Any]:
    """Refuse a model call that could pass the call, token or cost limit, counting what was spent and the
    worst case of the calls still under way (their reservations); else return this call's reservation, which
    its continuation holds until the call is recorded (``fold.reserve``)."""
    u = state.usage
    calls = u.llm_calls + u.reserved_calls
    if calls + 1 > limits.max_llm_calls:
        raise LimitExceeded(named("max_llm_calls", limits.max_llm_calls), node_id,
                            f"{u.llm_calls} calls made, {u.reserved_calls} under way")
    used = u.tokens_in + u.tokens_out + u.reserved_tokens
    worst_tokens = worst[0] + worst[1]
    if used + worst_tokens > limits.max_tokens:
        raise LimitExceeded(named("max_tokens", limits.max_tokens), node_id,
                            f"{u.tokens_in + u.tokens_out} used, {u.reserved_tokens} reserved by calls under "
                            f"way; the next call could use up to {worst_tokens}")
    price = price_of(settings)
    worst_cost = 0.0
    if price is not None:
        worst_cost = round((worst[0] * price.input_per_m + worst[1] * price.output_per_m) / 1_000_000, 9)
        if u.cost_usd + u.reserved_cost_usd + worst_cost > limits.max_cost_usd:
            raise LimitExceeded(named("max_cost_usd", limits.max_cost_usd), node_id,
                                f"${u.cost_usd:.4f} spent, ${u.reserved_cost_usd:.4f} reserved by calls under "
                                f"way; the next call could cost up to ${worst_cost:.4f}")
    return {"calls": 1, "tokens": worst_tokens, "cost_usd": worst_cost}


def check_time(state: SwarmState, limits: Limits, node_id: str, now: datetime) -> None:
    """Refuse to run a step once the swarm has run ``max_seconds`` (paused time not counted)."""
    if limits.max_seconds is None:
        return
    ran = run_ms(state, now) / 1000
    if ran >= limits.max_seconds:
        raise LimitExceeded(named("max_seconds", limits.max_seconds), node_id, f"ran {ran:.1f} s")


def check_spawn(state: SwarmState, limits: Limits, parent_id: str, parent_depth: int) -> None:
    """Refuse a child past the depth limit (levels, the root's included) or the node limit."""
    if parent_depth + 2 > limits.max_depth:
        raise LimitExceeded(named("max_depth", limits.max_depth), parent_id)
    if state.usage.nodes >= limits.max_nodes:
        raise LimitExceeded(named("max_nodes", limits.max_nodes), parent_id)
