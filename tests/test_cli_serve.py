"""`aga-swarm serve` as a real process: its request log and error lines by default, -q, a busy port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

BIN = Path(sys.executable).parent / "aga-swarm"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, Path]]:
    """`aga-swarm serve ARGS` on a free port; yields its URL and the file its stdout and stderr go to."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    full_env = {**os.environ, "AGA_SWARM_BCRYPT_ROUNDS": "4", "AGA_SWARM_STATIC_DIR": str(tmp_path / "static"),
                **(env or {})}
    full_env.pop("AGA_SWARM_DATA", None)
    full_env.pop("OPENAI_API_KEY", None)
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(BIN), "serve", "--port", str(port), "--data-dir", str(tmp_path / "data"),
                                 *args], stdout=out, stderr=out, env=full_env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"serve exited early:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"serve did not start:\n{log.read_text()}"
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url, log
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def json_lines(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def test_serve_logs_a_json_line_per_request_by_default(tmp_path: Path) -> None:
    with serving(tmp_path) as (url, log):
        assert httpx.get(url + "/api/me").status_code == 401
        assert httpx.get(url + "/api/swarms/nope").status_code == 401
    requests = [r for r in json_lines(log) if r.get("logger") == "aga_swarm.server.access"]
    assert {(r["method"], r["path"], r["status"]) for r in requests} >= {("GET", "/api/me", 401),
                                                                         ("GET", "/api/swarms/nope", 401)}
    assert all({"ms", "request_id", "user_id"} <= set(r) for r in requests)
    assert any(r.get("msg") == "server started" for r in json_lines(log))


def test_serve_quiet_logs_nothing(tmp_path: Path) -> None:
    with serving(tmp_path, "-q") as (url, log):
        assert httpx.get(url + "/api/me").status_code == 401
    assert log.read_text().strip() == ""


def test_serve_refuses_a_busy_port_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = subprocess.run([str(BIN), "serve", "--port", str(port), "--data-dir", str(tmp_path)],
                             capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    assert res.stderr.strip() == f"error: port {port} on 127.0.0.1 is already in use; stop the other server " \
                                 "or pass --port"
    assert not (tmp_path / "swarm.db").exists()  # it stopped before opening the store
