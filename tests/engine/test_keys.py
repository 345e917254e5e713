"""The idempotency-key and token formats are stored in rows: pin them, so a change is a deliberate one."""

from __future__ import annotations

from aga_swarm.engine import keys
from aga_swarm.schemas import ContinuationKind, Node, OperationKind


def _node(attempt: int) -> Node:
    return Node(id="n.2", swarm_id="s1", parent_id="n", depth=1, action_id="do", action_type="do", directive="d",
                title="d", chat_id="chat-n.2", attempt=attempt, created_at=0, updated_at=0)


def test_token_names_the_node_and_the_seq_its_transaction_starts_at() -> None:
    assert keys.continuation_token("n.2", 56) == "n.2@57"


def test_operation_keys() -> None:
    assert keys.llm_call_key("n@3") == "llm:n@3"
    assert keys.user_prompt_key("n@3") == "prompt:n@3"
    assert keys.tool_call_key("n@3") == "tool:n@3"
    assert keys.step_key("n@3") == "step:n@3"
    assert keys.children_check_key("n@3") == "check:n@3"
    assert keys.reply_key("m7") == "reply:m7"
    assert keys.failure_key(12) == "failure:12"
    assert keys.spawn_key("n.2") == "spawn:n.2"


def test_attempt_keys_carry_the_attempt_from_the_second_on() -> None:
    assert keys.attempt_key("spawn", _node(1)) == keys.spawn_key("n.2")
    assert keys.attempt_key("terminate", _node(1)) == "terminate:n.2"
    assert keys.attempt_key("spawn", _node(3)) == "spawn:n.2#3"


def test_every_continuation_kind_has_the_operation_its_step_queued() -> None:
    expected = {
        ContinuationKind.LLM: (OperationKind.LLM_CALL, "llm:n@3", {"token": "n@3"}),
        ContinuationKind.TOOL: (OperationKind.TOOL_CALL, "tool:n@3", {"token": "n@3"}),
        ContinuationKind.STEP: (OperationKind.STEP, "step:n@3", {"token": "n@3"}),
        ContinuationKind.USER: (OperationKind.USER_PROMPT, "prompt:n@3", {"token": "n@3"}),
        ContinuationKind.CHILDREN: (OperationKind.TERMINATE, "check:n@3", {"check": True}),
    }
    assert set(expected) == set(ContinuationKind)
    for kind, operation in expected.items():
        assert keys.continuation_operation(kind, "n@3") == operation
