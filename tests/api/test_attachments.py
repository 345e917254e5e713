"""Attachments over HTTP, against real servers with a real multipart client (httpx): a goal, a reply and a tell
carrying files, typed on the message, stored in the memory space, in the history, received by the nodes (the
scripted model names them in its reports), downloadable, owner-checked, and the operator's limits (413, 415,
422, 429) with nothing left behind by a refused message."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import ApiBackend
from .helpers import Server, awaiting_chat, full_history, poll, signup

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
GOAL = "Ask the user which colour the poster should use\nDescribe the photo"


@pytest.fixture(scope="module")
def tight_server(api_backend: ApiBackend) -> Iterator[Server]:
    """Tiny limits: 1000 bytes a file, 2500 a message, 2 files, text and PNG only, 60,000 stored bytes a user."""
    srv = api_backend.start("attach-limits", {
        "AGA_SWARM_UPLOAD_MAX_FILE_BYTES": "1000", "AGA_SWARM_UPLOAD_MAX_REQUEST_BYTES": "2500",
        "AGA_SWARM_UPLOAD_MAX_FILES": "2", "AGA_SWARM_UPLOAD_TYPES": "text/plain,text/markdown,image/png",
        "AGA_SWARM_QUOTA_STORED_BYTES": "60000"})
    yield srv
    srv.stop()


def _blobs(srv: Server, owner: str, swarm_id: str) -> list[Path]:
    """The swarm's memory-space blobs (model bodies are blobs too, under llm/)."""
    base = srv.data_dir / "blobs" / "users" / owner / "swarms" / swarm_id / "memory"
    return sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []


async def _node(http: httpx.AsyncClient, sid: str, node_id: str) -> dict:  # type: ignore[type-arg]
    return (await http.get(f"/api/swarms/{sid}/nodes/{node_id}")).json()["node"]  # type: ignore[no-any-return]


async def test_goal_reply_and_tell_carry_files_to_the_nodes(server: Server) -> None:
    ann, bob = await signup(server), await signup(server)
    async with ann.http() as http, bob.http() as other:
        # a goal with two files (multipart on POST /api/swarms)
        r = await http.post("/api/swarms", data={"goal": GOAL, "name": "poster"}, files=[
            ("file", ("cat.png", PNG, "image/png")), ("file", ("brief.txt", b"A poster for the fair\nmore", None))])
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        listing = (await http.get(f"/api/swarms/{sid}/memory")).json()
        assert [(f["path"], f["content_type"], f["node_id"]) for f in listing["files"]] == [
            ("uploads/brief.txt", "text/plain", None), ("uploads/cat.png", "image/png", None)]
        assert (await http.post(f"/api/swarms/{sid}/spawn")).status_code == 200
        root = await _node(http, sid, "n")
        assert [(a["path"], a["sha256"]) for a in root["attachments"]] == [
            ("uploads/brief.txt", hashlib.sha256(b"A poster for the fair\nmore").hexdigest()),
            ("uploads/cat.png", hashlib.sha256(PNG).hexdigest())]

        chat = await awaiting_chat(http, sid)
        url = f"/api/swarms/{sid}/chats/{chat['id']}/messages"
        # a stranger's reply with a file: 404, and nothing stored
        before = (await http.get(f"/api/swarms/{sid}/memory")).json()
        r = await other.post(url, data={"content": "mine"}, files={"file": ("x.txt", b"x", "text/plain")})
        assert r.status_code == 404
        # the reply: text and a Markdown file (a name with folders keeps only its own name)
        answer = b"Blue, like the sea\nand a little gold"
        r = await http.post(url, data={"content": "See the file"},
                            files={"file": ("../../secret/answer.md", answer, "text/markdown")})
        assert r.status_code == 202, r.text
        msg = r.json()
        assert msg["content"] == "See the file"
        [a] = msg["attachments"]
        assert a == {"path": "uploads/answer.md", "name": "answer.md", "content_type": "text/markdown",
                     "size": len(answer), "sha256": hashlib.sha256(answer).hexdigest(), "seq": a["seq"]}
        assert (await http.get(f"/api/swarms/{sid}/memory")).json()["seq"] > before["seq"]
        got = await http.get(f"/api/swarms/{sid}/memory/uploads/answer.md", params={"at": a["seq"]})
        assert got.content == answer and got.headers["x-content-type-options"] == "nosniff"
        assert (await other.get(f"/api/swarms/{sid}/memory/uploads/answer.md")).status_code == 404

        # the run completes; the nodes received the files (the scripted model names them)
        await poll(lambda: _status(http, sid, "completed"), what="completion")
        ask = await _node(http, sid, "n.1")
        assert 'uploads/answer.md "Blue, like the sea"' in ask["report"], ask["report"]
        assert ask["context_up"]["files"] == ["uploads/answer.md"]
        do = await _node(http, sid, "n.2")
        assert (f'uploads/brief.txt "A poster for the fair"; uploads/cat.png image/png {len(PNG)} bytes'
                in do["report"]), do["report"]
        # the message is typed in the chat and in the history; the memory write comes first, in the same seq run
        [stored] = [m for m in (await http.get(url)).json() if m["role"] == "user"]
        assert stored["attachments"] == [a]
        events = await full_history(http, sid)
        posted = next(e for e in events if e["type"] == "message_posted" and e["data"]["message"]["role"] == "user")
        assert posted["data"]["message"]["attachments"] == [a]
        written = next(e for e in events if e["type"] == "memory_written" and e["data"]["path"] == a["path"])
        assert written["seq"] == a["seq"] < posted["seq"]
        # the slider: before the reply the file is not there, at it it is
        then = (await http.get(f"/api/swarms/{sid}/memory", params={"at": a["seq"] - 1})).json()
        assert "uploads/answer.md" not in [f["path"] for f in then["files"]]
        given = next(e for e in events if e["type"] == "node_updated" and "attachments" in e["data"]["changes"]
                     and e["node_id"] == "n.1")
        assert posted["seq"] < given["seq"]
        state = (await http.get(f"/api/swarms/{sid}/state", params={"at": given["seq"]})).json()
        assert state["nodes"]["n.1"]["attachments"] == [a]
        state = (await http.get(f"/api/swarms/{sid}/state", params={"at": given["seq"] - 1})).json()
        assert state["nodes"]["n.1"]["attachments"] == []


async def test_tell_with_files_and_citing_memory_paths(server: Server) -> None:
    ann = await signup(server)
    async with ann.http() as http:
        r = await http.post("/api/swarms", json={"goal": "Ask the user for a name\nWrite a haiku about it"})
        sid = r.json()["id"]
        await http.post(f"/api/swarms/{sid}/spawn")
        chat = await awaiting_chat(http, sid)
        # tell the waiting haiku node a file (multipart on .../tell)
        r = await http.post(f"/api/swarms/{sid}/nodes/n.2/tell", files={"file": ("style.txt", b"short lines",
                                                                                   "text/plain")})
        assert r.status_code == 202, r.text
        assert [a["path"] for a in r.json()["attachments"]] == ["uploads/style.txt"] and r.json()["content"] == ""
        assert [a["path"] for a in (await _node(http, sid, "n.2"))["attachments"]] == ["uploads/style.txt"]
        # a JSON reply citing a file uploaded before (upload, then reference)
        r = await http.post(f"/api/swarms/{sid}/memory", files={"file": ("name.md", b"Mira", "text/markdown")})
        assert r.status_code == 201
        url = f"/api/swarms/{sid}/chats/{chat['id']}/messages"
        r = await http.post(url, json={"content": "", "attachments": ["uploads/nothing.md"]})
        assert r.status_code == 422 and "no file 'uploads/nothing.md'" in r.text
        r = await http.post(url, json={"content": "", "attachments": []})
        assert r.status_code == 422
        r = await http.post(url, json={"content": "here", "attachments": ["uploads/name.md"]})
        assert r.status_code == 202, r.text
        assert [(a["path"], a["sha256"]) for a in r.json()["attachments"]] == [
            ("uploads/name.md", hashlib.sha256(b"Mira").hexdigest())]
        await poll(lambda: _status(http, sid, "completed"), what="completion")
        haiku = await _node(http, sid, "n.2")
        assert 'uploads/style.txt "short lines"' in haiku["report"], haiku["report"]
        assert "uploads/name.md" in (await _node(http, sid, "n.1"))["report"]


async def test_limits_types_names_and_quota(tight_server: Server) -> None:
    ann = await signup(tight_server)
    async with ann.http() as http:
        sid = (await http.post("/api/swarms", json={"goal": "Ask the user for a colour"})).json()["id"]
        await http.post(f"/api/swarms/{sid}/spawn")
        chat = await awaiting_chat(http, sid)
        url = f"/api/swarms/{sid}/chats/{chat['id']}/messages"
        events = len(await full_history(http, sid))
        blobs = _blobs(tight_server, ann.id, sid)
        cases = [
            ([("file", ("big.txt", b"x" * 1001, "text/plain"))], 413, "limit of 1000 bytes a file"),
            ([("file", (f"p{i}.txt", b"y" * 900, "text/plain")) for i in range(2)]
             + [("file", ("p3.txt", b"z", "text/plain"))], 413, "at most 2"),
            ([("file", ("doc.pdf", b"%PDF-1.4 hello", "application/pdf"))], 415, "not accepted"),
            ([("file", ("fake.png", b"just text", "image/png"))], 415, "bytes are not"),
            ([("file", ("page.txt", b"<!doctype html><script>alert(1)</script>", "text/plain"))], 415, "markup"),
            ([("file", ("ok.txt", b"fine", "text/plain")), ("file", ("bad.png", b"nope", "image/png"))], 415, ""),
            ([("file", ("..", b"x", "text/plain"))], 422, "needs a name"),
            ([("upload", ("x.txt", b"x", "text/plain"))], 422, "files go in `file`"),
        ]
        for files, code, reason in cases:
            r = await http.post(url, data={"content": "hi"}, files=files)
            assert r.status_code == code, (files[0][1][0], r.status_code, r.text)
            assert reason in r.text
        broken = {"content-type": "multipart/form-data; boundary=xx"}
        r = await http.post(url, content=b"--xx\r\nbroken", headers=broken)
        assert r.status_code in (413, 422), r.text
        # the whole message's size: three parts of 900 bytes pass each file's limit, not the message's
        r = await http.post(url, data={"content": "hi"}, files=[("file", ("a.txt", b"a" * 900, "text/plain")),
                                                                ("file", ("b.txt", b"b" * 900, "text/plain"))])
        assert r.status_code == 202, r.text  # 1800 <= 2500
        assert len(await full_history(http, sid)) > events
        # nothing was left by the refused ones: only the accepted message's two blobs are new
        assert len(_blobs(tight_server, ann.id, sid)) == len(blobs) + 2

        # the stored-bytes quota counts memory files: fill it with uploads, then an attachment is refused (429)
        sid2 = (await http.post("/api/swarms", json={"goal": "Ask the user for a colour"})).json()["id"]
        codes = []
        for i in range(70):
            r = await http.post(f"/api/swarms/{sid2}/memory", files={"file": (f"f{i}.txt", bytes([97 + i % 26]) * 999,
                                                                              "text/plain")})
            codes.append(r.status_code)
            if r.status_code == 429:
                break
        assert codes[-1] == 429 and set(codes[:-1]) == {201}, codes
        await http.post(f"/api/swarms/{sid2}/spawn")
        chat2 = await awaiting_chat(http, sid2)
        r = await http.post(f"/api/swarms/{sid2}/chats/{chat2['id']}/messages", data={"content": "hi"},
                            files={"file": ("late.txt", b"l" * 999, "text/plain")})
        assert r.status_code == 429 and "most one user may store" in r.json()["detail"]
        r = await http.post(f"/api/swarms/{sid2}/chats/{chat2['id']}/messages", json={"content": "plain text"})
        assert r.status_code == 202


async def test_a_goal_refused_for_its_files_creates_no_swarm(tight_server: Server) -> None:
    ann = await signup(tight_server)
    async with ann.http() as http:
        r = await http.post("/api/swarms", data={"goal": "Look at this"},
                            files={"file": ("x.svg", b"<svg onload=alert(1)></svg>", "image/svg+xml")})
        assert r.status_code == 415
        r = await http.post("/api/swarms", data={"goal": "Look at this"},
                            files={"file": ("x.txt", b"x" * 2000, "text/plain")})
        assert r.status_code == 413
        r = await http.post("/api/swarms", data={"goal": ""}, files={"file": ("x.txt", b"x", "text/plain")})
        assert r.status_code == 422
        assert (await http.get("/api/swarms")).json()["items"] == []


async def test_the_openapi_document_offers_json_and_multipart(server: Server) -> None:
    # the document's first build can pass httpx's 5 s default on a loaded machine
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as c:
        doc = (await c.get("/api/openapi.json")).json()
    for path in ("/api/swarms", "/api/swarms/{swarm_id}/chats/{chat_id}/messages",
                 "/api/swarms/{swarm_id}/nodes/{node_id}/tell"):
        content = doc["paths"][path]["post"]["requestBody"]["content"]
        assert set(content) == {"application/json", "multipart/form-data"}, path
    assert "Attachment" in doc["components"]["schemas"]


async def _status(http: httpx.AsyncClient, sid: str, status: str) -> bool:
    return bool((await http.get(f"/api/swarms/{sid}")).json()["status"] == status)


