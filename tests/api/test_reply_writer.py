"""Where a reply is written (``ServerContext.write``): on SQLite, on the runner's thread (the default) or, with
``AGA_SWARM_RUNNER_THREAD=false``, on the server's event loop where the runner then runs. Either way the reply is
answered 202 with its message, the node's next message follows (its model call was handed to the runner), and an
error raised in the reply's transaction reaches the request with its status."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from aga_swarm.server.app import create_app
from aga_swarm.server.hotpath import FastReply
from aga_swarm.server.runner_thread import InlineRunner, RunnerThread
from aga_swarm.server.settings import Settings


def _fast_path(app: Any) -> FastReply:
    layer = app
    while not isinstance(layer, FastReply):
        layer = getattr(layer, "app", None) or layer.other_asgi_app
    return layer


def _messages_until(http: TestClient, url: str, headers: dict[str, str], count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        messages: list[dict[str, object]] = http.get(url, headers=headers).json()
        if len(messages) >= count:
            return messages
        time.sleep(0.02)
    raise AssertionError(f"fewer than {count} messages in 30 s")


@pytest.mark.parametrize("runner_thread", ["true", "false"])
def test_a_reply_is_written_and_answered_where_the_runner_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                runner_thread: str) -> None:
    monkeypatch.setenv("AGA_SWARM_RUNNER_THREAD", runner_thread)
    settings = Settings.from_env(data_dir=str(tmp_path / "data"))
    assert settings.runner_thread is (runner_thread == "true")
    app = create_app(settings)
    with TestClient(app) as http:
        ctx = _fast_path(app).api.state.ctx
        post_reply = ctx.service.post_reply
        threads: list[str] = []

        def recorded(*args: Any, **kwargs: Any) -> Any:
            threads.append(threading.current_thread().name)
            return post_reply(*args, **kwargs)

        ctx.service.post_reply = recorded
        r = http.post("/api/auth/signup", json={"username": "writer", "password": "a long enough password 1"})
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        http.cookies.clear()
        goal = "Ask the user question 0 about the launch (after)\nAsk the user question 1 about the launch (after)"
        sid = http.post("/api/swarms", json={"goal": goal}, headers=headers).json()["id"]
        assert http.post(f"/api/swarms/{sid}/spawn", headers=headers).status_code == 200
        deadline = time.monotonic() + 30
        waiting: list[str] = []
        while len(waiting) < 2 and time.monotonic() < deadline:
            chats = http.get(f"/api/swarms/{sid}/chats", headers=headers).json()
            waiting = sorted(c["id"] for c in chats if c["status"] == "awaiting_user")
            time.sleep(0.02)
        assert len(waiting) == 2, waiting
        for chat in waiting:
            url = f"/api/swarms/{sid}/chats/{chat}/messages"
            r = http.post(url, json={"content": f"answer to {chat}"}, headers=headers)
            assert r.status_code == 202, r.text
            assert r.json()["content"] == f"answer to {chat}" and r.json()["role"] == "user"
            # the node's next message follows the reply: its model call ran on the runner
            messages = _messages_until(http, url, headers, 3)
            assert [m["role"] for m in messages[:3]] == ["agent", "user", "agent"]
            assert messages[1]["content"] == f"answer to {chat}"
        # an error raised in the writer's transaction reaches the request (no such chat: 404)
        r = http.post(f"/api/swarms/{sid}/chats/nope/messages", json={"content": "hi"}, headers=headers)
        assert r.status_code == 404, r.text
        assert len(threads) == 3
        if runner_thread == "true":
            assert set(threads) == {"aga-runner"}
        else:  # on the event loop's own thread: neither the runner's nor an offload thread
            assert len(set(threads)) == 1 and not threads[0].startswith(("aga-runner", "aga-offload"))


def test_the_runner_runs_where_the_setting_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for flag, kind in (("true", RunnerThread), ("false", InlineRunner)):
        monkeypatch.setenv("AGA_SWARM_RUNNER_THREAD", flag)
        settings = Settings.from_env(data_dir=str(tmp_path / f"data-{flag}"))
        app = create_app(settings)
        with TestClient(app) as http:
            assert http.get("/healthz").status_code == 200
            names = {t.name for t in threading.enumerate()}
            assert ("aga-runner" in names) is (kind is RunnerThread)
