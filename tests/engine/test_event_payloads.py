"""Every event a scripted run emits validates against its type's payload model (``schemas/events.py``): the typed
contract the OpenAPI document and the web app are generated from is what the engine really writes."""

from __future__ import annotations

from aga_swarm.schemas import EventType, SwarmStatus
from aga_swarm.schemas.events import validate_event
from aga_swarm.service import SwarmService

from .helpers import EVERY_EVENT_GOAL, run_answering


async def test_every_event_of_a_scripted_run_validates_against_its_model(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", EVERY_EVENT_GOAL)
    svc.spawn(s.id)
    svc.set_auto_approve(s.id, True, "memory.write")
    svc.pause(s.id)
    svc.resume(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    events = svc.history(s.id).events
    typed = [validate_event(e) for e in events]
    assert [t.seq for t in typed] == [e.seq for e in events]
    assert {e.type for e in events} == set(EventType), "the run covers every event type"
