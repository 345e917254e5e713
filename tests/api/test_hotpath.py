"""The reply route's fast path (``server/hotpath.py``) answers exactly as the FastAPI route does: the same request
sent through the whole app (fast path) and straight to the FastAPI app gets the same status and body, for a
reply that is taken and for each way a reply is refused."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from aga_swarm.server.app import create_app
from aga_swarm.server.hotpath import FastReply
from aga_swarm.server.settings import Settings


def _fast_path(app: Any) -> FastReply:
    """The fast path, under the edge, tracing, security and Socket.IO layers (its ``api``: the FastAPI app)."""
    layer = app
    while not isinstance(layer, FastReply):
        layer = getattr(layer, "app", None) or layer.other_asgi_app
    return layer


def _awaiting_chat(http: TestClient, sid: str, headers: dict[str, str]) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        chats = http.get(f"/api/swarms/{sid}/chats", headers=headers).json()
        waiting = [c["id"] for c in chats if c["status"] == "awaiting_user"]
        if waiting:
            return waiting[0]
        time.sleep(0.05)
    raise AssertionError("no question was asked")


def test_the_fast_path_answers_as_the_route_does(tmp_path: Path) -> None:
    settings = Settings.from_env(data_dir=str(tmp_path / "data"))
    app = create_app(settings)
    hot = _fast_path(app)
    plain = TestClient(hot.api)  # not entered: the app's lifespan runs once, in ``fast``
    with TestClient(app) as fast:
        def signup(name: str) -> dict[str, str]:
            r = fast.post("/api/auth/signup", json={"username": name, "password": "a long enough password 1"})
            assert r.status_code == 201, r.text
            return {"Authorization": f"Bearer {r.json()['token']}"}

        alice, bob = signup("alice_hot"), signup("bob_hot")
        fast.cookies.clear()  # each request says who it is (signup set a cookie)
        r = fast.post("/api/swarms", json={"goal": "Ask the user which colour the poster should use"},
                      headers=alice)
        sid = r.json()["id"]
        assert fast.post(f"/api/swarms/{sid}/spawn", headers=alice).status_code == 200
        chat = _awaiting_chat(fast, sid, alice)
        url = f"/api/swarms/{sid}/chats/{chat}/messages"
        refused: list[tuple[str, dict[str, str], Any]] = [
            (url, bob, {"json": {"content": "an intruder"}}),  # someone else's swarm: 404
            (f"/api/swarms/nope/chats/{chat}/messages", alice, {"json": {"content": "hi"}}),  # 404
            (f"/api/swarms/{sid}/chats/nope/messages", alice, {"json": {"content": "hi"}}),  # 404 (no chat)
            (url, alice, {"json": {"content": ""}}),  # 422: no content
            (url, alice, {"json": {"content": 5}}),  # 422: not a string
            (url, alice, {"content": b"{not json", "headers": {"content-type": "application/json"}}),  # 422
            (url, alice, {"json": {"content": "hi", "attachments": ["../etc/passwd"]}}),  # 422 or 404
            (url, {}, {"json": {"content": "hi"}}),  # 401: not logged in
            (url, {"Authorization": "Bearer nope"}, {"json": {"content": "hi"}}),  # 401: no such session
            (url, {"Cookie": f"aga_session={alice['Authorization'][7:]}"}, {"json": {"content": ""}}),  # cookie
            ("/api/swarms/bad%20id/chats/x/messages", alice, {"json": {"content": "hi"}}),  # 422: a bad id
        ]
        for path, headers, kwargs in refused:
            extra = kwargs.pop("headers", {})
            a = fast.post(path, headers={**headers, **extra}, **kwargs)
            b = plain.post(path, headers={**headers, **extra}, **kwargs)
            assert 400 <= a.status_code < 500, (path, a.status_code, a.text)
            assert (a.status_code, a.json()) == (b.status_code, b.json()), path
            assert a.headers.get("www-authenticate") == b.headers.get("www-authenticate")
        # all but the three FastAPI answers itself (no session twice, a bad id) took the fast path
        assert hot.taken == len(refused) - 3

        r = fast.post(url, json={"content": "Blue, like the sea."}, headers=alice)
        assert r.status_code == 202, r.text
        assert r.headers["content-type"] == "application/json"
        messages = fast.get(url, headers=alice).json()
        assert r.json() == messages[1] and messages[1]["content"] == "Blue, like the sea."
        # the reply is no longer awaited: both answer 409 alike
        a = fast.post(url, json={"content": "again"}, headers=alice)
        b = plain.post(url, json={"content": "again"}, headers=alice)
        assert a.status_code == 409 and (a.status_code, a.json()) == (b.status_code, b.json())
