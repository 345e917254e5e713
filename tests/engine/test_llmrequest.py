"""``engine/llmrequest.py``: a model call's request built from its stored dict is what validating it whole gives,
and a message dict seen before (a tool loop's conversation, turn after turn) is not validated again."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from aga_swarm.engine.llmrequest import Requests
from aga_swarm.llm.protocol import LLMRequest


def test_messages_seen_before_are_reused_and_the_request_is_the_same() -> None:
    first = {"role": "user", "content": "echo a"}
    call = {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "name": "echo", "arguments": "{}"}]}
    turn1 = {"purpose": "do.execute", "messages": [first, call], "output_schema": {"type": "object"},
             "schema_name": "DoOutput", "facts": {"k": 1}, "tools": [{"name": "echo"}]}
    turn2 = {**turn1, "messages": [first, call, {"role": "tool", "tool_call_id": "c1", "content": "a"}]}
    made = Requests()
    one, two = made.request(turn1), made.request(turn2)
    assert one == LLMRequest.model_validate(turn1) and two == LLMRequest.model_validate(turn2)
    assert two.messages[0] is one.messages[0] and two.messages[1] is one.messages[1]
    # an equal dict that is another object is validated on its own (identity, not equality, is the key)
    again = made.request({**turn1, "messages": [dict(first)]})
    assert again.messages[0] is not one.messages[0] and again.messages[0] == one.messages[0]
    with pytest.raises(ValidationError):
        made.request({**turn1, "messages": [{"role": "user"}]})


def test_the_memo_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from aga_swarm.engine import llmrequest

    monkeypatch.setattr(llmrequest, "MAX_KEPT_CHARS", 100)
    made = Requests()
    big = [{"role": "user", "content": "x" * 60} for _ in range(5)]
    made.request({"purpose": "p", "messages": big, "output_schema": {}})
    assert len(made._messages) <= 2 and made._chars <= 120
