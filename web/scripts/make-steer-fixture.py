"""Writes src/test/fixtures/steer-history.json: a real history of a steered swarm from the Python engine, with the
Python state after each event, so that the web app's fold (live pushes and the history slider) is checked against
the engine on cancel, retry, tell, dependents cancelled with their prerequisite and released again, and the
reservations of calls under way.

Run: ../.venv/bin/python scripts/make-steer-fixture.py > src/test/fixtures/steer-history.json
"""
import asyncio
import json
import tempfile

from aga_swarm.service import SwarmService


async def main() -> None:
    svc = SwarmService(data_dir=tempfile.mkdtemp())
    s = svc.create_swarm("u1", "Ask the user for their favourite colour\nWrite a haiku about it\nPlan: a; b")
    svc.spawn(s.id)
    await svc.run_until_idle(s.id)  # the question waits on the person, the haiku on the question
    steered_from = svc.state(s.id).seq
    svc.tell_node(s.id, "n.2", "use the word sea")  # told before it asked anything
    svc.cancel_node(s.id, "n.1")  # the haiku is cancelled with its prerequisite
    svc.retry_node(s.id, "n.1")
    svc.retry_node(s.id, "n.2")  # waits for the new attempt
    steered_to = svc.state(s.id).seq
    await svc.run_until_idle(s.id)
    svc.post_reply(s.id, svc.waiting_chats(s.id)[0].id, "blue")
    await svc.run_until_idle(s.id)
    history = svc.history(s.id)
    # the state after each steering event and at every 20th seq (all of them would weigh a megabyte)
    seqs = [e.seq for e in history.events if steered_from < e.seq <= steered_to or e.seq % 20 == 0]
    states = {seq: svc.state_at(s.id, seq).model_dump(mode="json") for seq in seqs}
    print(json.dumps({"history": history.model_dump(mode="json"), "state": svc.state(s.id).model_dump(mode="json"),
                      "states_at": states}, indent=1))


asyncio.run(main())
