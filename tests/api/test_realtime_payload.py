"""The socket payload of an event is exactly what the history endpoint renders for it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aga_swarm.schemas import EventType, SwarmEvent
from aga_swarm.server.realtime import _FastJson, event_payload


@pytest.mark.parametrize("ts", [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 11, 24, 4, 5, 6, 789, tzinfo=UTC)])
def test_event_payload_matches_the_history_rendering(ts: datetime) -> None:
    event = SwarmEvent(swarm_id="s1", seq=7, ts=ts, type=EventType.NODE_UPDATED, node_id="n.1",
                       data={"changes": {"lifecycle": "done", "report": "ünïcode ✓", "context_up": {"k": [1, None]}}})
    assert event_payload(event) == event.model_dump(mode="json")
    assert _FastJson.loads(_FastJson.dumps(event_payload(event), separators=(",", ":"))) == event_payload(event)
