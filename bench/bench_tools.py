"""Tool-call benchmark: one approved tool call in a tool-using loop, AGA Swarm against LangGraph's ``ToolNode``
plus ``interrupt()``, in the same process and run, with no LLM (both sides use a model that answers at once)
and a trivial in-process tool, on SQLite files in one temp dir.

One cycle, on both sides: the person approves the pending call -> the tool runs -> its result is persisted ->
the model is asked again -> it asks for the next call -> the approval request is persisted and the run parks.

- AGA: ``do``'s tool-using loop (``actions/toolloop.py``) with the scripted model, whose turns call a built-in
  tool ``bench.echo`` (policy ``ask``) once per ``Tool:`` segment of the task; a cycle is ``post_reply("yes")``
  until the next approval question is posted (serve mode, as a server runs it: the replies are made
  from a task on the runner's loop, as ``ServerContext.write`` makes them on SQLite; ``--loop-per-reply`` makes
  each from outside the loop, which then runs until its event, as this bench did before).
- LangGraph: an agent node (a fake model returning an ``AIMessage`` with one tool call), an approval node that
  calls ``interrupt()``, and the prebuilt ``ToolNode``; state ``messages`` with ``add_messages``; a cycle is
  ``invoke(Command(resume="yes"))`` until the next interrupt; SqliteSaver with durability ``sync`` (every
  checkpoint persisted) and ``exit`` (the fastest: persisted when the invocation ends, which it does at each
  interrupt, so nothing the person sees is lost either way).

The process runs with the garbage-collector settings ``aga-swarm serve`` applies (``server/gcwatch.py``: young
collections every 10,000 allocations, and everything alive once both systems are set up frozen), which both
systems share, since they run in one process; ``--python-gc`` keeps Python's defaults instead.

Run ``python bench/bench_tools.py`` (or ``--quick``). Prints Markdown to stdout.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path
from typing import Annotated, Any, TypedDict

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pydantic import BaseModel, Field

import common as c
from aga_swarm.actions import register_builtins
from aga_swarm.actions.tools import Tool, add_tool
from aga_swarm.sdk import Registry, StepContext
from bench_engine import Aga, ev_any, ev_done, ev_parked

try:
    from langgraph.graph.message import add_messages
except ImportError:  # pragma: no cover
    sys.exit("LangGraph is not installed: pip install -e '.[bench]'")


class EchoArgs(BaseModel):
    text: str = Field(description="What to echo")


def echo(ctx: StepContext, args: EchoArgs) -> str:
    return f"echo: {args.text}"


def tool_registry() -> Registry:
    reg = register_builtins(Registry())
    add_tool(reg, Tool("bench.echo", "Echo the text back", EchoArgs, ("text",), echo, read_only=False,
                       policy="ask"), folder="bench", folder_description="Benchmark tools")
    return reg


class ToolAga(Aga):
    """``bench_engine.Aga`` whose serve-mode wait is the event's future itself (``run_until_complete(fut)``), not
    ``asyncio.wait_for`` around it: a coroutine, a task and a timer a cycle that are the harness's, not the
    engine's (LangGraph's ``invoke`` is a plain call). Nothing else differs."""

    def go(self, swarm_id: str, until: Any, action: Any = None) -> int:
        if self.mode != "serve":
            return super().go(swarm_id, until, action)
        before = self.svc.runner.ops_done
        fut = self.loop.create_future()
        self._waiters.append((until, fut))
        if action:
            action()
        if not fut.done():  # a reply resumes its node in its own transaction: often done already
            self.loop.run_until_complete(fut)
        return self.svc.runner.ops_done - before

    def replies(self, swarm_id: str, chat_id: str, until: Any, m: int) -> None:
        """``m`` replies, each once the previous one's ``until`` event is out, from a task on the runner's loop:
        where a server makes them on SQLite (``ServerContext.write`` runs ``post_reply`` on the runner's loop), so
        the model call the reply hands over starts on that loop with no wake-up, and the loop is not started and
        stopped around each reply (the harness's cost, which ``invoke`` has no counterpart of)."""
        async def all_replies() -> None:
            for _ in range(m):
                fut = self.loop.create_future()
                self._waiters.append((until, fut))
                self.svc.post_reply(swarm_id, chat_id, "yes")
                await fut

        self.loop.run_until_complete(all_replies())


LOOP_PER_REPLY = False  # ``--loop-per-reply``: each reply made from outside the loop, which then runs until its event


def make_aga(data_dir: Path) -> Aga:
    """``ToolAga`` (serve mode) with the echo tool registered (the built-ins' do runs the loop)."""
    return ToolAga(data_dir, "serve", registry=tool_registry())


def aga_cycles(aga: Aga, m: int) -> c.Sample:
    goal = "Echo them " + " ".join(f"Tool: bench.echo word{i}" for i in range(m))
    s = aga.svc.create_swarm("bench", goal)
    chat = "chat-n.1"
    parked = ev_parked(s.id, chat)
    aga.go(s.id, parked, lambda: aga.svc.spawn(s.id))  # plan, route, first turn, first approval: not timed
    until = ev_any(parked, ev_done(s.id))

    def cycles() -> None:
        if isinstance(aga, ToolAga) and not LOOP_PER_REPLY:
            aga.replies(s.id, chat, until, m)
            return
        for _ in range(m):
            aga.reply(s.id, chat, until)

    with c.Timer() as tm:
        cycles()
    aga.drain(s.id)
    node = aga.svc.state(s.id).nodes["n.1"]
    if node.report is None or f"echo: word{m - 1}" not in node.report:
        raise RuntimeError(f"AGA run did not finish its calls: {node.lifecycle} {node.report!r}")
    return c.Sample(tm.wall, tm.cpu, m)


class LGState(TypedDict):
    messages: Annotated[list[Any], add_messages]
    m: int


def build_lg(db_path: Path, durability: str) -> Any:
    from langchain_core.messages import AIMessage
    from langchain_core.tools import tool
    from langgraph.checkpoint.sqlite import SqliteSaver
    from langgraph.graph import END, START, StateGraph
    from langgraph.prebuilt import ToolNode
    from langgraph.types import interrupt

    @tool
    def echo_tool(text: str) -> str:
        """Echo the text back."""
        return f"echo: {text}"

    def agent(s: LGState) -> dict[str, Any]:
        done = sum(1 for msg in s["messages"] if getattr(msg, "type", "") == "tool")
        if done >= s["m"]:
            return {"messages": [AIMessage(content="all echoed")]}
        return {"messages": [AIMessage(content="", tool_calls=[
            {"id": f"call_{done + 1}", "name": "echo_tool", "args": {"text": f"word{done}"}}])]}

    def approve(s: LGState) -> dict[str, Any]:
        answer = interrupt("May I call echo_tool?")
        if answer != "yes":
            raise RuntimeError("denied")
        return {}

    g = StateGraph(LGState)
    g.add_node("agent", agent)  # type: ignore[call-overload]
    g.add_node("approve", approve)  # type: ignore[call-overload]
    g.add_node("tools", ToolNode([echo_tool]))
    g.add_edge(START, "agent")
    g.add_conditional_edges("agent", lambda s: "approve" if s["messages"][-1].tool_calls else END,
                            ["approve", END])
    g.add_edge("approve", "tools")
    g.add_edge("tools", "agent")
    conn = sqlite3.connect(db_path, check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()
    conn.execute("PRAGMA synchronous=NORMAL")
    return g.compile(checkpointer=saver), conn, durability


def lg_cycles(lg: Any, m: int, thread: str) -> c.Sample:
    from langgraph.types import Command

    graph, _, durability = lg
    cfg = {"configurable": {"thread_id": thread}, "recursion_limit": 10 * m + 10}
    first = graph.invoke({"messages": [("user", "echo them")], "m": m}, cfg, durability=durability)
    assert "__interrupt__" in first

    def cycles() -> Any:
        out = None
        for _ in range(m):
            out = graph.invoke(Command(resume="yes"), cfg, durability=durability)
        return out

    with c.Timer() as tm:
        out = cycles()
    assert "__interrupt__" not in out and out["messages"][-1].content == "all echoed", out
    return c.Sample(tm.wall, tm.cpu, m)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tmp", default=None)
    ap.add_argument("--python-gc", action="store_true",
                    help="keep Python's garbage-collector defaults (not the server's, which both systems get)")
    ap.add_argument("--loop-per-reply", action="store_true",
                    help="AGA: post each reply from outside the event loop and run the loop until its event (the "
                         "harness before the fifth pass), instead of all replies from a task on the runner's loop")
    args = ap.parse_args(argv)
    global LOOP_PER_REPLY
    LOOP_PER_REPLY = args.loop_per_reply
    m, reps = (5, 2) if args.quick else (20, 5)
    print("# Tool calls with approval: AGA Swarm vs LangGraph ToolNode + interrupt()\n")
    print(c.machine_section({**{k: v for k, v in c.versions("aga-swarm", "langgraph", "langgraph-prebuilt",
                                                            "langgraph-checkpoint-sqlite").items()}}))
    print()
    with c.temp_dir(args.tmp, "bench-tools-") as base:
        aga = make_aga(base / "aga")
        lgs = {"LangGraph durability=sync": build_lg(base / "lg_sync.db", "sync"),
               "LangGraph durability=exit": build_lg(base / "lg_exit.db", "exit")}
        aga_cycles(aga, 2)  # warm-up
        for name, lg in lgs.items():
            lg_cycles(lg, 2, f"warm-{name}")
        gc_note = "Python's defaults"
        if not args.python_gc:  # as ``aga-swarm serve`` does once it has started (server/app.py); imported here,
            # since it imports the server's modules: with Python's defaults their objects would slow every collection
            from aga_swarm.server.gcwatch import GC_THRESHOLDS, freeze_startup_objects, set_thresholds

            set_thresholds(GC_THRESHOLDS)
            freeze_startup_objects()
            gc_note = f"the server's, for both (thresholds {GC_THRESHOLDS}, objects alive after setup frozen)"
        res: dict[str, list[c.Sample]] = {"AGA (serve)": [], **{n: [] for n in lgs}}
        for r in range(reps):  # interleaved, so background load hits every system alike
            res["AGA (serve)"].append(aga_cycles(aga, m))
            for name, lg in lgs.items():
                res[name].append(lg_cycles(lg, m, f"{name}-{r}"))
        aga.close()
        for _, conn, _ in lgs.values():
            conn.close()
    rows = [(name, c.fmt_us(c.med_wall(v) * 1e6), c.fmt_us(c.med_cpu(v) * 1e6), c.spread(v))
            for name, v in res.items()]
    print(f"{m} approved calls per repetition, median of {reps} interleaved repetitions; garbage collector: "
          f"{gc_note}; per cycle (approve -> tool -> result persisted -> model asked -> next approval "
          "persisted):\n")
    print(c.md_table(["system", "wall µs / cycle", "CPU µs / cycle", "wall spread (µs)"], rows))
    aga_w, aga_c = c.med_wall(res["AGA (serve)"]), c.med_cpu(res["AGA (serve)"])
    print()
    for name in lgs:
        print(f"- AGA vs {name}: {c.fmt_ratio(c.med_wall(res[name]) / aga_w)} wall, "
              f"{c.fmt_ratio(c.med_cpu(res[name]) / aga_c)} CPU (LangGraph ÷ AGA; above 1x AGA is faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
