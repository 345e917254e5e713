"""Attachments in the engine: what a node receives (its context, its model calls: text as text, images loaded as
data URLs when the call is made), agents attaching memory files to their questions, the history replaying it all
(the fold of the whole history equals the projection at every point), clones, and old histories whose messages
carry bare strings; and the OpenAI client sending images as `image_url` parts to a server speaking the wire
protocol."""

from __future__ import annotations

import base64
import hashlib

import pytest
from pydantic import BaseModel

from aga_swarm.engine import attachments as att
from aga_swarm.engine.errors import FileTooLarge, InvalidInput, UnsupportedFileType
from aga_swarm.engine.fold import fold
from aga_swarm.engine.memory import Upload
from aga_swarm.llm.openai_client import OpenAIClient
from aga_swarm.llm.protocol import LLMRequest
from aga_swarm.schemas import Attachment, EventType, Message, PromptMessage, SwarmState, SwarmStatus
from aga_swarm.schemas.config import LLMSettings
from aga_swarm.service import SwarmService

from .helpers import comparable, run_answering

try:
    from fake_openai_server import FakeOpenAIServer
except ImportError:  # tests/ collected as a package
    from tests.fake_openai_server import FakeOpenAIServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)


async def test_the_root_and_its_subtasks_receive_the_goals_files_and_the_history_replays_them(
        svc: SwarmService) -> None:
    notes = b"# Brief\nA poster for the harbour fair"
    swarm = svc.create_swarm("u1", "Describe the photo\nWrite a caption", files=[
        Upload("cat.png", "image/png", PNG), Upload("brief.md", None, notes)])
    svc.spawn(swarm.id)
    assert await run_answering(svc, swarm.id) is SwarmStatus.COMPLETED
    state = svc.state(swarm.id)
    root = state.nodes["n"]
    assert [(a.path, a.content_type, a.sha256) for a in root.attachments] == [
        ("uploads/brief.md", "text/markdown", hashlib.sha256(notes).hexdigest()),
        ("uploads/cat.png", "image/png", hashlib.sha256(PNG).hexdigest())]
    # a subtask's model call got the text file's content and the image as an image input (not in the prompt)
    detail = svc.node_detail(swarm.id, "n.1")
    call = next(c for c in detail.llm_calls if c.step == "do.on_result")
    given = call.messages[-1].content
    assert "Files the person gave you" in given and "A poster for the harbour fair" in given
    assert "uploads/cat.png (image/png, 33 bytes): the image is attached" in given
    assert "iVBOR" not in str(call.messages)  # the image's bytes are never stored in the log or an event
    assert state.nodes["n.1"].report == ('Done: "Describe the photo" (files: uploads/brief.md "# Brief"; '
                                         'uploads/cat.png image/png 33 bytes)')
    # routing calls see the files by path (in the context) but get neither their text nor the image
    route = next(c for c in svc.node_detail(swarm.id, "n.2").llm_calls if c.step.startswith("route"))
    assert "uploads/cat.png (image/png, 33 bytes)" in str(route.messages)
    assert "harbour fair" not in str(route.messages) and "the image is attached" not in str(route.messages)
    # the fold of the whole history is the state; each point's state matches the projection's
    events = svc.history(swarm.id).events
    assert comparable(fold(events, SwarmState(swarm_id=swarm.id))) == comparable(state)
    # the goal's files go to the root in the transaction that makes it: they come in its node_spawned
    given_at = next(e.seq for e in events if (e.type is EventType.NODE_UPDATED and "attachments" in e.data["changes"])
                    or (e.type is EventType.NODE_SPAWNED and e.data["node"]["attachments"]))
    assert events[given_at - 1].type is EventType.NODE_SPAWNED and events[given_at - 1].node_id == "n"
    assert "n" not in svc.state_at(swarm.id, given_at - 1).nodes
    assert svc.state_at(swarm.id, given_at).nodes["n"].attachments == root.attachments
    assert all("iVBOR" not in str(e.data) for e in events)


async def test_images_are_loaded_as_data_urls_of_the_version_attached(svc: SwarmService) -> None:
    swarm = svc.create_swarm("u1", "Describe it", files=[Upload("cat.png", "image/png", PNG)])
    svc.spawn(swarm.id)
    [image] = svc.state(swarm.id).nodes["n"].attachments
    svc.upload_memory(swarm.id, [Upload("cat.png", "image/png", PNG + b"later")], path="uploads/cat.png")
    [url] = svc.engine.executor.model_calls._image_data(swarm.id, [image])
    assert url == "data:image/png;base64," + base64.b64encode(PNG).decode()  # the version attached, not the later
    gone = image.model_copy(update={"path": "uploads/none.png"})
    assert svc.engine.executor.model_calls._image_data(swarm.id, [gone]) == []


async def test_a_question_cites_the_files_its_prerequisites_wrote(svc: SwarmService) -> None:
    swarm = svc.create_swarm("u1", "Tool: memory.write notes/plan.md Buy milk\nAsk the user whether the plan is fine "
                                    "(after 1)")
    svc.spawn(swarm.id)
    await svc.run_until_idle(swarm.id)
    [chat] = svc.waiting_chats(swarm.id)
    question = svc.messages(swarm.id, chat.id)[-1]
    assert [(a.path, a.size, a.sha256) for a in question.attachments] == [
        ("notes/plan.md", 8, hashlib.sha256(b"Buy milk").hexdigest())]
    assert question.attachments[0].seq is not None
    # the reply carries a file; the node's report names it; its files go up to the parent
    svc.post_reply(swarm.id, chat.id, "yes", files=[Upload("ok.txt", "text/plain", b"approved by Ann")])
    assert await run_answering(svc, swarm.id) is SwarmStatus.COMPLETED
    ask = svc.state(swarm.id).nodes["n.2"]
    assert ask.context_up["files"] == ["uploads/ok.txt"]
    assert 'uploads/ok.txt "approved by Ann"' in (ask.report or "")


async def test_refused_files_leave_nothing_and_a_fork_keeps_the_attachments(svc: SwarmService) -> None:
    swarm = svc.create_swarm("u1", "Ask the user for a colour")
    svc.spawn(swarm.id)
    await svc.run_until_idle(swarm.id)
    [chat] = svc.waiting_chats(swarm.id)
    seq = svc.get_swarm(swarm.id).last_seq
    for files, error in (([Upload("a.png", "image/png", b"text")], UnsupportedFileType),
                         ([Upload("a.txt", None, b"x" * 11)], FileTooLarge),
                         ([Upload("", None, b"x")], InvalidInput),
                         ([Upload(f"{i}.txt", None, b"x") for i in range(3)], FileTooLarge)):
        with pytest.raises(error):
            svc.post_reply(swarm.id, chat.id, "hi", files=files,
                           limits=att.AttachmentLimits(max_file_bytes=10, max_files=2))
    with pytest.raises(InvalidInput):
        svc.post_reply(swarm.id, chat.id, "hi", attach=["uploads/none.md"])
    assert svc.get_swarm(swarm.id).last_seq == seq
    def files() -> list[str]:  # the swarm's blobs but its model requests' (stored there above the inline size)
        return [k for k in svc.engine.blobs.list(f"users/u1/swarms/{swarm.id}/") if "/llm/" not in k]

    assert files() == []
    # the same bytes twice: stored once (content-addressed), two versions in the memory space
    same = [Upload("a.txt", None, b"same"), Upload("a.txt", None, b"same")]
    msg = svc.post_reply(swarm.id, chat.id, "two", files=same)
    assert [a.path for a in msg.attachments] == ["uploads/a.txt", "uploads/a (2).txt"]
    assert len(files()) == 1
    fork = svc.clone(swarm.id, owner_id="u1", at_seq=svc.get_swarm(swarm.id).last_seq)
    [copied] = [m for m in svc.messages(fork.id, chat.id) if m.attachments]
    assert copied.attachments == msg.attachments
    assert svc.memory_file(fork.id, "uploads/a (2).txt")[1] == b"same"


def test_old_histories_with_bare_strings_still_load() -> None:
    msg = Message.model_validate({"id": "c.m0", "chat_id": "c", "index": 0, "role": "user", "content": "x",
                                  "attachments": ["users/u/swarms/s/memory/k/a.md"],
                                  "created_at": "2026-01-01T00:00:00Z"})
    assert msg.attachments == [Attachment(path="users/u/swarms/s/memory/k/a.md", name="a.md",
                                          content_type="application/octet-stream", size=0, sha256="")]


class Answer(BaseModel):
    answer: str


async def test_the_openai_client_sends_images_as_image_url_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGA_TEST_OPENAI_KEY", "sk-test")
    server = FakeOpenAIServer()
    await server.start()
    try:
        server.reply_content('{"answer": "a cat"}')
        client = OpenAIClient(LLMSettings(provider="openai", model="gpt-4o-mini", base_url=server.base_url,
                                          api_key_env="AGA_TEST_OPENAI_KEY", timeout_s=5.0, max_retries=0))
        url = "data:image/png;base64," + base64.b64encode(PNG).decode()
        request = LLMRequest(purpose="do.execute", messages=[PromptMessage(role="system", content="Describe."),
                                                             PromptMessage(role="user", content="What is it?")],
                             output_schema=Answer.model_json_schema(), image_data=[url])
        assert (await client.complete(request, Answer)).parsed == {"answer": "a cat"}
        await client.aclose()
        sent = server.requests[0].messages
        assert sent[0] == {"role": "system", "content": "Describe."}
        assert sent[1]["content"] == [{"type": "text", "text": "What is it?"},
                                      {"type": "image_url", "image_url": {"url": url}}]
        assert "image_data" not in request.model_dump()  # never stored
    finally:
        await server.stop()
