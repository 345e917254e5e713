"""The memory space over HTTP, against real servers: upload (multipart), list now and at a seq, download with
safe headers, owner checks, and the operator's limits (413, 415), with nothing left behind by a refused or
half-sent upload."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ApiBackend
from .helpers import Server, create_swarm, full_history, signup

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)


@pytest.fixture(scope="module")
def small_server(api_backend: ApiBackend) -> Iterator[Server]:
    """A server with tiny upload limits (1 KB a file, 4 KB a request) and no PDFs."""
    srv = api_backend.start("uploads", {"AGA_SWARM_UPLOAD_MAX_FILE_BYTES": "1024",
                                             "AGA_SWARM_UPLOAD_MAX_REQUEST_BYTES": "4096",
                                             "AGA_SWARM_UPLOAD_TYPES": "text/plain,text/markdown,image/png"})
    yield srv
    srv.stop()


def _blob_files(srv: Server, owner: str, swarm_id: str) -> list[Path]:
    base = srv.data_dir / "blobs" / "users" / owner / "swarms" / swarm_id
    return [p for p in base.rglob("*") if p.is_file()] if base.exists() else []


async def test_upload_list_download_at_seqs_and_owner_checks(server: Server) -> None:
    srv = server
    ann, bob = await signup(srv), await signup(srv)
    async with ann.http() as http, bob.http() as other:
        swarm = await create_swarm(http, "Write a poem", spawn=False)
        sid = swarm["id"]
        r = await http.post(f"/api/swarms/{sid}/memory", files=[
            ("file", ("brief.md", b"# The brief\nrhymes please", "text/markdown")),
            ("file", ("pic.png", PNG, "image/png"))])
        assert r.status_code == 201, r.text
        assert [(f["path"], f["node_id"], f["size"], f["seq"]) for f in r.json()] == [
            ("uploads/brief.md", None, 25, 1), ("uploads/pic.png", None, len(PNG), 2)]
        r = await http.post(f"/api/swarms/{sid}/memory", files={"file": ("v2.md", b"second version")},
                            data={"path": "uploads/brief.md"})
        assert r.status_code == 201, r.text
        now = (await http.get(f"/api/swarms/{sid}/memory")).json()
        assert now["seq"] == 3 and [f["path"] for f in now["files"]] == ["uploads/brief.md", "uploads/pic.png"]
        at1 = (await http.get(f"/api/swarms/{sid}/memory", params={"at": 1})).json()
        assert [(f["path"], f["seq"]) for f in at1["files"]] == [("uploads/brief.md", 1)]
        # the same files as the state's fold, at each seq
        for seq in (0, 1, 2, 3):
            listing = (await http.get(f"/api/swarms/{sid}/memory", params={"at": seq})).json()
            state = (await http.get(f"/api/swarms/{sid}/state", params={"at": seq})).json()
            assert {f["path"]: f for f in listing["files"]} == state["memory"]
        events = await full_history(http, sid)
        assert [e["type"] for e in events] == ["memory_written"] * 3
        # downloads: the version asked for, its type, inline only where safe, never sniffed
        r = await http.get(f"/api/swarms/{sid}/memory/uploads/brief.md")
        assert r.content == b"second version"
        assert r.headers["content-type"] == "text/markdown; charset=utf-8"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers.get_list("content-security-policy") == ["default-src 'none'; sandbox"]
        assert r.headers["content-disposition"].startswith("inline; filename=\"brief.md\"")
        r = await http.get(f"/api/swarms/{sid}/memory/uploads/brief.md", params={"at": 1, "download": "true"})
        assert r.content == b"# The brief\nrhymes please"
        assert r.headers["content-disposition"].startswith("attachment;")
        r = await http.get(f"/api/swarms/{sid}/memory/uploads/pic.png")
        assert r.content == PNG and r.headers["content-type"] == "image/png"
        assert (await http.get(f"/api/swarms/{sid}/memory/uploads/none.md")).status_code == 404
        assert (await http.get(f"/api/swarms/{sid}/memory/uploads/pic.png", params={"at": 1})).status_code == 404
        assert (await http.get(f"/api/swarms/{sid}/memory", params={"at": 99})).status_code == 422
        assert (await http.get(f"/api/swarms/{sid}/memory/a%2F..%2F..%2Fetc")).status_code == 422
        # another user sees none of it, and cannot write
        for method, url, kwargs in [("GET", f"/api/swarms/{sid}/memory", {}),
                                    ("GET", f"/api/swarms/{sid}/memory/uploads/pic.png", {}),
                                    ("POST", f"/api/swarms/{sid}/memory", {"files": {"file": ("x.md", b"x")}})]:
            r = await other.request(method, url, **kwargs)
            assert r.status_code == 404, (method, url, r.text)
        assert len((await http.get(f"/api/swarms/{sid}/memory")).json()["files"]) == 2


async def test_markup_is_never_served_as_itself(server: Server) -> None:
    """Even a file an agent wrote as HTML (here: through the service, as a step would) goes out as an
    octet-stream attachment."""
    from aga_swarm.engine import memory

    ann = await signup(server)
    async with ann.http() as http:
        sid = (await create_swarm(http, "a page", spawn=False))["id"]
        svc = server.open_store()
        try:
            svc._write(sid, ann.id, lambda tx: memory.write(
                tx, svc.engine.blobs, "site/index.html", b"<script>alert(1)</script>", node_id=None))
        finally:
            svc.close()
        r = await http.get(f"/api/swarms/{sid}/memory/site/index.html")
        assert r.content == b"<script>alert(1)</script>"
        assert r.headers["content-type"] == "application/octet-stream"
        assert r.headers["content-disposition"].startswith("attachment;")
        assert "sandbox" in r.headers["content-security-policy"]


async def test_limits_and_types_leave_nothing_behind(small_server: Server) -> None:
    srv = small_server
    ann = await signup(srv)
    async with ann.http() as http:
        sid = (await create_swarm(http, "files", spawn=False))["id"]
        url = f"/api/swarms/{sid}/memory"
        cases: list[tuple[dict[str, Any], int, str]] = [
            ({"files": {"file": ("big.md", b"x" * 1025)}}, 413, "limit of 1 KB a file"),
            ({"files": [("file", (f"f{i}.md", b"y" * 900)) for i in range(5)]}, 413, "too large (limit 4 KB)"),
            ({"files": {"file": ("lie.png", b"plain text")}}, 415, "bytes are not"),
            ({"files": {"file": ("doc.pdf", b"%PDF-1.4 ...")}}, 415, "not accepted"),
            ({"files": {"file": ("page.txt", b"<!doctype html><script>x</script>")}}, 415, "markup"),
            ({"files": [("file", ("ok.md", b"fine")), ("file", ("bad.png", b"nope"))]}, 415, "bad.png"),
            ({"data": {"path": "x.md"}}, 422, "no file"),
            ({"files": {"file": ("../../x.md", b"fine")}, "data": {"path": "../x.md"}}, 422, "segment"),
        ]
        for kwargs, status, reason in cases:
            r = await http.post(url, **kwargs)
            assert r.status_code == status, (kwargs.get("files"), r.text)
            assert reason in r.text, r.text
        r = await http.post(url, content=b'{"not": "a form"}', headers={"content-type": "application/json"})
        assert r.status_code == 422, r.text
        assert (await http.get(url)).json()["files"] == []
        assert (await http.get(f"/api/swarms/{sid}")).json()["last_seq"] == 0
        assert _blob_files(srv, ann.id, sid) == []
        # a body cut off half way: the connection drops, nothing is stored
        await _half_upload(srv, ann.token, url)
        assert (await http.get(url)).json()["files"] == []
        assert _blob_files(srv, ann.id, sid) == []
        # and the route still works
        r = await http.post(url, files={"file": ("ok.md", b"fine")})
        assert r.status_code == 201 and len(_blob_files(srv, ann.id, sid)) == 1


async def _half_upload(srv: Server, token: str, url: str) -> None:
    boundary = "XyZ"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"half.md\"\r\n"
            f"Content-Type: text/markdown\r\n\r\n").encode()
    body = head + b"z" * 400  # the rest (and the closing boundary) never comes
    declared = len(head) + 800 + len(f"\r\n--{boundary}--\r\n")
    _reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
    writer.write((f"POST {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                  f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {declared}\r\n\r\n"
                  ).encode() + body)
    await writer.drain()
    await asyncio.sleep(0.3)
    writer.close()
    await writer.wait_closed()
    await asyncio.sleep(0.3)
