"""Helpers for the API tests: a real server process, HTTP clients that watch for leaked secrets, and a
real Socket.IO client that records what it receives."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import socketio

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Secrets:
    """Every password and token the tests create; none may appear in a response (other than the token a
    signup/login returns) or in a server log."""

    passwords: set[str] = set()
    tokens: set[str] = set()

    @classmethod
    def all(cls) -> set[str]:
        return cls.passwords | cls.tokens


def check_log(path: Path) -> list[dict[str, Any]]:
    """A server's log is one JSON object a line, requests carry their fields (and no query string), and no
    password, token or cookie any test used is in it. Returns its records."""
    records = []
    text = path.read_text(errors="replace")
    for line in text.splitlines():
        record = json.loads(line)  # every line is one JSON object
        assert {"ts", "level", "logger", "msg"} <= set(record), line
        if record["logger"] == "aga_swarm.server.access":
            assert {"method", "path", "status", "ms", "user_id", "request_id"} <= set(record), line
            assert "?" not in record["path"], line
        records.append(record)
    for secret in Secrets.all():
        assert secret not in text, f"a password or token reached the log {path.name}"
    assert "aga_session=" not in text and "Bearer " not in text, f"a credential reached the log {path.name}"
    return records


@dataclass
class Server:
    url: str
    port: int
    data_dir: Path
    log_path: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    on_stop: list[Callable[[], None]] = field(default_factory=list)  # run once the server has stopped

    @classmethod
    def start(cls, tmp: Path, name: str, env: dict[str, str] | None = None, *, data_dir: Path | None = None,
              port: int | None = None) -> Server:
        port = port or free_port()
        data_dir = data_dir or tmp / f"{name}-data"
        log_path = tmp / f"{name}-{port}.log"
        inherited = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
        full_env = {**inherited, "AGA_SWARM_BCRYPT_ROUNDS": "4", "AGA_SWARM_IDLE_SECONDS": "1",
                    "AGA_SWARM_IDLE_CHECK_SECONDS": "0.25", "AGA_SWARM_STATIC_DIR": str(tmp / f"{name}-static"),
                    # the suite signs many users up from 127.0.0.1; the limit itself has a server of its own
                    "AGA_SWARM_SIGNUP_IP_MAX": "1000000",
                    "PYTHONUNBUFFERED": "1", **(env or {})}
        srv = cls(url=f"http://127.0.0.1:{port}", port=port, data_dir=data_dir, log_path=log_path, env=full_env)
        srv._spawn()
        return srv

    def _spawn(self) -> None:
        code = (f"from aga_swarm.server.main import serve; serve('127.0.0.1', {self.port}, "
                f"{str(self.data_dir)!r})")
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen([sys.executable, "-c", code], env=self.env, stdout=log, stderr=log,
                                     cwd=ROOT)
        # a liveness bound, not a speed check: at a load of 15-20 on 2 cores a server takes 20-40 s to start
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not start:\n{self.log_path.read_text()[-4000:]}")

    def stop(self) -> None:
        """Stop the server and check its whole log (``check_log``): every test's server is checked when it
        stops, whatever ran before or after it. Then run ``on_stop`` (drop its database)."""
        if self.proc is None or self.proc.poll() is not None:
            self._after_stop()
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        try:
            check_log(self.log_path)
        finally:
            self._after_stop()

    def _after_stop(self) -> None:
        while self.on_stop:
            self.on_stop.pop(0)()

    @property
    def db_url(self) -> str:
        """The URL of this server's database (SQLite in its data directory unless it was given one)."""
        return self.env.get("AGA_SWARM_DB_URL") or f"sqlite:///{self.data_dir / 'swarm.db'}"

    @property
    def is_postgres(self) -> bool:
        return not self.db_url.startswith("sqlite")

    def open_store(self) -> Any:
        """A SwarmService on this server's store, from the test process (close it after use)."""
        from aga_swarm.service import SwarmService

        return SwarmService(data_dir=self.data_dir, db_url=self.env.get("AGA_SWARM_DB_URL"),
                            blob_url=self.env.get("AGA_SWARM_BLOB_URL"))

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


async def _check_no_secrets(response: httpx.Response) -> None:
    await response.aread()
    body = response.text
    headers = " ".join(f"{k}: {v}" for k, v in response.headers.items())
    path = response.request.url.path
    for secret in Secrets.all():
        assert secret not in body, f"a secret leaked in the body of {response.request.method} {path}"
        assert secret not in headers, f"a secret leaked in the headers of {response.request.method} {path}"


def client(server: Server, token: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30,
                             event_hooks={"response": [_check_no_secrets]}, **kwargs)


@dataclass
class Account:
    server: Server
    user: dict[str, Any]
    username: str
    password: str
    token: str

    @property
    def id(self) -> str:
        return str(self.user["id"])

    def http(self) -> httpx.AsyncClient:
        return client(self.server, self.token)


def new_password() -> str:
    pw = f"pw-{uuid.uuid4().hex}-Secret"
    Secrets.passwords.add(pw)
    return pw


def new_username(prefix: str = "user") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


async def signup(server: Server, username: str | None = None, password: str | None = None) -> Account:
    username = username or new_username()
    password = password or new_password()
    async with client(server) as c:
        r = await c.post("/api/auth/signup", json={"username": username, "password": password})
        assert r.status_code == 201, r.text
        data = r.json()
    Secrets.tokens.add(data["token"])
    return Account(server, data["user"], username, password, data["token"])


@dataclass
class Recorder:
    """A real Socket.IO client that records swarm events and notices. With ``batch`` it asks for events in
    batches (``swarm_events``, as the web app does) and also records each packet's events in ``packets``."""

    server: Server
    batch: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)
    packets: list[list[dict[str, Any]]] = field(default_factory=list)
    singles: int = 0  # ``swarm_event`` packets received
    notices: list[dict[str, Any]] = field(default_factory=list)
    sio: socketio.AsyncClient = field(default_factory=lambda: socketio.AsyncClient(reconnection=False))
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.sio.on("swarm_event", self._on_event)
        self.sio.on("swarm_events", self._on_events)
        self.sio.on("swarm_notice", self._on_notice)

    async def _on_event(self, data: dict[str, Any]) -> None:
        self.singles += 1
        self.events.append(data)
        self._changed.set()

    async def _on_events(self, data: list[dict[str, Any]]) -> None:
        self.packets.append(data)
        self.events.extend(data)
        self._changed.set()

    async def _on_notice(self, data: dict[str, Any]) -> None:
        self.notices.append(data)
        self._changed.set()

    async def connect(self, token: str | None = None, *, headers: dict[str, str] | None = None) -> Recorder:
        auth: dict[str, Any] = {"token": token} if token else {}
        if self.batch:
            auth["batch"] = True
        await self.sio.connect(self.server.url, auth=auth or None, headers=headers or {},
                               transports=["websocket"], wait_timeout=10)
        return self

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()

    def swarm_events(self, swarm_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["swarm_id"] == swarm_id]

    async def wait_for(self, pred: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            found = pred()
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(left, 0.5))
            except TimeoutError:
                pass

    async def wait_event(self, swarm_id: str, pred: Callable[[dict[str, Any]], bool], timeout: float = 15.0,
                         what: str = "event") -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            return next((e for e in self.swarm_events(swarm_id) if pred(e)), None)

        result: dict[str, Any] = await self.wait_for(find, timeout, what)
        return result

    async def wait_notice(self, swarm_id: str, kind: str, timeout: float = 15.0) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            return next((n for n in self.notices if n["swarm_id"] == swarm_id and n["kind"] == kind), None)

        result: dict[str, Any] = await self.wait_for(find, timeout, f"notice {kind}")
        return result

    async def quiet(self, swarm_id: str, seconds: float = 0.5, timeout: float = 15.0) -> int:
        """Wait until no event of this swarm arrived for `seconds`; return how many arrived so far."""
        deadline = time.monotonic() + timeout
        count = len(self.swarm_events(swarm_id))
        last_change = time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            now = len(self.swarm_events(swarm_id))
            if now != count:
                count, last_change = now, time.monotonic()
            elif time.monotonic() - last_change >= seconds:
                return count
        raise AssertionError("the swarm never went quiet")


def agent_message(chat_id: str | None = None, index: int | None = None) -> Callable[[dict[str, Any]], bool]:
    def pred(e: dict[str, Any]) -> bool:
        if e["type"] != "message_posted":
            return False
        m = e["data"]["message"]
        return bool(m["role"] == "agent" and (chat_id is None or m["chat_id"] == chat_id)
                    and (index is None or m["index"] == index))
    return pred


def status_event(status: str) -> Callable[[dict[str, Any]], bool]:
    return lambda e: e["type"] == "swarm_status" and e["data"]["status"] == status


async def create_swarm(http: httpx.AsyncClient, goal: str, *, spawn: bool = True, **extra: Any) -> dict[str, Any]:
    r = await http.post("/api/swarms", json={"goal": goal, **extra})
    assert r.status_code == 201, r.text
    swarm: dict[str, Any] = r.json()
    if spawn:
        r = await http.post(f"/api/swarms/{swarm['id']}/spawn")
        assert r.status_code == 200, r.text
        swarm = r.json()
        assert swarm["status"] == "running"
    return swarm


async def poll(fn: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await fn()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(interval)


async def awaiting_chat(http: httpx.AsyncClient, swarm_id: str, timeout: float = 15.0) -> dict[str, Any]:
    async def find() -> dict[str, Any] | None:
        r = await http.get(f"/api/swarms/{swarm_id}/chats")
        assert r.status_code == 200, r.text
        return next((c for c in r.json() if c["status"] == "awaiting_user"), None)

    result: dict[str, Any] = await poll(find, timeout, what="a chat awaiting the user")
    return result


async def full_history(http: httpx.AsyncClient, swarm_id: str, after: int = 0, limit: int = 1000) -> list[Any]:
    events: list[Any] = []
    while True:
        r = await http.get(f"/api/swarms/{swarm_id}/history", params={"after": after, "limit": limit})
        assert r.status_code == 200, r.text
        page = r.json()
        events += page["events"]
        if not page["events"] or page["events"][-1]["seq"] >= page["last_seq"]:
            return events
        after = page["events"][-1]["seq"]
