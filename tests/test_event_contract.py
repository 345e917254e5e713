"""The event contract: one payload type per event type, exported as a union discriminated by ``type``, and
docs/api-contract.md's event list naming exactly the payload keys the models (and so the engine) use."""

from __future__ import annotations

import re
import typing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from aga_swarm.schemas import ChatSummary, Continuation, EventType, Node, SwarmEvent, Usage
from aga_swarm.schemas.events import (
    EVENT_DATA,
    ChatChanges,
    ContinuationDelta,
    NodeChanges,
    UsageDelta,
    validate_event,
)

CONTRACT = Path(__file__).resolve().parents[1] / "docs" / "api-contract.md"


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def test_every_event_type_has_a_payload_and_a_member_of_the_union() -> None:
    assert set(EVENT_DATA) == set(EventType)
    schema = SwarmEvent.model_json_schema()
    assert schema["discriminator"]["propertyName"] == "type"
    assert set(schema["discriminator"]["mapping"]) == {t.value for t in EventType}
    assert len(schema["oneOf"]) == len(EventType)


# each change payload: its model's fields, and the fields it has besides (a node's new continuation as a delta)
@pytest.mark.parametrize(("changes", "model", "besides"), [
    (NodeChanges, Node, {"continuation_delta": ContinuationDelta}),
    (ChatChanges, ChatSummary, {}),
    (ContinuationDelta, Continuation, {}),
])
def test_change_payloads_have_the_models_fields_and_types(changes: type, model: type[BaseModel],
                                                          besides: dict[str, type]) -> None:
    assert _hints(changes) == {name: f.annotation for name, f in model.model_fields.items()} | besides
    assert not changes.__required_keys__  # type: ignore[attr-defined]


def test_usage_deltas_are_usage_counters() -> None:
    fields = Usage.model_fields
    assert {k: fields[k].annotation for k in _hints(UsageDelta)} == _hints(UsageDelta)


def _event(type_: EventType, data: dict[str, Any]) -> dict[str, Any]:
    return {"swarm_id": "s", "seq": 1, "ts": datetime.now(UTC).isoformat(), "type": type_.value, "node_id": "n",
            "data": data}


@pytest.mark.parametrize(("type_", "data"), [
    (EventType.JOURNAL, {"entry": "an old shape"}),
    (EventType.JOURNAL, {"step": "plan.decompose"}),
    (EventType.USAGE, {"changes": {"replans": 1}}),
    (EventType.USAGE, {"delta": {"replans": "one"}}),
    (EventType.NODE_UPDATED, {"changes": {"lifecycle": "sleeping"}}),
    (EventType.NODE_UPDATED, {"changes": {"no_such_field": 1}}),
    (EventType.SWARM_STATUS, {"status": "running", "reason": None, "extra": 1}),
])
def test_a_payload_that_drifted_from_its_model_is_rejected(type_: EventType, data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        validate_event(_event(type_, data))


def test_a_continuation_delta_is_typed() -> None:
    changes = {"lifecycle": "waiting_llm", "continuation_delta": {"kind": "llm", "token": "n@3"}}
    assert validate_event(_event(EventType.NODE_UPDATED, {"changes": changes})).model_dump(mode="json")["data"] == {
        "changes": changes}
    for bad in ({"kind": "sleeping"}, {"token": 3}, {"no_such_field": 1}):
        with pytest.raises(ValidationError):
            validate_event(_event(EventType.NODE_UPDATED, {"changes": {"continuation_delta": bad}}))


def test_a_payload_of_its_model_is_accepted() -> None:
    typed = validate_event(_event(EventType.NODE_UPDATED, {"changes": {"lifecycle": "done", "report": None}}))
    assert typed.model_dump()["data"] == {"changes": {"lifecycle": "done", "report": None}}


def _documented() -> dict[str, set[str]]:
    """The top-level keys of each event's ``data`` as docs/api-contract.md's "Events" section lists them."""
    text = CONTRACT.read_text()
    section = text[text.index("## Events (the fold)"):]
    section = section[:section.index("\n## ", 1)]
    out: dict[str, set[str]] = {}
    for m in re.finditer(r"^- `(\w+)` `\{(.*?)\}`", section, re.M):
        body, depth, keys, current = m.group(2), 0, set(), ""
        for ch in body + ",":
            if ch in "{[":
                depth += 1
            elif ch in "}]":
                depth -= 1
            if ch == "," and depth == 0:
                keys.add(current.split(":")[0].strip())
                current = ""
            elif depth == 0 or ch not in "{[":
                current += ch if depth == 0 else ""
        out[m.group(1)] = keys
    return out


def test_the_api_contract_lists_each_event_with_its_payload_keys() -> None:
    documented = _documented()
    assert set(documented) == {t.value for t in EventType}
    for type_, data in EVENT_DATA.items():
        assert documented[type_.value] == set(_hints(data)), type_.value
