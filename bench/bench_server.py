"""Web server benchmark: reply-to-push latency and read throughput, against a real server process.

1. Reply-to-push latency: the time from sending the POST of a user reply to the arrival, at a real
   Socket.IO client, of the resumed node's next agent message (the scripted model's follow-up, or its
   closing message). N users (1, 50, 200 by default) each run a swarm whose goal is a few `Ask ...` lines;
   once every question is waiting, every user replies in a loop: send a reply, wait for the agent's next
   message, think (0 s: a closed-loop stress test; T s: uniform(T/2, 3T/2), human pace), reply again. Each
   question takes four replies ("ok" is too short: three follow-ups, then the closing message), so every
   reply yields one sample.
2. Requests per second of GET /api/swarms and GET /api/swarms/{id}/state for a 1,000-node swarm (a goal
   of 1,000 plain lines), with C concurrent keep-alive connections for a fixed time.

The server runs in its own process (`aga_swarm.server.main.serve`, SQLite in a temp dir, in-process
runner); this process is only the load client. Results are printed as Markdown tables.

    .venv/bin/python bench/bench_server.py                 # everything
    .venv/bin/python bench/bench_server.py --users 1,50 --skip-throughput
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import socketio

ROOT = Path(__file__).resolve().parents[1]
REPLIES_PER_QUESTION = 4  # 3 follow-ups (max_followups) and then the closing message


# ---- server process --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    def __init__(self, workdir: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = workdir / "data"
        self.log_path = workdir / "server.log"
        self.env = {**os.environ, "AGA_SWARM_BCRYPT_ROUNDS": "4", "AGA_SWARM_IDLE_SECONDS": "3600",
                    "AGA_SWARM_LOGIN_IP_MAX_FAILURES": "100000",
                    "AGA_SWARM_SIGNUP_IP_MAX": "100000", **(env or {})}
        self.env.pop("OPENAI_API_KEY", None)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        code = f"from aga_swarm.server.main import serve; serve('127.0.0.1', {self.port}, {str(self.data_dir)!r})"
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen([sys.executable, "-c", code], env=self.env, stdout=log, stderr=log, cwd=ROOT)
        import urllib.request

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + self.log_path.read_text()[-3000:])
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (Linux)."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# ---- helpers -----------------------------------------------------------------------------------------
def pct(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


async def signup(http: aiohttp.ClientSession, base: str) -> tuple[str, str]:
    name = f"bench_{uuid.uuid4().hex[:12]}"
    async with http.post(base + "/api/auth/signup", json={"username": name, "password": uuid.uuid4().hex}) as r:
        assert r.status == 201, await r.text()
        data = await r.json()
    return data["user"]["id"], data["token"]


@dataclass
class User:
    base: str
    token: str
    n_questions: int
    sio: socketio.AsyncClient = field(default_factory=lambda: socketio.AsyncClient(reconnection=False))
    swarm_id: str = ""
    questions: set[str] = field(default_factory=set)
    waiters: dict[tuple[str, int], asyncio.Future[float]] = field(default_factory=dict)
    arrived: dict[tuple[str, int], float] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    samples: list[float] = field(default_factory=list)
    sample_at: list[float] = field(default_factory=list)  # perf_counter when each sample's POST was sent
    commit_ms: list[float] = field(default_factory=list)  # POST sent -> the agent message committed (event ts)
    push_ms: list[float] = field(default_factory=list)  # committed -> arrived at this client
    committed: dict[tuple[str, int], float] = field(default_factory=dict)
    arrived_wall: dict[tuple[str, int], float] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def on_event(self, e: dict[str, Any]) -> None:
        now = time.perf_counter()
        if e["type"] != "message_posted" or e["swarm_id"] != self.swarm_id:
            return
        m = e["data"]["message"]
        if m["role"] != "agent":
            return
        key = (m["chat_id"], m["index"])
        self.arrived[key] = now
        self.arrived_wall[key] = time.time()
        self.committed[key] = datetime.fromisoformat(e["ts"]).timestamp()
        fut = self.waiters.pop(key, None)
        if fut is not None and not fut.done():
            fut.set_result(now)
        if m["index"] == 0:
            self.questions.add(m["chat_id"])
            if len(self.questions) >= self.n_questions:
                self.ready.set()

    async def on_events(self, events: list[dict[str, Any]]) -> None:
        """A committed batch in one ``swarm_events`` packet (this client asks for them, as the web app does)."""
        for e in events:
            await self.on_event(e)

    async def setup(self, http: aiohttp.ClientSession) -> None:
        self.sio.on("swarm_event", self.on_event)
        self.sio.on("swarm_events", self.on_events)
        await self.sio.connect(self.base, auth={"token": self.token, "batch": True}, transports=["websocket"],
                               wait_timeout=30)
        goal = "\n".join(f"Ask the user question {i} about the launch" for i in range(self.n_questions))
        async with http.post(self.base + "/api/swarms", json={"goal": goal}, headers=self.headers) as r:
            assert r.status == 201, await r.text()
            self.swarm_id = (await r.json())["id"]
        async with http.post(f"{self.base}/api/swarms/{self.swarm_id}/spawn", headers=self.headers) as r:
            assert r.status == 200, await r.text()

    async def converse(self, http: aiohttp.ClientSession, think: float, rng: random.Random) -> None:
        loop = asyncio.get_running_loop()
        if think:
            await asyncio.sleep(rng.uniform(0, think))  # users do not all start at once
        for chat_id in sorted(self.questions):
            url = f"{self.base}/api/swarms/{self.swarm_id}/chats/{chat_id}/messages"
            for i in range(REPLIES_PER_QUESTION):
                key = (chat_id, 2 * i + 2)
                fut: asyncio.Future[float] = loop.create_future()
                self.waiters[key] = fut
                t0, wall0 = time.perf_counter(), time.time()
                async with http.post(url, json={"content": "ok"}, headers=self.headers) as r:
                    if r.status != 202:
                        raise RuntimeError(f"reply failed: {r.status} {await r.text()}")
                    await r.read()
                if key in self.arrived:  # pushed before the HTTP answer was read
                    t1 = self.arrived[key]
                else:
                    t1 = await asyncio.wait_for(fut, timeout=60)
                self.samples.append((t1 - t0) * 1000)
                self.sample_at.append(t0)
                self.commit_ms.append((self.committed[key] - wall0) * 1000)
                self.push_ms.append((self.arrived_wall[key] - self.committed[key]) * 1000)
                if think:
                    await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))


async def latency_run(srv: ServerProcess, users: int, samples_target: int, think: float) -> dict[str, Any]:
    base = srv.url
    n_questions = 1 if think else max(1, math.ceil(samples_target / users / REPLIES_PER_QUESTION))
    rng = random.Random(users)
    # drop idle connections before the server's 5 s keep-alive does, so a request never races a close
    conn = aiohttp.TCPConnector(limit=0, keepalive_timeout=2)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=120)) as http:
        accounts = [await signup(http, base) for _ in range(users)]
        people = [User(base, token, n_questions) for _, token in accounts]
        t_setup = time.perf_counter()
        sem = asyncio.Semaphore(20)

        async def setup(u: User) -> None:
            async with sem:
                await u.setup(http)

        await asyncio.gather(*(setup(u) for u in people))
        await asyncio.wait_for(asyncio.gather(*(u.ready.wait() for u in people)), timeout=600)
        setup_s = time.perf_counter() - t_setup
        await asyncio.sleep(0.5)
        t_run, cpu0 = time.perf_counter(), srv.cpu_seconds()
        await asyncio.gather(*(u.converse(http, think, rng) for u in people))
        run_s, cpu = time.perf_counter() - t_run, srv.cpu_seconds() - cpu0
        for u in people:
            await u.sio.disconnect()
    samples = [s for u in people for s in u.samples]
    commit = [s for u in people for s in u.commit_ms]
    push = [s for u in people for s in u.push_ms]
    return {"users": users, "think": think, "questions_per_user": n_questions, "samples": len(samples),
            "p50": pct(samples, 50), "p90": pct(samples, 90), "p99": pct(samples, 99),
            "mean": statistics.fmean(samples), "max": max(samples), "replies_per_s": len(samples) / run_s,
            "commit_p50": pct(commit, 50), "commit_p99": pct(commit, 99), "push_p50": pct(push, 50),
            "push_p99": pct(push, 99), "cpu_ms_per_reply": cpu * 1000 / len(samples),
            "server_cpu_pct": 100 * cpu / run_s,
            "setup_s": setup_s}


async def throughput_run(base: str, lines: int, seconds: float, concurrency: int) -> list[dict[str, Any]]:
    conn = aiohttp.TCPConnector(limit=0, keepalive_timeout=2)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=600)) as http:
        _, token = await signup(http, base)
        headers = {"Authorization": f"Bearer {token}"}
        for i in range(9):  # a few small drafts beside the big swarm, so the list is not trivial
            async with http.post(base + "/api/swarms", json={"goal": f"Do small thing {i}"}, headers=headers) as r:
                assert r.status == 201
        goal = "\n".join(f"Do item {i}" for i in range(lines))
        async with http.post(base + "/api/swarms", json={"goal": goal}, headers=headers) as r:
            sid = (await r.json())["id"]
        async with http.post(f"{base}/api/swarms/{sid}/spawn", headers=headers) as r:
            assert r.status == 200
        t0 = time.perf_counter()
        status = "running"
        while time.perf_counter() - t0 < 600:
            await asyncio.sleep(1)
            async with http.get(f"{base}/api/swarms/{sid}", headers=headers) as r:
                status = (await r.json())["status"]
            if status != "running":
                break
        build_s = time.perf_counter() - t0
        t_cold = time.perf_counter()
        async with http.get(f"{base}/api/swarms/{sid}/state", headers=headers) as r:
            body = await r.read()
        cold_ms = (time.perf_counter() - t_cold) * 1000
        n_nodes = len(json.loads(body)["nodes"])
        state_bytes = len(body)

        results = []
        for label, path in (("GET /api/swarms", "/api/swarms"),
                            (f"GET /api/swarms/{{id}}/state ({n_nodes} nodes)", f"/api/swarms/{sid}/state")):
            latencies: list[float] = []
            stop_at = time.perf_counter() + seconds

            async def worker(path: str = path, latencies: list[float] = latencies, stop_at: float = stop_at) -> None:
                while time.perf_counter() < stop_at:
                    t = time.perf_counter()
                    async with http.get(base + path, headers=headers) as r:
                        await r.read()
                        assert r.status == 200
                    latencies.append((time.perf_counter() - t) * 1000)

            t = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - t
            results.append({"endpoint": label, "rps": len(latencies) / elapsed, "p50": pct(latencies, 50),
                            "p99": pct(latencies, 99), "requests": len(latencies)})
        results.append({"swarm": sid, "status": status, "build_s": build_s, "nodes": n_nodes,
                        "state_bytes": state_bytes, "cold_ms": cold_ms})
        return results


def environment() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · nproc {os.cpu_count()} · {cpu} · "
            f"Python {platform.python_version()} · SQLite (WAL), in-process runner, scripted model")


async def main_async(args: argparse.Namespace) -> None:
    extra = "".join(f" · {k}={v}" for k, v in args.env.items())
    print(f"# Web server benchmark\n\n{environment()}{extra}\n")
    with tempfile.TemporaryDirectory() as tmp:
        if args.users:
            rows = []
            for think in args.think:
                for n in args.users:
                    if think and n == 1:
                        continue  # a single user never waits behind anyone: think time changes nothing
                    work = Path(tmp) / f"lat{n}-{think}"
                    work.mkdir()
                    srv = ServerProcess(work, args.env)
                    srv.start()
                    try:
                        rows.append(await latency_run(srv, n, args.samples, think))
                    finally:
                        srv.stop()
                    r = rows[-1]
                    print(f"  {n} users, think {think} s: p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms",
                          file=sys.stderr)
            print("## Reply-to-push latency (POST reply -> next agent message on the socket)\n")
            print("Think time 0: every user replies again as soon as the answer arrives (closed loop, a stress "
                  "test).\nThink time T: each user waits uniform(T/2, 3T/2) seconds between replies.\n")
            print("Split: *commit* = POST sent -> the agent message committed (the event's `ts`); *push* = "
                  "committed -> arrived at the client. Server CPU: the server process's CPU time during the run, "
                  "per reply and as a share of one core.\n")
            print("| users | think s | samples | p50 ms | p90 ms | p99 ms | mean ms | max ms | replies/s "
                  "| commit p50/p99 ms | push p50/p99 ms | server CPU ms/reply | server CPU % |")
            print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for r in rows:
                print(f"| {r['users']} | {r['think']:g} | {r['samples']} | {r['p50']:.1f} | {r['p90']:.1f} | "
                      f"{r['p99']:.1f} | {r['mean']:.1f} | {r['max']:.1f} | {r['replies_per_s']:.1f} "
                      f"| {r['commit_p50']:.0f} / {r['commit_p99']:.0f} | {r['push_p50']:.0f} / {r['push_p99']:.0f} "
                      f"| {r['cpu_ms_per_reply']:.1f} | {r['server_cpu_pct']:.0f} |")
            print()
        if not args.skip_throughput:
            srv = ServerProcess(Path(tmp) / "tput", args.env)
            (Path(tmp) / "tput").mkdir()
            srv.start()
            try:
                res = await throughput_run(srv.url, args.lines, args.seconds, args.concurrency)
            finally:
                srv.stop()
            meta = res.pop()
            print(f"## Read throughput ({args.concurrency} keep-alive connections, {args.seconds:.0f} s each)\n")
            print(f"Swarm of {meta['nodes']} nodes ({meta['status']} after {meta['build_s']:.0f} s; state JSON "
                  f"{meta['state_bytes'] / 1e6:.2f} MB, first (uncached) render {meta['cold_ms']:.0f} ms); the user "
                  "owns 10 swarms. Rendered states are cached by (swarm, seq); set "
                  "AGA_SWARM_STATE_CACHE_BYTES=0 (--env) to measure without the cache.\n")
            print("| endpoint | requests/s | p50 ms | p99 ms | requests |")
            print("|---|---:|---:|---:|---:|")
            for r in res:
                print(f"| {r['endpoint']} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['requests']} |")
            print()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", default="1,50,200", help="comma-separated concurrent user counts ('' to skip)")
    p.add_argument("--samples", type=int, default=400, help="target latency samples per closed-loop run (at "
                   "least 4 per user; with think time each user answers one question: 4 samples)")
    p.add_argument("--think", default="0,10", help="comma-separated mean think times in seconds between a "
                   "user's replies (0: closed loop)")
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra server environment, e.g. AGA_SWARM_RUNNER_CONCURRENCY=8 (repeatable)")
    p.add_argument("--lines", type=int, default=1000, help="goal lines (nodes) of the throughput swarm")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--concurrency", type=int, default=8)
    args = p.parse_args()
    args.users = [int(x) for x in args.users.split(",") if x.strip()]
    args.think = [float(x) for x in args.think.split(",") if x.strip()]
    args.env = dict(e.split("=", 1) for e in args.env)
    try:
        import uvloop
    except ImportError:
        asyncio.run(main_async(args))
    else:
        uvloop.run(main_async(args))


if __name__ == "__main__":
    main()
