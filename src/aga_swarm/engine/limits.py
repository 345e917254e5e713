"""The swarm's final limits, checked before the work that would pass them (see ``Limits``).

A model call is checked against its worst case: every attempt the client may make (structured output that
does not validate is asked again, with the reply and the error appended), each with the whole prompt counted at
one token per UTF-8 byte (a byte-level tokenizer never does worse) and ``max_tokens`` out. Spend can then
never pass the limit, whatever the model answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..llm.prices import price_of
from ..schemas import Limits, LLMSettings, SwarmState
from .errors import LimitExceeded
from .fold import run_ms

PER_MESSAGE_TOKENS = 8  # role and framing of one chat message
PER_CALL_TOKENS = 16
RETRY_NOTE_TOKENS = 2048  # the validation error a re-ask appends (bounded by the client)


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
        raise LimitExceeded(f"model call limit {limits.max_llm_calls}", node_id,
                            f"{u.llm_calls} calls made, {u.reserved_calls} under way")
    used = u.tokens_in + u.tokens_out + u.reserved_tokens
    worst_tokens = worst[0] + worst[1]
    if used + worst_tokens > limits.max_tokens:
        raise LimitExceeded(f"token limit {limits.max_tokens}", node_id,
                            f"{u.tokens_in + u.tokens_out} used, {u.reserved_tokens} reserved by calls under "
                            f"way; the next call could use up to {worst_tokens}")
    price = price_of(settings)
    worst_cost = 0.0
    if price is not None:
        worst_cost = round((worst[0] * price.input_per_m + worst[1] * price.output_per_m) / 1_000_000, 9)
        if u.cost_usd + u.reserved_cost_usd + worst_cost > limits.max_cost_usd:
            raise LimitExceeded(f"cost limit ${limits.max_cost_usd:.2f}", node_id,
                                f"${u.cost_usd:.4f} spent, ${u.reserved_cost_usd:.4f} reserved by calls under "
                                f"way; the next call could cost up to ${worst_cost:.4f}")
    return {"calls": 1, "tokens": worst_tokens, "cost_usd": worst_cost}


def check_time(state: SwarmState, limits: Limits, node_id: str, now: datetime) -> None:
    """Refuse to run a step once the swarm has run ``max_seconds`` (paused time not counted)."""
    if limits.max_seconds is None:
        return
    ran = run_ms(state, now) / 1000
    if ran >= limits.max_seconds:
        raise LimitExceeded(f"time limit {limits.max_seconds:g} s", node_id, f"ran {ran:.1f} s")


def check_spawn(state: SwarmState, limits: Limits, parent_id: str, parent_depth: int) -> None:
    """Refuse a child past the depth limit (levels, the root's included) or the node limit."""
    if parent_depth + 2 > limits.max_depth:
        raise LimitExceeded(f"depth limit {limits.max_depth}", parent_id)
    if state.usage.nodes >= limits.max_nodes:
        raise LimitExceeded(f"node limit {limits.max_nodes}", parent_id)
