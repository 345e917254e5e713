"""One server process holding many running swarms: reply-to-push latency under issue 14's load.

Issue 14: "One server process must hold 20,000 running swarms with reply-to-push p99 under 100 ms. The load is
10% of swarms with an active user replying every 5-15 s, plus 500 idle sockets." This builds that load:

1. Background swarms (90%): created and run in this process on the server's store before the server starts
   (SwarmService on its SQLite file, the scripted model), each parked on a question nobody answers, so they are
   running swarms the server holds (its idle check scans them; its state cache and memory carry them).
2. The server starts (its own process, `aga_swarm.server.main.serve`, in-process runner, as `make run` has it).
3. Active users (10%): each signs up, opens a Socket.IO connection, creates and spawns a swarm with a few
   questions, and replies every uniform(5, 15) s for ``--seconds``; a sample is the time from sending the POST
   of a reply to the arrival of the resumed node's next agent message on the user's socket.
4. Idle sockets: users who sign up and connect and do nothing.

The load client is this process (2 cores shared with the server: its own CPU time is printed too). Reported:
p50/p90/p99 reply-to-push latency, replies per second, the server's CPU share, its RSS after the background
swarms are loaded and after every socket is connected (memory per socket and per swarm), and the load average.

    .venv/bin/python bench/bench_scale.py --swarms 20000            # the issue's test
    .venv/bin/python bench/bench_scale.py --swarms 2500 --seconds 60
    .venv/bin/python bench/bench_scale.py --swarms 5000 --seed-cache /tmp/aga-seeds   # seeds once, copies after
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp

import bench_server as bs
import common as c

GOAL_BG = "Ask the user which colour item {i} should be"
BATCH = True
"""Sockets ask for events in batches (``swarm_events``), as the web app does; ``--single-events`` for one
``swarm_event`` packet per event."""


class ActiveUser(bs.User):
    """``bench_server.User`` whose questions are asked at once (``(after)``: no question waits for another), so
    a user has as many replies to give as the run needs."""

    async def setup(self, http: aiohttp.ClientSession) -> None:
        self.sio.on("swarm_event", self.on_event)
        self.sio.on("swarm_events", self.on_events)
        await self.sio.connect(self.base, auth={"token": self.token, "batch": BATCH}, transports=["websocket"],
                               wait_timeout=60)
        goal = "\n".join(f"Ask the user question {i} about the launch (after)" for i in range(self.n_questions))
        async with http.post(self.base + "/api/swarms", json={"goal": goal}, headers=self.headers) as r:
            assert r.status == 201, await r.text()
            self.swarm_id = (await r.json())["id"]
        async with http.post(f"{self.base}/api/swarms/{self.swarm_id}/spawn", headers=self.headers) as r:
            assert r.status == 200, await r.text()


def cpu_split(pid: int) -> tuple[float, float, int, int, float]:
    """(user s, system s, voluntary, involuntary context switches, main thread's CPU s) of the process so far:
    the main thread runs the event loop (HTTP, sockets, push); the others are the runner and the thread pool."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    main = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    vol = invol = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            for line in (task / "status").read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches:"):
                    vol += int(line.split()[1])
                elif line.startswith("nonvoluntary_ctxt_switches:"):
                    invol += int(line.split()[1])
        except OSError:
            pass
    return (int(fields[11]) / tick, int(fields[12]) / tick, vol, invol,
            (int(main[11]) + int(main[12])) / tick)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def seed_background(data_dir: Path, n: int, owners: int) -> float:
    """``n`` running swarms, each with one question waiting, in the store at ``data_dir`` (before the server)."""
    from aga_swarm.service import SwarmService

    svc = SwarmService(data_dir=data_dir)
    t0 = time.perf_counter()
    loop = asyncio.new_event_loop()
    batch: list[str] = []
    for i in range(n):
        s = svc.create_swarm(f"bg-owner-{i % owners}", GOAL_BG.format(i=i))
        svc.spawn(s.id)
        batch.append(s.id)
        if len(batch) >= 500 or i == n - 1:
            loop.run_until_complete(svc.run_until_idle(timeout=3600))
            batch.clear()
            print(f"  seeded {i + 1:,} / {n:,} background swarms ({time.perf_counter() - t0:.0f} s)",
                  file=sys.stderr, flush=True)
    waiting = sum(1 for s in svc.list_swarms() if s.status.value == "running" and s.owner_id.startswith("bg-"))
    svc.close()
    loop.close()
    if waiting < n:
        raise RuntimeError(f"only {waiting} of {n} background swarms are running")
    return time.perf_counter() - t0


async def idle_socket(base: str, http: aiohttp.ClientSession) -> Any:
    import socketio

    _, token = await bs.signup(http, base)
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(base, auth={"token": token, "batch": BATCH}, transports=["websocket"], wait_timeout=60)
    return sio


async def histograms(http: aiohttp.ClientSession, base: str) -> dict[str, list[tuple[float, int]]]:
    """Every histogram on the server's /metrics as (upper bound, cumulative count) lists, keyed by name and
    labels (e.g. ``aga_swarm_reply_push_seconds``, ``aga_swarm_gc_pause_seconds{generation="0"}``)."""
    out: dict[str, list[tuple[float, int]]] = {}
    async with http.get(base + "/metrics") as r:
        if r.status != 200:
            return out
        text = await r.text()
    for line in text.splitlines():
        if not line.startswith("aga_swarm_") or "_bucket{" not in line:
            continue
        labels, value = line.rsplit(" ", 1)
        name, rest = labels.split("_bucket{", 1)
        le = rest.split('le="', 1)[1].split('"', 1)[0]
        others = ",".join(p for p in rest.rstrip("}").split(",") if p and not p.startswith("le="))
        out.setdefault(name + (f"{{{others}}}" if others else ""), []).append(
            (math.inf if le == "+Inf" else float(le), int(float(value))))
    return out


def histogram_diff(after: list[tuple[float, int]], before: list[tuple[float, int]] | None) -> list[tuple[float, int]]:
    prior = dict(before or [])
    return [(bound, n - prior.get(bound, 0)) for bound, n in after]


def bucket_quantile(cumulative: list[tuple[float, int]], q: float) -> float:
    """The upper bound of the bucket holding quantile ``q`` (an upper estimate), in ms."""
    total = cumulative[-1][1] if cumulative else 0
    for bound, n in cumulative:
        if total and n >= q * total:
            return bound * 1000
    return math.nan


class LoopWatch:
    """This process's (the load client's) own stalls: how late a 10 ms sleep wakes, and its GC pauses. A stalled
    client delays the samples it takes, which would be blamed on the server."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.gc: list[float] = []
        self._t = 0.0

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._t = time.perf_counter()
        else:
            self.gc.append((time.perf_counter() - self._t) * 1000)

    async def watch(self) -> None:
        gc.callbacks.append(self._on_gc)
        try:
            while True:
                t = time.perf_counter()
                await asyncio.sleep(0.01)
                self.lags.append((time.perf_counter() - t - 0.01) * 1000)
        finally:
            gc.callbacks.remove(self._on_gc)


async def gc_pauses(http: aiohttp.ClientSession, base: str) -> dict[str, tuple[int, float]]:
    """(collections, seconds) per generation so far, from the server's /metrics (empty if it has none)."""
    out: dict[str, tuple[int, float]] = {}
    async with http.get(base + "/metrics") as r:
        if r.status != 200:
            return out
        text = await r.text()
    counts: dict[str, int] = {}
    sums: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("aga_swarm_gc_pause_seconds_count{") or line.startswith("aga_swarm_gc_pause_seconds_sum{"):
            labels, value = line.rsplit(" ", 1)
            gen = labels.split('generation="', 1)[1].split('"', 1)[0]
            if "_count{" in labels:
                counts[gen] = int(float(value))
            else:
                sums[gen] = float(value)
    for gen, n in counts.items():
        out[gen] = (n, sums.get(gen, 0.0))
    return out


def start_profiler(pid: int, out: str, seconds: float, gil: bool = True) -> Any:
    """py-spy sampling the server for the run window (collapsed stacks: one line per stack with its count):
    the thread holding the GIL (``gil``), or every thread that is on a CPU or waiting for one."""
    import subprocess

    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return subprocess.Popen([exe, "record", "-p", str(pid), "-o", out, "--format", "raw", "--nonblocking",
                             *(["--gil"] if gil else []), "-r", "50", "-d", str(int(seconds))],
                            stdout=subprocess.DEVNULL)


async def run(srv: bs.ServerProcess, active: int, idle: int, seconds: float,
              profile: str | None = None, profile_gil: bool = True) -> dict[str, Any]:
    base = srv.url
    assert srv.proc is not None
    rss_start = rss_kib(srv.proc.pid)
    questions = max(2, math.ceil(seconds / 10 / bs.REPLIES_PER_QUESTION) + 1)
    rng = random.Random(14)
    conn = aiohttp.TCPConnector(limit=0, keepalive_timeout=2)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=300)) as http:
        sem = asyncio.Semaphore(16)

        async def make_user() -> bs.User:
            async with sem:
                _, token = await bs.signup(http, base)
                u = ActiveUser(base, token, questions)
                await u.setup(http)
                return u

        t0 = time.perf_counter()
        people = await asyncio.gather(*(make_user() for _ in range(active)))
        print(f"  {active:,} active users connected ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
        await asyncio.wait_for(asyncio.gather(*(u.ready.wait() for u in people)), timeout=1800)
        print(f"  their questions are waiting ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)

        await asyncio.sleep(1)
        rss_active = rss_kib(srv.proc.pid)

        async def make_idle() -> Any:
            async with sem:
                return await idle_socket(base, http)

        idles = await asyncio.gather(*(make_idle() for _ in range(idle)))
        setup_s = time.perf_counter() - t0
        print(f"  {idle:,} idle sockets connected ({setup_s:.0f} s); replying for {seconds:.0f} s", file=sys.stderr,
              flush=True)
        await asyncio.sleep(2)
        # this client's own collector: its 2,500 sockets' objects would be scanned again and again (pauses of up
        # to 2 s were seen, blamed on the server by the samples they delayed); as the server does, freeze what
        # the setup made and collect young objects less often
        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, 50, 1000)
        rss_loaded = rss_kib(srv.proc.pid)
        gc0 = await gc_pauses(http, base)
        hist0 = await histograms(http, base)
        watch = LoopWatch()
        watcher = asyncio.create_task(watch.watch())
        t_run, cpu0, own0 = time.perf_counter(), srv.cpu_seconds(), time.process_time()
        split0 = cpu_split(srv.proc.pid)
        load0 = os.getloadavg()[0]
        profiler = start_profiler(srv.proc.pid, profile, seconds, profile_gil) if profile else None

        dropped: list[str] = []

        async def converse(u: bs.User) -> None:
            try:
                await asyncio.wait_for(u.converse(http, 10.0, rng), timeout=seconds)
            except TimeoutError:
                pass  # the window closed mid-conversation: the samples so far count
            except aiohttp.ClientError as exc:  # a kept-alive connection the server closed as it was reused
                dropped.append(type(exc).__name__)  # this user stops; the others go on

        await asyncio.gather(*(converse(u) for u in people))
        run_s = time.perf_counter() - t_run
        cpu, own = srv.cpu_seconds() - cpu0, time.process_time() - own0
        split = [b - a for a, b in zip(split0, cpu_split(srv.proc.pid), strict=True)]
        watcher.cancel()
        gc1 = await gc_pauses(http, base)
        hist1 = await histograms(http, base)
        load1 = os.getloadavg()[0]
        if profiler is not None:
            await asyncio.to_thread(profiler.wait)
        for s in [*idles, *(u.sio for u in people)]:
            await s.disconnect()
    samples = [x for u in people for x in u.samples]
    timed = sorted((t, x) for u in people for t, x in zip(u.sample_at, u.samples, strict=True))
    windows: dict[int, list[float]] = {}
    for t, x in timed:
        windows.setdefault(int((t - t_run) // 5), []).append(x)
    print("  per 5 s window: replies, p50 / p99 ms: " + "; ".join(
        f"{5 * w}s {len(xs)} {bs.pct(xs, 50):.0f}/{bs.pct(xs, 99):.0f}" for w, xs in sorted(windows.items())),
        file=sys.stderr)
    srv_push = histogram_diff(hist1.get("aga_swarm_reply_push_seconds", []),
                              hist0.get("aga_swarm_reply_push_seconds"))
    lags = sorted(watch.lags)
    commit = [x for u in people for x in u.commit_ms]
    push = [x for u in people for x in u.push_ms]
    return {"dropped": len(dropped), "active": active, "idle_sockets": idle, "questions_per_user": questions,
            "samples": len(samples),
            "p50": bs.pct(samples, 50), "p90": bs.pct(samples, 90), "p99": bs.pct(samples, 99),
            "max": max(samples) if samples else math.nan, "replies_per_s": len(samples) / run_s,
            "commit_p99": bs.pct(commit, 99), "push_p99": bs.pct(push, 99),
            "server_cpu_pct": 100 * cpu / run_s, "cpu_ms_per_reply": 1000 * cpu / max(len(samples), 1),
            "client_cpu_pct": 100 * own / run_s, "setup_s": setup_s,
            "gc": {g: (gc1[g][0] - gc0.get(g, (0, 0.0))[0], gc1[g][1] - gc0.get(g, (0, 0.0))[1]) for g in gc1},
            "server_push_p50": bucket_quantile(srv_push, 0.5), "server_push_p99": bucket_quantile(srv_push, 0.99),
            "client_lag_p99": bs.pct(lags, 99), "client_lag_max": lags[-1] if lags else math.nan,
            "client_gc": (len(watch.gc), sum(watch.gc), max(watch.gc, default=0.0)),
            "rss_active_kib": rss_active, "split": split,
            "rss_start_kib": rss_start, "rss_loaded_kib": rss_loaded, "run_s": run_s, "load": (load0, load1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--swarms", type=int, default=20_000, help="running swarms the server holds in all")
    ap.add_argument("--active-share", type=float, default=0.1, help="share of them with an active user")
    ap.add_argument("--idle-sockets", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=120.0, help="how long the active users reply")
    ap.add_argument("--dir", help="where to put the store (default: a temp dir)")
    ap.add_argument("--seed-cache", help="keep the seeded background store in this folder and copy it into later "
                                         "runs with the same --swarms and --active-share (seeding is most of "
                                         "a run's time)")
    ap.add_argument("--profile", metavar="FILE", help="sample the server with py-spy during the run into FILE "
                                                   "(collapsed stacks)")
    ap.add_argument("--profile-threads", action="store_true", help="with --profile: sample every thread on a CPU "
                    "(or waiting for one), not only the one holding the GIL")
    ap.add_argument("--single-events", action="store_true", help="sockets take one swarm_event per event, not "
                    "swarm_events batches")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="extra server settings")
    args = ap.parse_args()
    global BATCH
    BATCH = not args.single_events
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a socket each; the server raises its own too
    active = round(args.swarms * args.active_share)
    background = args.swarms - active
    work = Path(tempfile.mkdtemp(prefix="aga-bench-scale-", dir=args.dir))
    env = {"AGA_SWARM_QUOTA_SWARMS": "1000000", "AGA_SWARM_QUOTA_RUNNING_SWARMS": "1000000",
           "AGA_SWARM_IDLE_SECONDS": "600", **dict(e.split("=", 1) for e in args.env)}
    print(f"# One server process holding {args.swarms:,} running swarms (bench/bench_scale.py)\n")
    print(c.machine_section(c.versions("aga-swarm", "python-socketio", "uvicorn")) + "\n")
    print(f"Load average at start: {c.load_average()}\n", flush=True)
    gc.collect()
    owners = max(1, background // 10)
    if args.seed_cache:
        seeded = Path(args.seed_cache) / f"bg-{background}-{owners}"
        if not (seeded / "complete").exists():
            shutil.rmtree(seeded, ignore_errors=True)
            seed_background(seeded / "data", background, owners)
            (seeded / "complete").write_text("")
        t_copy = time.perf_counter()
        shutil.copytree(seeded / "data", work / "data")
        seed_s = time.perf_counter() - t_copy
    else:
        seed_s = seed_background(work / "data", background, owners)
    srv = bs.ServerProcess(work, env)
    srv.start()
    try:
        r = asyncio.run(run(srv, active, args.idle_sockets, args.seconds, args.profile,
                        not args.profile_threads))
    finally:
        srv.stop()
        if not args.dir:  # a copy of the store per run (200 MB at 20,000 swarms): keep only what was asked for
            shutil.rmtree(work, ignore_errors=True)
    sockets = active + args.idle_sockets
    verdict = "MET" if r["p99"] < 100 else "MISSED"
    rows = [["Running swarms held", f"{args.swarms:,} ({background:,} parked on a question, {active:,} active)"],
            ["Sockets", f"{sockets:,} ({active:,} active users, {args.idle_sockets:,} idle)"],
            ["Background swarms " + ("copied from the seed cache in" if args.seed_cache else "seeded in"),
             f"{seed_s:,.0f} s"],
            ["Active users set up in", f"{r['setup_s']:,.0f} s ({r['questions_per_user']} questions each)"],
            ["Run", f"{r['run_s']:,.0f} s, {r['samples']:,} replies, {r['replies_per_s']:,.1f} replies/s"
                    + (f" ({r['dropped']} users stopped by a dropped connection)" if r["dropped"] else "")],
            ["**Reply-to-push p50 / p90 / p99 / max**", f"**{r['p50']:,.1f} / {r['p90']:,.1f} / {r['p99']:,.1f} / "
                                                         f"{r['max']:,.1f} ms**"],
            ["commit p99 / push p99", f"{r['commit_p99']:,.1f} / {r['push_p99']:,.1f} ms"],
            ["Server's own reply-to-push p50 / p99 (POST in to emit, bucket upper bounds)",
             f"{r['server_push_p50']:,.1f} / {r['server_push_p99']:,.1f} ms"],
            ["Load client: event-loop lag p99 / max; GC collections (total / longest ms)",
             f"{r['client_lag_p99']:,.1f} / {r['client_lag_max']:,.1f} ms; {r['client_gc'][0]:,} "
             f"({r['client_gc'][1]:,.0f} / {r['client_gc'][2]:,.0f})"],
            ["**Server CPU per reply**", f"**{r['cpu_ms_per_reply']:.2f} ms**"],
            ["Server CPU per reply: user / system ms; context switches per reply: voluntary / not",
             f"{1000 * r['split'][0] / max(r['samples'], 1):.2f} / {1000 * r['split'][1] / max(r['samples'], 1):.2f}"
             f" ms; {r['split'][2] / max(r['samples'], 1):.1f} / {r['split'][3] / max(r['samples'], 1):.1f}"],
            ["Server CPU per reply: event-loop thread / other threads (runner, thread pool)",
             f"{1000 * r['split'][4] / max(r['samples'], 1):.2f} / "
             f"{1000 * (r['split'][0] + r['split'][1] - r['split'][4]) / max(r['samples'], 1):.2f} ms"],
            ["Server CPU (share of one core) / load client CPU", f"{r['server_cpu_pct']:.0f}% / "
                                                                 f"{r['client_cpu_pct']:.0f}%"],
            ["Server RSS with the swarms loaded, before sockets", f"{r['rss_start_kib'] / 1024:,.0f} MiB"],
            ["Server RSS with every socket connected", f"{r['rss_loaded_kib'] / 1024:,.0f} MiB "
             f"(+{(r['rss_loaded_kib'] - r['rss_start_kib']) / max(sockets, 1):,.1f} KiB per socket and active "
             "swarm)"],
            ["RSS per idle socket (the last ones to connect)",
             f"{(r['rss_loaded_kib'] - r['rss_active_kib']) / max(args.idle_sockets, 1):,.1f} KiB"],
            ["GC collections during the run by generation 0 / 1 / 2 (their total ms)", " / ".join(
                f"{r['gc'].get(g, (0, 0.0))[0]:,} ({1000 * r['gc'].get(g, (0, 0.0))[1]:,.0f})" for g in "012")
             if r["gc"] else "(no /metrics)"],
            ["Load average during the run (start / end)", f"{r['load'][0]:.1f} / {r['load'][1]:.1f}"]]
    print(c.md_table(["Measure", "Value"], rows, "lr") + "\n")
    print(f"**Target (p99 under 100 ms at 20,000 swarms): {verdict if args.swarms >= 20_000 else 'not this run'}**"
          f" (p99 {r['p99']:,.1f} ms at {args.swarms:,} swarms).\n")
    print(f"Load average at the end: {c.load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
