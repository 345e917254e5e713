"""Engine benchmark: AGA Swarm's durable operation queue against LangGraph + its SQLite checkpointer.

Both sides do the same work in the same process and run, with no LLM, on SQLite files in one temp dir:

1. per-operation overhead of a durable step (AGA: a custom step chaining to itself with ``ctx.goto``;
   LangGraph: a loop node with a counter, one super-step per iteration);
2. one ask-the-user cycle (AGA: ``ctx.ask`` -> ``post_reply`` -> run until the next question;
   LangGraph: ``interrupt()`` -> ``invoke(Command(resume=...))``);
3. spawning and finishing K children (AGA: spawn K trivial children + ``wait_children``;
   LangGraph: ``Send`` fan-out to K workers and a reducer join);
4. bytes stored per operation (file growth after ``PRAGMA wal_checkpoint(TRUNCATE)``), with a constant state
   and with a state that carries a growing list;
5. flatness: AGA's per-operation cost in a swarm that already has 100, 1,000 and 10,000 nodes.

Run ``python bench/bench_engine.py`` (full) or ``--quick`` (smoke run for CI). Prints Markdown to stdout.
``--profile`` adds a cProfile breakdown of where AGA's time per step goes.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import operator
import pstats
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypedDict

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pydantic import BaseModel, Field
from sqlalchemy import func, select

import common as c
from aga_swarm.engine.context import spawn_node
from aga_swarm.engine.tx import SwarmTx
from aga_swarm.schemas import EventType, SwarmEvent, SwarmStatus
from aga_swarm.sdk import ActionSpec, ChildrenResult, Registry, StepContext, UserReply
from aga_swarm.service import SwarmService
from aga_swarm.service.composition import open_engine
from aga_swarm.store import tables as t

ITEM_PAD = "x" * 52


def item(i: int) -> str:
    """The unit of 'work result' both sides accumulate in the growing-state runs (64 characters)."""
    return f"step {i:06d} {ITEM_PAD}"


# =====================================================================================================
# AGA side: custom actions (the public registry API) and a small driver
# =====================================================================================================
class ChainCtx(BaseModel):
    i: int = 0
    n: int = 0
    park: bool = False  # ask once before chaining (used by the flatness runs)
    journal: bool = False  # write one journal line (append-only) per step
    carry: bool = False  # carry every item so far in the continuation context (state grows)
    items: list[str] = Field(default_factory=list)


class AskLoopCtx(BaseModel):
    i: int = 0
    m: int = 0


class FanCtx(BaseModel):
    k: int = 0


class FlatCtx(BaseModel):
    k: int = 0
    n: int = 0
    chainers: int = 1


def build_registry() -> Registry:
    reg = Registry()

    @reg.step("bench.chain", context=ChainCtx)
    def chain(ctx: StepContext, data: ChainCtx, result: Any) -> None:
        if data.park:
            ctx.ask("Ready?", next_step=chain, context=data.model_copy(update={"park": False}))
            return
        if data.journal:
            ctx.journal(item(data.i))
        if data.i < data.n:
            items = [*data.items, item(data.i)] if data.carry else data.items
            ctx.goto(chain, data.model_copy(update={"i": data.i + 1, "items": items}))
        else:
            ctx.complete(f"chained {data.n} steps")

    @reg.step("bench.ask", context=AskLoopCtx)
    def ask(ctx: StepContext, data: AskLoopCtx, result: None) -> None:
        ctx.ask(f"Question {data.i}?", next_step=on_reply, context=data)

    @reg.step("bench.on_reply", context=AskLoopCtx, result=UserReply)
    def on_reply(ctx: StepContext, data: AskLoopCtx, result: UserReply) -> None:
        if data.i + 1 < data.m:
            ctx.ask(f"Question {data.i + 1}?", next_step=on_reply,
                    context=AskLoopCtx(i=data.i + 1, m=data.m))
        else:
            ctx.complete(f"asked {data.m} questions")

    @reg.step("bench.leaf")
    def leaf(ctx: StepContext, data: Any, result: None) -> None:
        ctx.complete("ok")

    @reg.step("bench.fan", context=FanCtx)
    def fan(ctx: StepContext, data: FanCtx, result: None) -> None:
        for j in range(data.k):
            ctx.spawn(f"leaf {j}", action_id="bench_leaf")
        ctx.wait_children(fan_done, data)

    @reg.step("bench.fan_done", context=FanCtx, result=ChildrenResult)
    def fan_done(ctx: StepContext, data: FanCtx, result: ChildrenResult) -> None:
        ok = sum(1 for ch in result.children if ch.report == "ok")
        ctx.complete(f"{ok} children done")

    @reg.step("bench.flat", context=FlatCtx)
    def flat(ctx: StepContext, data: FlatCtx, result: None) -> None:
        for j in range(data.k):
            ctx.spawn(f"leaf {j}", action_id="bench_leaf")
        for _ in range(data.chainers):  # siblings that park, then chain when told to
            ctx.spawn("chainer", action_id="bench_chain", context_down={"n": data.n, "park": True})
        ctx.ask("Ready?", next_step=chain, context=ChainCtx(n=data.n))

    for action_id, entry in (("bench_chain", "bench.chain"), ("bench_ask", "bench.ask"),
                             ("bench_leaf", "bench.leaf"), ("bench_fan", "bench.fan"),
                             ("bench_flat", "bench.flat")):
        reg.register_action(ActionSpec(id=action_id, description=f"benchmark action {action_id}",
                                       entry_step=entry, routable=False), folder="bench")
    return reg


Pred = Callable[[SwarmEvent], bool]


def ev_done(sid: str) -> Pred:
    """The swarm ended (its root completed or failed)."""
    return lambda e: (e.type is EventType.SWARM_STATUS and e.swarm_id == sid
                      and e.data.get("status") in ("completed", "failed"))


def ev_parked(sid: str, chat_id: str) -> Pred:
    """A question was posted in ``chat_id`` and the node now waits for the user."""
    return lambda e: (e.type is EventType.CHAT_UPDATED and e.swarm_id == sid and e.data.get("chat_id") == chat_id
                      and e.data.get("changes", {}).get("status") == "awaiting_user")


def ev_node_ended(sid: str, node_id: str) -> Pred:
    return lambda e: (e.swarm_id == sid and e.type is EventType.NODE_UPDATED and e.node_id == node_id
                      and e.data.get("changes", {}).get("lifecycle") in ("done", "failed"))


def ev_any(first: Pred, second: Pred) -> Pred:
    return lambda e: first(e) or second(e)


class Aga:
    """One AGA engine on a SQLite file in ``data_dir`` (the embedded default: WAL, synchronous=NORMAL).

    ``mode="serve"`` runs the scheduler as a server does (``Runner.serve`` in the background; a measurement
    ends when the event that marks the end of the work is published). ``mode="idle"`` drives it as the CLI
    and notebooks do, with ``run_until_idle`` (a measurement ends when that call returns).
    """

    def __init__(self, data_dir: Path, mode: str = "serve", *, group_limit: int | None = None,
                 db_url: str | None = None, registry: Registry | None = None) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.mode = mode
        self.reg = registry or build_registry()
        self.svc = SwarmService(open_engine(data_dir=data_dir, db_url=db_url, registry=self.reg))
        if group_limit is not None:  # 0: no group commit (each operation commits on its own)
            self.svc.engine.executor.group_limit = group_limit
        self.db_path = data_dir / "swarm.db"
        self.loop = asyncio.new_event_loop()  # one loop for the Runner's lifetime (its Event binds to it)
        self._waiters: list[tuple[Pred, asyncio.Future[SwarmEvent]]] = []
        self.svc.engine.listeners.append(self._on_events)
        self._stop: asyncio.Event | None = None
        self._serve: asyncio.Task[None] | None = None
        if mode == "serve":
            self._stop = asyncio.Event()
            self._serve = self.loop.create_task(self.svc.runner.serve(self._stop))

    # ---- events ----------------------------------------------------------------------------------
    def _on_events(self, owner: str, events: list[SwarmEvent]) -> None:
        for ev in events:
            for w in list(self._waiters):
                pred, fut = w
                if not fut.done() and pred(ev):
                    fut.set_result(ev)
                    self._waiters.remove(w)

    # ---- driving ---------------------------------------------------------------------------------
    def start(self, action_id: str, context_down: dict[str, Any]) -> str:
        """A running swarm whose root node runs ``action_id`` (as the API's spawn() does for 'plan')."""
        s = self.svc.create_swarm("bench", f"benchmark {action_id}")

        def do(tx: SwarmTx) -> None:
            tx.set_status(SwarmStatus.RUNNING)
            spawn_node(tx, "n", None, 0, self.reg.get_action(action_id), s.goal, s.name, context_down)

        self.svc._write(s.id, None, do)  # SwarmService.spawn()'s transaction, publishing and notice
        return s.id

    def go(self, swarm_id: str, until: Pred, action: Callable[[], Any] | None = None) -> int:
        """Do ``action`` (e.g. post a reply), then run until ``until`` matches an event (serve mode) or until
        idle (idle mode). Returns the number of operations executed."""
        before = self.svc.runner.ops_done
        if self.mode == "serve":
            fut: asyncio.Future[SwarmEvent] = self.loop.create_future()
            self._waiters.append((until, fut))
            if action:
                action()
            if not fut.done():  # a reply resumes its node in its own transaction: often done already
                self.loop.run_until_complete(asyncio.wait_for(fut, timeout=3600))
        else:
            if action:
                action()
            self.loop.run_until_complete(self.svc.run_until_idle(swarm_id, timeout=3600))
        return self.svc.runner.ops_done - before

    def reply(self, swarm_id: str, chat_id: str, until: Pred, text: str = "yes") -> int:
        return self.go(swarm_id, until, lambda: self.svc.post_reply(swarm_id, chat_id, text))

    def drain(self, swarm_id: str) -> None:
        """Let queued follow-up operations (e.g. a parent's moot 'child ended' check) finish, untimed."""
        if self.mode != "serve":
            self.loop.run_until_complete(self.svc.run_until_idle(swarm_id, timeout=3600))
            return

        def pending() -> int:
            with self.svc.db.read() as conn:
                return int(conn.execute(select(func.count()).select_from(t.operations).where(
                    t.operations.c.swarm_id == swarm_id,
                    t.operations.c.status.in_(["queued", "running"]))).scalar() or 0)

        while pending():
            self.loop.run_until_complete(asyncio.sleep(0.02))

    def status(self, swarm_id: str) -> SwarmStatus:
        return self.svc.get_swarm(swarm_id).status

    def expect(self, swarm_id: str, status: SwarmStatus) -> None:
        got = self.status(swarm_id)
        if got is not status:
            raise RuntimeError(f"AGA swarm {swarm_id} is {got.value}, expected {status.value}")

    def close(self) -> None:
        if self._serve is not None and self._stop is not None:
            self._stop.set()
            self.loop.run_until_complete(self._serve)
        self.svc.close()
        self.loop.close()


# =====================================================================================================
# LangGraph side: equivalent graphs on SqliteSaver
# =====================================================================================================
def lg_imports() -> Any:
    try:
        import langgraph  # noqa: F401
        from langgraph.checkpoint.sqlite import SqliteSaver  # noqa: F401
    except ImportError:
        sys.exit("LangGraph is not installed: pip install -e '.[bench]' (langgraph, langgraph-checkpoint-sqlite)")


class ChainState(TypedDict):
    i: int
    n: int


class GrowState(TypedDict):
    i: int
    n: int
    items: Annotated[list[str], operator.add]


class AskState(TypedDict):
    i: int
    m: int


class FanState(TypedDict):
    k: int
    results: Annotated[list[int], operator.add]
    done: int


class WorkerState(TypedDict):
    idx: int


def build_lg_graphs() -> dict[str, Any]:
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send, interrupt

    def step(s: ChainState) -> dict[str, Any]:
        return {"i": s["i"] + 1}

    chain = StateGraph(ChainState)
    chain.add_node("step", step)  # type: ignore[call-overload]
    chain.add_edge(START, "step")
    chain.add_conditional_edges("step", lambda s: "step" if s["i"] < s["n"] else END, ["step", END])

    def grow_step(s: GrowState) -> dict[str, Any]:
        return {"i": s["i"] + 1, "items": [item(s["i"])]}

    grow = StateGraph(GrowState)
    grow.add_node("step", grow_step)  # type: ignore[call-overload]
    grow.add_edge(START, "step")
    grow.add_conditional_edges("step", lambda s: "step" if s["i"] < s["n"] else END, ["step", END])

    def ask(s: AskState) -> dict[str, Any]:
        interrupt(f"Question {s['i']}?")
        return {"i": s["i"] + 1}

    asker = StateGraph(AskState)
    asker.add_node("ask", ask)  # type: ignore[call-overload]
    asker.add_edge(START, "ask")
    asker.add_conditional_edges("ask", lambda s: "ask" if s["i"] < s["m"] else END, ["ask", END])

    def fan_out(s: FanState) -> list[Any]:
        return [Send("worker", {"idx": j}) for j in range(s["k"])]

    def worker(s: WorkerState) -> dict[str, Any]:
        return {"results": [s["idx"]]}

    def join(s: FanState) -> dict[str, Any]:
        return {"done": len(s["results"])}

    fan = StateGraph(FanState)
    fan.add_node("worker", worker, input_schema=WorkerState)  # type: ignore[call-overload]
    fan.add_node("join", join)  # type: ignore[call-overload]
    fan.add_conditional_edges(START, fan_out, ["worker"])
    fan.add_edge("worker", "join")
    fan.add_edge("join", END)
    return {"chain": chain, "grow": grow, "ask": asker, "fan": fan}


class LG:
    """LangGraph graphs compiled with a SqliteSaver on ``db_path``.

    ``durability``: "sync" persists every checkpoint before the next step starts (what AGA does);
    None is LangGraph's default ("async": checkpoints are written in the background).
    ``synchronous``: the SQLite PRAGMA on the saver's connection; AGA uses NORMAL (WAL), SQLite's
    default is FULL (an fsync per commit).
    """

    def __init__(self, db_path: Path, *, durability: str | None, synchronous: str | None,
                 chunk: int = 0) -> None:
        from langgraph.checkpoint.sqlite import SqliteSaver

        self.chunk = chunk  # > 0: a long chain runs as invocations of this many super-steps (see ``lg_chain``)

        self.db_path = db_path
        self.conn = sqlite3.connect(db_path, check_same_thread=False)
        self.saver = SqliteSaver(self.conn)
        self.saver.setup()  # creates the tables, sets journal_mode=WAL
        if synchronous:
            self.conn.execute(f"PRAGMA synchronous={synchronous}")
        self.durability = durability
        self.graphs = {k: g.compile(checkpointer=self.saver) for k, g in build_lg_graphs().items()}
        self._threads = 0

    def config(self, limit: int = 25) -> dict[str, Any]:
        self._threads += 1
        return {"configurable": {"thread_id": f"t{self._threads}"}, "recursion_limit": limit}

    def invoke(self, graph: str, inp: Any, cfg: dict[str, Any]) -> Any:
        kw = {"durability": self.durability} if self.durability else {}
        return self.graphs[graph].invoke(inp, cfg, **kw)

    def size(self) -> int:
        return c.file_size(self.db_path, self.conn)

    def close(self) -> None:
        self.conn.close()


# =====================================================================================================
# The measurements
# =====================================================================================================
def _timed(fn: Any) -> tuple[Any, c.Timer]:
    gc.collect()
    with c.Timer() as tm:
        out = fn()
    return out, tm


def aga_chain(aga: Aga, n: int, **flags: Any) -> c.Sample:
    """One chain of n goto steps (n+1 operations with the root's spawn). Units = operations."""
    sid = aga.start("bench_chain", {"n": n, **flags})
    ops, tm = _timed(lambda: aga.go(sid, ev_done(sid)))
    aga.expect(sid, SwarmStatus.COMPLETED)
    if ops != n + 1:
        raise RuntimeError(f"expected {n + 1} operations, ran {ops}")
    return c.Sample(tm.wall, tm.cpu, ops)


def lg_chain(lg: LG, n: int, graph: str = "chain") -> c.Sample:
    """One loop of n super-steps. Units = super-steps. With ``lg.chunk``, the loop runs as invocations of
    that many super-steps on one thread (each raises the target ``n``), so that with durability="exit" a
    checkpoint is written every ``chunk`` super-steps: the bound AGA's group commit puts on lost work."""
    if not lg.chunk:
        cfg = lg.config(limit=n + 10)
        out, tm = _timed(lambda: lg.invoke(graph, {"i": 0, "n": n}, cfg))
    else:
        cfg = lg.config(limit=lg.chunk + 10)
        ends = [*range(lg.chunk, n, lg.chunk), n]

        def chunks() -> Any:
            res = lg.invoke(graph, {"i": 0, "n": ends[0]}, cfg)
            for end in ends[1:]:
                res = lg.invoke(graph, {"n": end}, cfg)
            return res

        out, tm = _timed(chunks)
    assert out["i"] == n, out
    return c.Sample(tm.wall, tm.cpu, n)


def aga_ask(aga: Aga, m: int) -> c.Sample:
    """m ask cycles: each is post_reply + running until the step has asked again (or completed)."""
    sid = aga.start("bench_ask", {"m": m})
    chat = "chat-n"
    aga.go(sid, ev_parked(sid, chat))  # the first question is posted and the node parks (not timed)
    until = ev_any(ev_parked(sid, chat), ev_done(sid))

    def cycles() -> None:
        for _ in range(m):
            aga.reply(sid, chat, until)

    _, tm = _timed(cycles)
    aga.expect(sid, SwarmStatus.COMPLETED)
    return c.Sample(tm.wall, tm.cpu, m)


def lg_ask(lg: LG, m: int) -> c.Sample:
    from langgraph.types import Command

    cfg = lg.config()
    first = lg.invoke("ask", {"i": 0, "m": m}, cfg)
    assert "__interrupt__" in first

    def cycles() -> Any:
        out = None
        for _ in range(m):
            out = lg.invoke("ask", Command(resume="yes"), cfg)
        return out

    out, tm = _timed(cycles)
    assert out["i"] == m and "__interrupt__" not in out, out
    return c.Sample(tm.wall, tm.cpu, m)


def aga_fan(aga: Aga, k: int) -> tuple[c.Sample, int]:
    sid = aga.start("bench_fan", {"k": k})
    ops, tm = _timed(lambda: aga.go(sid, ev_done(sid)))
    aga.expect(sid, SwarmStatus.COMPLETED)
    report = aga.svc.state(sid).nodes["n"].report
    if report != f"{k} children done":
        raise RuntimeError(f"fan-out report: {report!r}")
    return c.Sample(tm.wall, tm.cpu, k), ops


def lg_fan(lg: LG, k: int) -> c.Sample:
    cfg = lg.config()
    out, tm = _timed(lambda: lg.invoke("fan", {"k": k, "results": [], "done": 0}, cfg))
    assert out["done"] == k, out
    return c.Sample(tm.wall, tm.cpu, k)


AGA_SERVE = "AGA Swarm (serve)"
AGA_IDLE = "AGA Swarm (run_until_idle)"
AGA_SOLO = "AGA Swarm (serve, no group commit)"
LG_MATCHED = "LangGraph (sync)"
LG_EXIT = "LangGraph (exit)"
LG_DEFAULT = "LangGraph (defaults)"
LG_SYSTEMS = (LG_MATCHED, LG_EXIT, LG_DEFAULT)
SYSTEMS = [
    (AGA_SERVE, "background `Runner.serve` as the server runs it; WAL, synchronous=NORMAL; ends at the event"),
    (AGA_IDLE, "`run_until_idle` as the CLI runs it; ends when that call returns"),
    (AGA_SOLO, "serve, with group commit off: every operation commits in a transaction of its own, as "
               "LangGraph commits every super-step"),
    (LG_MATCHED, "SqliteSaver, durability=sync, synchronous=NORMAL: a checkpoint committed after every "
                 "super-step (as AGA's 'no group commit' row)"),
    (LG_EXIT, "SqliteSaver, durability=exit, synchronous=NORMAL: a checkpoint when the invocation returns; the "
              "chain runs as invocations of 32 super-steps, the bound AGA's group commit puts on lost work"),
    (LG_DEFAULT, "SqliteSaver, durability=async, synchronous=FULL (LangGraph's and SQLite's defaults)"),
]


def _ratio_table(res: dict[str, list[c.Sample]]) -> str:
    rows = []
    for a in (AGA_SERVE, AGA_IDLE, AGA_SOLO):
        aw, ac = c.med_wall(res[a]), c.med_cpu(res[a])
        rows.append([a, *(c.fmt_ratio(c.med_wall(res[lg]) / aw) for lg in LG_SYSTEMS),
                     c.fmt_ratio(c.med_cpu(_fastest_lg(res)) / ac)])
    return c.md_table(["AGA run mode", *(f"vs {lg} (wall)" for lg in LG_SYSTEMS), "vs the fastest LangGraph (CPU)"],
                      rows)


def _fastest_lg(res: dict[str, list[c.Sample]]) -> list[c.Sample]:
    return min((res[lg] for lg in LG_SYSTEMS), key=c.med_wall)


def _times_table(res: dict[str, list[c.Sample]], unit: str) -> str:
    rows = [[name, how, c.fmt_us(c.med_wall(res[name]) * 1e6), c.spread(res[name]),
             c.fmt_us(c.med_cpu(res[name]) * 1e6)] for name, how in SYSTEMS]
    return c.md_table(["System", "How it runs", f"µs per {unit} (median wall)", "min–max µs",
                       f"CPU µs per {unit}"], rows, "llrrr")


def _verdict(name: str, res: dict[str, list[c.Sample]]) -> str:
    aw = c.med_wall(res[AGA_SERVE])
    fastest = min(LG_SYSTEMS, key=lambda lg: c.med_wall(res[lg]))
    worst = c.med_wall(res[fastest]) / aw
    return (f"**Target (AGA at least 5x faster than LangGraph on {name}): {'MET' if worst >= 5 else 'MISSED'}** "
            f"— AGA (serve, its default) is {c.fmt_ratio(worst)} the speed of the fastest LangGraph configuration "
            f"measured, {fastest} (LangGraph time ÷ AGA time; below 1.00x AGA is slower).")


# ---- 1 + 2: per step and ask cycle ------------------------------------------------------------------
def section_step_and_ask(p: dict[str, Any], base: Path, out: list[str], data: dict[str, Any]) -> None:
    agas = {AGA_SERVE: Aga(base / "aga_serve", "serve"), AGA_IDLE: Aga(base / "aga_idle", "idle"),
            AGA_SOLO: Aga(base / "aga_solo", "serve", group_limit=0)}
    lgs = {LG_MATCHED: LG(base / "lg_matched.db", durability="sync", synchronous="NORMAL"),
           LG_EXIT: LG(base / "lg_exit.db", durability="exit", synchronous="NORMAL", chunk=32),
           LG_DEFAULT: LG(base / "lg_default.db", durability=None, synchronous=None)}
    for a in agas.values():  # warm up (imports, statement caches, page cache)
        aga_chain(a, 5)
        aga_ask(a, 2)
    for lg in lgs.values():
        lg_chain(lg, 5)
        lg_ask(lg, 2)

    step: dict[str, list[c.Sample]] = {s[0]: [] for s in SYSTEMS}
    ask: dict[str, list[c.Sample]] = {s[0]: [] for s in SYSTEMS}
    for _ in range(p["reps"]):  # interleaved, so background load hits every system alike
        for name, a in agas.items():
            step[name].append(aga_chain(a, p["chain_n"]))
        for name, lg in lgs.items():
            step[name].append(lg_chain(lg, p["chain_n"]))
    for _ in range(p["ask_reps"]):
        for name, a in agas.items():
            ask[name].append(aga_ask(a, p["ask_m"]))
        for name, lg in lgs.items():
            ask[name].append(lg_ask(lg, p["ask_m"]))
    for a in agas.values():
        a.close()
    for lg in lgs.values():
        lg.close()

    out += ["## 1. Per-operation overhead of a durable step", "",
            f"AGA: a custom step chaining to itself with `ctx.goto` {p['chain_n']} times, then completing "
            f"({p['chain_n'] + 1} durable operations, the time is divided by that count). With group commit (the "
            "default) a node's chained operations share a transaction, up to 32: each commits atomically with "
            "its effects, but a crash loses (and re-runs) up to 32 of them; the 'no group commit' row gives "
            "every operation its own transaction. LangGraph: a loop node with a counter, "
            f"{p['chain_n']} super-steps: with durability=sync a checkpoint commits after each one (the "
            "guarantee of AGA's 'no group commit' row); with durability=exit, run as invocations of 32 "
            "super-steps, a crash loses up to 32 of them (the guarantee of AGA's default). The verdict compares "
            "AGA's default with the fastest LangGraph configuration, whatever its guarantee. "
            f"Median of {p['reps']} interleaved repetitions after a warm-up.", "",
            _times_table(step, "step"), "", "How many times faster AGA is (LangGraph time ÷ AGA time):", "",
            _ratio_table(step), "", _verdict("per-step cost", step), ""]
    out += ["## 2. One ask-the-user cycle (ask, persist, reply, resume)", "",
            "AGA: `post_reply` and then running until the step has asked again: the reply's transaction also "
            "runs the reply operation (the resumed step, which calls `ctx.ask`) and the prompt operation (which "
            "posts the question and parks the node); without group commit these are three transactions "
            "(serve: until that `awaiting_user` event; run_until_idle: until the call returns). "
            "LangGraph: `invoke(Command(resume=...))` until the next `interrupt()`; every configuration has "
            "persisted the reply and the new interrupt when `invoke` returns, as AGA has when `post_reply` "
            "returns. "
            f"{p['ask_m']} cycles per repetition, median of {p['ask_reps']} repetitions.", "",
            _times_table(ask, "cycle"), "", "How many times faster AGA is:", "", _ratio_table(ask), "",
            _verdict("the ask-resume cycle", ask), ""]
    data["per_step"] = {k: [s.__dict__ for s in v] for k, v in step.items()}
    data["ask_cycle"] = {k: [s.__dict__ for s in v] for k, v in ask.items()}


# ---- 3: fan-out -------------------------------------------------------------------------------------
FAN_TARGETS = {100: 3.0, 1000: 5.0}  # issue 12: AGA this many times faster than the fastest LangGraph


def _fan_verdict(k: int, lg_best: float, aga: float, fastest: str) -> str:
    target = FAN_TARGETS.get(k)
    ratio = lg_best / aga
    if target is None:
        return f"K={k:,}: AGA (serve) is {c.fmt_ratio(ratio)} the speed of {fastest} (no target at this K)."
    return (f"**Target (AGA at least {target:g}x faster than the fastest LangGraph at K={k:,}): "
            f"{'MET' if ratio >= target else 'MISSED'}** — AGA (serve) is {c.fmt_ratio(ratio)} the speed of "
            f"{fastest}, the fastest LangGraph configuration in this run.")


def section_fan(p: dict[str, Any], base: Path, out: list[str], data: dict[str, Any]) -> None:
    serve, idle = Aga(base / "aga_fan_serve", "serve"), Aga(base / "aga_fan_idle", "idle")
    lgs = {LG_MATCHED: LG(base / "lg_fan.db", durability="sync", synchronous="NORMAL"),
           LG_EXIT: LG(base / "lg_fan_exit.db", durability="exit", synchronous="NORMAL")}
    for a in (serve, idle):
        aga_fan(a, 3)
    for lg in lgs.values():
        lg_fan(lg, 3)
    rows, verdicts = [], []
    data["fan"] = {}
    for k in p["fan_k"]:
        res: dict[str, list[c.Sample]] = {AGA_SERVE: [], AGA_IDLE: [], **{name: [] for name in lgs}}
        ops = 0
        for _ in range(p["fan_reps"]):  # interleaved, so background load hits every system alike
            smp, ops = aga_fan(serve, k)
            res[AGA_SERVE].append(smp)
            res[AGA_IDLE].append(aga_fan(idle, k)[0])
            for name, lg in lgs.items():
                res[name].append(lg_fan(lg, k))
        sw = c.med_wall(res[AGA_SERVE])
        fastest = min(lgs, key=lambda name: c.med_wall(res[name]))
        rows.append([f"{k:,}", c.fmt_us(sw * 1e6), c.spread(res[AGA_SERVE]),
                     c.fmt_us(c.med_cpu(res[AGA_SERVE]) * 1e6), f"{ops:,}",
                     c.fmt_us(c.med_wall(res[AGA_IDLE]) * 1e6),
                     *(c.fmt_us(c.med_wall(res[name]) * 1e6) for name in lgs),
                     *(c.fmt_ratio(c.med_wall(res[name]) / sw) for name in lgs),
                     c.fmt_ratio(c.med_cpu(res[fastest]) / c.med_cpu(res[AGA_SERVE]))])
        verdicts.append(_fan_verdict(k, c.med_wall(res[fastest]), sw, fastest))
        data["fan"][k] = {"ops": ops, **{name: [x.__dict__ for x in v] for name, v in res.items()}}
    serve.close()
    idle.close()
    for lg in lgs.values():
        lg.close()
    out += ["## 3. Spawning and finishing K children", "",
            "AGA: one step spawns K children of a trivial action (its entry step completes at once), waits for "
            "them with `wait_children`, and completes when the join step runs. LangGraph: `Send` fan-out from "
            "START to K workers, an `operator.add` reducer and a join node, on a SqliteSaver with "
            "synchronous=NORMAL, once with durability=sync (a checkpoint after each super-step) and once with "
            "durability=exit (one checkpoint when the invocation returns: its fastest configuration). Times are "
            f"per child, medians of {p['fan_reps']} interleaved repetitions.", "",
            c.md_table(["K", "AGA serve µs per child", "min–max µs", "AGA CPU µs per child", "AGA operations",
                        "AGA run_until_idle µs per child", *(f"{name} µs per child" for name in lgs),
                        *(f"{name} ÷ AGA serve (wall)" for name in lgs), "fastest LangGraph ÷ AGA serve (CPU)"],
                       rows), "", *(v + "\n" for v in verdicts)]


# ---- 4: bytes per operation ---------------------------------------------------------------------------
def section_bytes(p: dict[str, Any], base: Path, out: list[str], data: dict[str, Any]) -> None:
    rows = []
    breakdown: dict[str, dict[str, int]] = {}
    data["bytes"] = {}
    nmax = max(p["bytes_n"])
    variants: tuple[tuple[str, dict[str, Any]], ...] = (("AGA, constant context", {}),
                ("AGA, one journal line per step (append-only)", {"journal": True}),
                ("AGA, context carries the growing list", {"carry": True}))
    for n in p["bytes_n"]:
        for v, (label, flags) in enumerate(variants):
            aga = Aga(base / f"aga_bytes_{n}_{v}", "idle")
            aga_chain(aga, 2)  # so every table has been written to once
            before, tb0 = c.file_size(aga.db_path), c.table_bytes(aga.db_path)
            aga_chain(aga, n, **flags)
            after, tb1 = c.file_size(aga.db_path), c.table_bytes(aga.db_path)
            aga.close()
            rows.append([label, f"{n:,}", c.fmt_bytes(after - before), c.fmt_bytes((after - before) / n)])
            data["bytes"][f"{label} n={n}"] = (after - before) / n
            if v in (0, 2) and n == nmax:
                breakdown[label] = {k: tb1.get(k, 0) - tb0.get(k, 0) for k in tb1}
        for label, graph in (("LangGraph, counter only", "chain"),
                             ("LangGraph, state carries the growing list", "grow")):
            lg = LG(base / f"lg_bytes_{n}_{graph}.db", durability="sync", synchronous="NORMAL")
            lg_chain(lg, 2, graph)
            before, tb0 = lg.size(), c.table_bytes(lg.db_path)
            lg_chain(lg, n, graph)
            after, tb1 = lg.size(), c.table_bytes(lg.db_path)
            lg.close()
            rows.append([label, f"{n:,}", c.fmt_bytes(after - before), c.fmt_bytes((after - before) / n)])
            data["bytes"][f"{label} n={n}"] = (after - before) / n
            if n == nmax:
                breakdown[label] = {k: tb1.get(k, 0) - tb0.get(k, 0) for k in tb1}
    order = [v[0] for v in variants] + ["LangGraph, counter only", "LangGraph, state carries the growing list"]
    rows.sort(key=lambda r: (order.index(r[0]), int(r[1].replace(",", ""))))
    out += ["## 4. Bytes stored per operation", "",
            "Growth of the SQLite file (after `PRAGMA wal_checkpoint(TRUNCATE)`, so the WAL is folded in) over a "
            "chain of N steps, divided by N. The growing-list runs add one 64-character item per step: "
            "LangGraph keeps it in the graph state (an `operator.add` channel); AGA either writes it as a journal "
            "line (the append-only way) or carries the whole list in the step's continuation context. "
            "Storage that grows linearly with work shows the same bytes per step at every N; storage that grows "
            "with state size times steps shows bytes per step rising with N. SQLite grows in 4 KiB pages, so "
            "small N is coarse.", "",
            c.md_table(["Run", "N steps", "bytes added", "bytes per step"], rows, "lrrr"), ""]
    for label, tb in breakdown.items():
        items = sorted(((k, v) for k, v in tb.items() if v), key=lambda kv: -kv[1])
        out += [f"Where the bytes go — {label}, N={nmax:,} (tables include their indexes):", "",
                c.md_table(["Table", "bytes added", "bytes per step"],
                           [[k, c.fmt_bytes(v), c.fmt_bytes(v / nmax)] for k, v in items], "lrr"), ""]


# ---- 5: flatness ------------------------------------------------------------------------------------
def section_flat(p: dict[str, Any], base: Path, out: list[str], data: dict[str, Any]) -> None:
    rows = []
    data["flat"] = {}
    n, r = p["flat_n"], p["flat_r"]
    for k in p["flat_k"]:
        aga = Aga(base / f"aga_flat_{k}", "serve")
        aga_chain(aga, 3)  # warm-up
        sid = aga.start("bench_flat", {"k": k, "n": n, "chainers": r})
        seen = {"done": 0, "parked": 0}

        def setup_done(e: SwarmEvent, sid: str = sid, seen: dict[str, int] = seen, k: int = k) -> bool:
            if e.swarm_id != sid:
                return False
            ch = e.data.get("changes", {})
            if e.type is EventType.NODE_UPDATED and ch.get("lifecycle") == "done":
                seen["done"] += 1
            if e.type is EventType.CHAT_UPDATED and ch.get("status") == "awaiting_user":
                seen["parked"] += 1
            return seen["done"] >= k and seen["parked"] >= r + 1

        setup_ops, setup = _timed(lambda: aga.go(sid, setup_done))  # noqa: B023
        aga.drain(sid)
        aga.expect(sid, SwarmStatus.RUNNING)  # everything done except the parked chainers and the root
        nodes = len(aga.svc.state(sid).nodes)
        sib: list[c.Sample] = []
        for j in range(r):
            chainer = f"n.{k + 1 + j}"
            ops, tm = _timed(lambda: aga.reply(sid, f"chat-{chainer}", ev_node_ended(sid, chainer)))  # noqa: B023
            sib.append(c.Sample(tm.wall, tm.cpu, ops))
            aga.drain(sid)
        ops, tm = _timed(lambda: aga.reply(sid, "chat-n", ev_done(sid)))  # noqa: B023
        root = c.Sample(tm.wall, tm.cpu, ops)
        aga.expect(sid, SwarmStatus.COMPLETED)
        aga.close()
        size = c.file_size(aga.db_path)
        rows.append([f"{nodes:,}", c.fmt_us(c.med_wall(sib) * 1e6), c.fmt_us(c.med_cpu(sib) * 1e6),
                     c.fmt_us(root.wall_per_unit * 1e6), c.fmt_us(root.cpu_per_unit * 1e6),
                     c.fmt_us(setup.wall / k * 1e6), c.fmt_us(setup.cpu / k * 1e6), f"{setup_ops:,}",
                     f"{size / 1e6:,.1f}"])
        data["flat"][k] = {"nodes": nodes, "sibling": [x.__dict__ for x in sib], "root": root.__dict__,
                           "setup_wall": setup.wall, "setup_ops": setup_ops, "db_bytes": size}
    out += ["## 5. Flatness: per-operation cost as the swarm grows", "",
            f"A root spawns K trivial children (they run and finish) plus {r} parked 'chainer' sibling(s), then "
            f"parks itself on a question. Each chainer is then released in turn and chains {n} `goto` steps "
            f"(µs per operation, median over chainers); finally the root itself, whose node row lists all "
            f"K+{r} children, is released and chains the same. 'Setup µs per child' is the time to run and "
            "finish the K children while their parent is not waiting on them. Serve mode.", "",
            c.md_table(["Nodes in the swarm", "µs per op, sibling node (median wall)", "CPU µs per op, sibling",
                        "µs per op, root (parent of all)", "CPU µs per op, root", "Setup µs per child",
                        "Setup CPU µs per child", "Setup operations", "DB MB"], rows), ""]


# ---- where AGA's time goes --------------------------------------------------------------------------
PROFILE_KEYS = [
    ("Runner.claim (claim transaction)", "runner.py", "claim"),
    ("GroupCommit.in_tx (the operation's transaction)", "grouping.py", "in_tx"),
    ("  SwarmTx.__init__ (load swarm row)", "tx.py", "__init__"),
    ("  Dispatcher.dispatch (load node + run the step)", "dispatch.py", "dispatch"),
    ("  SwarmTx.flush (write events, rows, ops)", "tx.py", "flush"),
    ("  GroupCommit.finish (mark the operation done)", "grouping.py", "finish"),
    ("Database.tx (begin + commit/close, all transactions)", "database.py", "tx"),
    ("sqlite3 connect (new connection)", "~", "<built-in method _sqlite3.connect>"),
    ("sqlite3 Connection.close (incl. WAL checkpoint)", "~", "<method 'close' of 'sqlite3.Connection' objects>"),
    ("sqlite3 Connection.commit", "~", "<method 'commit' of 'sqlite3.Connection' objects>"),
    ("sqlite3 Cursor.execute (the SQL itself)", "~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
    ("SQLAlchemy Connection.execute (incl. the SQL)", "base.py", "execute"),
    ("SQLAlchemy Connection.exec_driver_sql (incl. the SQL)", "base.py", "exec_driver_sql"),
    ("pydantic validation", "~",
     "<method 'validate_python' of 'pydantic_core._pydantic_core.SchemaValidator' objects>"),
]


def section_profile(p: dict[str, Any], base: Path, out: list[str], data: dict[str, Any]) -> None:
    n = p["chain_n"]
    aga = Aga(base / "aga_prof", "serve")
    pool_name = type(aga.svc.db.engine.pool).__name__
    aga_chain(aga, 5)
    sid = aga.start("bench_chain", {"n": n})
    prof = cProfile.Profile()
    prof.enable()
    ops = aga.go(sid, ev_done(sid))
    prof.disable()
    aga.expect(sid, SwarmStatus.COMPLETED)
    aga.close()
    st = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = max(v[3] for v in st.values())
    rows = []
    for label, file, func_name in PROFILE_KEYS:
        hits = [v for (f, _, fn), v in st.items() if fn == func_name and (file == "~" or f.endswith(file))
                and (file != "base.py" or "sqlalchemy/engine" in f)]
        cum, calls = sum(v[3] for v in hits), sum(v[1] for v in hits)
        rows.append([label, f"{calls / ops:.1f}", c.fmt_us(cum / ops * 1e6), f"{cum / total * 100:.0f}%"])

    # what-if (diagnostic only, nothing in src/ changes): if the engine opens a new SQLite connection per
    # transaction (NullPool), run the same chain with connections reused (QueuePool), interleaved.
    whatif: list[str] = []
    if pool_name == "NullPool":
        from sqlalchemy import create_engine
        from sqlalchemy.pool import QueuePool

        import aga_swarm.store.database as dbm

        orig = getattr(dbm, "create_engine")  # noqa: B009
        setattr(dbm, "create_engine", lambda url, **kw: create_engine(url, **{**kw, "poolclass": QueuePool}))  # noqa: B010
        try:
            pooled = Aga(base / "aga_pooled", "serve")
        finally:
            setattr(dbm, "create_engine", orig)  # noqa: B010
        plain = Aga(base / "aga_plain", "serve")
        aga_chain(pooled, 5)
        aga_chain(plain, 5)
        ps, qs = [], []
        for _ in range(max(3, p["reps"] // 2)):
            ps.append(aga_chain(plain, n))
            qs.append(aga_chain(pooled, n))
        pooled.close()
        plain.close()
        whatif = ["What-if (diagnostic; the source is unchanged): the same chain with the engine's SQLAlchemy "
                  "pool patched at runtime from `NullPool` to `QueuePool`, interleaved with the real one:", "",
                  c.md_table(["AGA configuration", "µs per op (median wall)", "CPU µs per op"],
                             [["as shipped (NullPool: a new SQLite connection per transaction)",
                               c.fmt_us(c.med_wall(ps) * 1e6), c.fmt_us(c.med_cpu(ps) * 1e6)],
                              ["QueuePool (connections reused)", c.fmt_us(c.med_wall(qs) * 1e6),
                               c.fmt_us(c.med_cpu(qs) * 1e6)]], "lrr"), ""]
        data["whatif_pool"] = {"nullpool": [x.__dict__ for x in ps], "queuepool": [x.__dict__ for x in qs]}
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(20)
    top = "\n".join(line for line in buf.getvalue().splitlines()[4:] if line.strip())
    out += ["## Where AGA's time per step goes (cProfile, diagnostic)", "",
            f"cProfile over one {n}-step `goto` chain in serve mode ({ops} operations). Profiling inflates "
            "Python-heavy parts; read the shares, not the absolute µs. Indented rows are part of the row above; "
            "the SQLite/SQLAlchemy rows overlap the engine rows.", "",
            c.md_table(["Function", "calls per op", "µs per op (profiled)", "share of run"], rows, "lrrr"), "",
            f"The engine's SQLAlchemy pool class: `{pool_name}`.", "", *whatif,
            "Top functions by own time:", "", "```", top, "```", ""]
    data["profile"] = rows


# =====================================================================================================
FULL = {"reps": 7, "chain_n": 200, "ask_reps": 5, "ask_m": 30, "fan_k": [100, 1000], "fan_reps": 5,
        "bytes_n": [100, 400], "flat_k": [100, 1000, 10000], "flat_n": 100, "flat_r": 3}
QUICK = {"reps": 2, "chain_n": 20, "ask_reps": 2, "ask_m": 4, "fan_k": [20], "fan_reps": 1,
         "bytes_n": [10, 30], "flat_k": [20, 100], "flat_n": 10, "flat_r": 1}
SECTIONS = {"step": section_step_and_ask, "fan": section_fan, "bytes": section_bytes, "flat": section_flat,
            "profile": section_profile}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run that proves the bench works")
    ap.add_argument("--only", action="append", choices=[k for k in SECTIONS if k != "profile"],
                    help="run only these sections (repeatable)")
    ap.add_argument("--profile", action="store_true", help="add the cProfile breakdown of AGA's per-step time")
    ap.add_argument("--dir", help="where to create the temporary databases (default: the system temp dir)")
    ap.add_argument("--json", help="also write the raw figures to this JSON file")
    args = ap.parse_args(argv)
    lg_imports()
    p = dict(QUICK if args.quick else FULL)
    names = args.only or [k for k in SECTIONS if k != "profile"]
    if args.profile:
        names.append("profile")
    out = ["# AGA Swarm engine vs LangGraph (bench/bench_engine.py)", "",
           c.machine_section({**{k: v for k, v in c.versions("aga-swarm", "langgraph", "langgraph-checkpoint",
                                                               "langgraph-checkpoint-sqlite", "sqlalchemy",
                                                               "pydantic").items()},
                              "Mode": "quick (smoke run)" if args.quick else "full"}), "",
           "Same process, same run, no LLM on either side; every database is a fresh SQLite file in one temp dir "
           "on the same disk. Times are medians over repetitions after a warm-up; 'CPU' is this process's CPU "
           "time (all threads), which is less sensitive to other load on the machine than wall time.", ""]
    data: dict[str, Any] = {"params": p}
    started = time.perf_counter()
    with c.temp_dir(args.dir, "aga-bench-engine-") as base:
        for name in names:
            t0 = time.perf_counter()
            SECTIONS[name](p, base, out, data)
            out.append(f"_(section took {time.perf_counter() - t0:,.1f} s)_")
            out.append("")
            print(f"[bench_engine] {name} done in {time.perf_counter() - t0:,.1f} s", file=sys.stderr)
    out.append(f"Total benchmark time: {time.perf_counter() - started:,.1f} s; load average at the end: "
               f"{c.load_average()}.")
    print("\n".join(out))
    c.write_json(args.json, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
