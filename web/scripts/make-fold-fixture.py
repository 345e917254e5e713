"""Writes src/test/fixtures/fold-history.json: a real history and state from the Python engine.

Run: ../.venv/bin/python scripts/make-fold-fixture.py > src/test/fixtures/fold-history.json
(fold-history.json is a history written before 2026-12-01, kept as the older form; the same script wrote
fold-history-spawned.json afterwards, where a node started in its creating transaction comes in its node_spawned)
"""
import asyncio
import json
import tempfile

from aga_swarm.engine.memory import Upload
from aga_swarm.service import SwarmService


async def main() -> None:
    svc = SwarmService(data_dir=tempfile.mkdtemp())
    s = svc.create_swarm("u1", "Ask the user for their favourite colour\nWrite a haiku about it\nPlan: a; b; c")
    svc.spawn(s.id)
    await svc.run_until_idle(s.id)
    c = svc.waiting_chats(s.id)[0]
    svc.post_reply(s.id, c.id, "x")
    await svc.run_until_idle(s.id)
    c = svc.waiting_chats(s.id)[0]
    svc.post_reply(s.id, c.id, "blue")
    await svc.run_until_idle(s.id)
    # memory_written events, at the end so the seqs above stay as they were: two files, one written twice
    svc.upload_memory(s.id, [Upload("notes.md", None, b"# notes"), Upload("data.json", None, b"{}")])
    svc.upload_memory(s.id, [Upload("notes.md", None, b"# notes, again")])
    # auto_approve events, at the end too: one tool on, every tool on, the tool off again
    svc.set_auto_approve(s.id, True, "memory.write")
    svc.set_auto_approve(s.id, True)
    svc.set_auto_approve(s.id, False, "memory.write")
    print(json.dumps({"history": svc.history(s.id).model_dump(mode="json"),
                      "state": svc.state(s.id).model_dump(mode="json")}, indent=1))


asyncio.run(main())
