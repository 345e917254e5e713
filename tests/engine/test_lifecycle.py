"""Lifecycle rules and typed errors for bad requests; nothing is half-written."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update

from aga_swarm.engine.errors import (
    ChatNotAwaiting,
    ChatNotFound,
    InvalidInput,
    InvalidTransition,
    NodeNotFound,
    SwarmNotFound,
)
from aga_swarm.schemas import ChatStatus, Lifecycle, SwarmStatus
from aga_swarm.service import SwarmService
from aga_swarm.service.composition import open_engine
from aga_swarm.store import tables as t

from .helpers import run_answering


async def test_transitions(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Write a poem")
    assert s.status is SwarmStatus.DRAFT
    with pytest.raises(InvalidTransition):
        svc.pause(s.id)
    with pytest.raises(InvalidTransition):
        svc.resume(s.id)
    svc.spawn(s.id)
    with pytest.raises(InvalidTransition, match="already running"):
        svc.spawn(s.id)
    with pytest.raises(InvalidTransition):
        svc.update_swarm(s.id, goal="another goal")
    svc.update_swarm(s.id, name="renamed")
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    with pytest.raises(InvalidTransition, match="only a paused swarm"):
        svc.resume(s.id)
    with pytest.raises(InvalidTransition):
        svc.pause(s.id)
    assert svc.get_swarm(s.id).name == "renamed"


async def test_unknown_ids_and_ownership(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Write a poem")
    for call in (lambda: svc.get_swarm("nope"), lambda: svc.spawn("nope"), lambda: svc.state("nope"),
                 lambda: svc.history("nope"), lambda: svc.get_swarm(s.id, owner_id="u2"),
                 lambda: svc.spawn(s.id, owner_id="u2"), lambda: svc.delete_swarm(s.id, owner_id="u2"),
                 lambda: svc.post_reply(s.id, "chat-n", "hi", owner_id="u2")):
        with pytest.raises(SwarmNotFound):
            call()
    with pytest.raises(ChatNotFound):
        svc.messages(s.id, "chat-zzz")
    with pytest.raises(NodeNotFound):
        svc.node_detail(s.id, "n.99")
    assert svc.list_swarms("u2") == []


async def test_reply_rules_and_racing_replies(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Ask the user for a number")
    svc.spawn(s.id)
    await svc.run_until_idle(s.id)
    root_chat = svc.state(s.id).nodes["n"].chat_id
    with pytest.raises(ChatNotAwaiting):
        svc.post_reply(s.id, root_chat, "hello")
    waiting = svc.waiting_chats(s.id)
    assert len(waiting) == 1
    with pytest.raises(InvalidInput):
        svc.post_reply(s.id, waiting[0].id, "   \x00  ")
    results: list[object] = []

    def reply(text: str) -> None:
        try:
            results.append(svc.post_reply(s.id, waiting[0].id, text))
        except ChatNotAwaiting as exc:
            results.append(exc)

    threads = [threading.Thread(target=reply, args=(f"answer {i}",)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert sum(isinstance(r, ChatNotAwaiting) for r in results) == 3
    msgs = svc.messages(s.id, waiting[0].id)
    assert [m.role.value for m in msgs] == ["agent", "user"]
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    chat = next(c for c in svc.chats(s.id) if c.id == waiting[0].id)
    assert chat.status is ChatStatus.CLOSED


async def test_malformed_continuation_fails_node_with_clear_reason(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Ask the user for a number")
    svc.spawn(s.id)
    await svc.run_until_idle(s.id)
    chat = svc.waiting_chats(s.id)[0]
    node = svc.state(s.id).nodes[chat.node_id]
    data = node.model_dump(mode="json")
    data["continuation"]["context"] = {"followups": "not a number"}
    with svc.db.tx() as conn:
        conn.execute(update(t.nodes).where(t.nodes.c.swarm_id == s.id, t.nodes.c.id == node.id).values(data=data))
    # an edit behind the engine's back, as a new release whose step context no longer fits stored ones: it
    # meets the stored row once it reads it again, as a restarted process does
    svc.engine.executor.forget_rows()
    svc.post_reply(s.id, chat.id, "forty two")
    await svc.run_until_idle(s.id)
    failed = svc.state(s.id).nodes[node.id]
    assert failed.lifecycle is Lifecycle.FAILED
    assert "MalformedContinuation" in (failed.failure_reason or "")
    detail = svc.node_detail(s.id, node.id)
    assert any(c.error and "MalformedContinuation" in c.error for c in detail.llm_calls)
    # the parent's review re-plans the failed subtask; the retry asks again and the swarm completes
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    assert svc.state(s.id).nodes["n.2"].lifecycle is Lifecycle.DONE


async def test_delete_removes_everything(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Write a poem")
    svc.spawn(s.id)
    await run_answering(svc, s.id)
    svc.delete_swarm(s.id)
    with pytest.raises(SwarmNotFound):
        svc.get_swarm(s.id)
    with svc.db.read() as conn:
        for table in (t.events, t.nodes, t.operations, t.messages, t.llm_calls):
            assert conn.execute(select(table).where(table.c.swarm_id == s.id)).first() is None


async def test_clone_as_draft_and_fork_at_seq(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Ask the user for a colour\nWrite a poem")
    svc.spawn(s.id)
    await svc.run_until_idle(s.id)
    waiting_seq = svc.get_swarm(s.id).last_seq
    assert await run_answering(svc, s.id, default="green") is SwarmStatus.COMPLETED
    draft = svc.clone(s.id)
    assert draft.status is SwarmStatus.DRAFT and draft.goal == s.goal
    fork = svc.clone(s.id, at_seq=waiting_seq)
    assert fork.status is SwarmStatus.PAUSED and fork.forked_from == s.id
    assert svc.state(fork.id).seq == waiting_seq
    assert svc.history(fork.id).events[-1].seq == waiting_seq
    svc.resume(fork.id)
    assert await run_answering(svc, fork.id, default="purple") is SwarmStatus.COMPLETED
    assert "purple" in (svc.state(fork.id).nodes["n"].report or "")
    assert "green" in (svc.state(s.id).nodes["n"].report or "")


async def test_an_engine_sees_what_another_engine_on_the_same_store_changed(svc: SwarmService) -> None:
    """Each engine keeps the nodes and chats its last transaction on a swarm left (``CachedRows``), valid
    only while the swarm's sequence number has not moved. Another process on the same store (a worker, the
    CLI) moves it, so the first engine must read what that process wrote, not its own older copy."""
    s = svc.create_swarm("u1", "Ask the user for a number")
    svc.spawn(s.id)
    await svc.run_until_idle(s.id)  # this engine's last transaction posted the question: it keeps that chat
    chat = svc.waiting_chats(s.id)[0]
    other = SwarmService(open_engine(db_url=svc.db.url, blob_url=str(svc.engine.blobs.root), migrate=False))
    try:
        other.post_reply(s.id, chat.id, "42")  # the other engine takes the answer; the node asks a follow-up
        await other.run_until_idle(s.id)
        assert [m.role.value for m in other.messages(s.id, chat.id)] == ["agent", "user", "agent"]
        # this engine's own copy of the chat still has one message: replying from it would collide
        msg = svc.post_reply(s.id, chat.id, "Forty-two, my favourite number")
        assert msg.index == 3
        assert [m.role.value for m in svc.messages(s.id, chat.id)] == ["agent", "user", "agent", "user"]
        assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    finally:
        other.close()
