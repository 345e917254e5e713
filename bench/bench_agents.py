"""Agents benchmark: the built-in actions end to end on the scripted offline model.

A 3-level plan with 1,000 leaf ``do`` nodes and 100 ``ask_user`` nodes answered programmatically:

- the root goal is planned into 10 sections (``Plan: section NN of the handbook``);
- each section is planned (a ``plan.decompose`` rule given to ``ScriptedModel(rules=...)``) into 10 chapters,
  each ``Plan: <10 paragraphs>; Ask the reader ...`` — a nested ``Plan:`` inside a ``;`` list would be split
  again, so the middle level comes from a rule, and the built-in ``;`` split makes the leaves;
- each chapter is planned (the scripted model's default rule) into 10 ``do`` leaves and 1 ``ask_user`` node.

Every node but the root is routed (2 model calls: folder, then action). The run is driven like the CLI:
``run_until_idle``, answer every waiting chat, repeat. It reports the total time, operations per second,
peak RSS, and the engine's overhead per LLM call with the model's own time taken out.

Run ``python bench/bench_agents.py`` (full) or ``--quick`` (smoke run for CI). Prints Markdown to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import os
import pstats
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pydantic import BaseModel
from sqlalchemy import create_engine, text

import common as c
from aga_swarm.llm.protocol import LLMRequest, LLMResponse
from aga_swarm.llm.scripted import ScriptedModel
from aga_swarm.schemas import Lifecycle, SwarmConfig, SwarmStatus
from aga_swarm.service import SwarmService
from aga_swarm.service.composition import open_engine

ROOT_MARK = "Write the handbook in these parts"
ANSWER = "Worked examples, please: one per idea."


class TimedModel:
    """Wraps the model and sums the time spent inside it, so engine time = total - model time."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model = inner.model
        self.calls = 0
        self.seconds = 0.0
        self.by_purpose: Counter[str] = Counter()

    async def complete(self, request: LLMRequest, output_model: type[BaseModel]) -> LLMResponse:
        started = time.perf_counter()
        try:
            response: LLMResponse = await self.inner.complete(request, output_model)
            return response
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1
            self.by_purpose[request.purpose] += 1


def section_line(s: int) -> str:
    return f"Plan: section {s:02d} of the handbook"


def chapter_directive(s: int, ch: int, leaves: int, asks: int) -> str:
    tag = f"{s:02d}.{ch:02d}"
    items = [f"Write paragraph {p} of chapter {tag}" for p in range(leaves)]
    items += [f"Ask the reader what chapter {tag} should stress (question {q})" for q in range(asks)]
    return "Plan: " + "; ".join(items)


def build_scenario(sections: int, chapters: int, leaves: int, asks: int) -> tuple[str, list[dict[str, Any]]]:
    """The goal and the scripted-model rules that make the 3-level tree."""
    goal = "\n".join([f"{ROOT_MARK}:", *(section_line(s) for s in range(sections))])
    rules: list[dict[str, Any]] = [{"purpose": "plan.decompose", "match": ROOT_MARK, "repeat": True,
                                    "output": {"subtasks": [section_line(s) for s in range(sections)]}}]
    rules += [{"purpose": "plan.decompose", "match": section_line(s), "repeat": True,
               "output": {"subtasks": [chapter_directive(s, ch, leaves, asks) for ch in range(chapters)]}}
              for s in range(sections)]
    return goal, rules


async def drive(svc: SwarmService, swarm_id: str) -> tuple[int, int]:
    """Run like the CLI does: until idle, answer every waiting chat, repeat. Returns (rounds, answers)."""
    rounds = answers = 0
    while True:
        rounds += 1
        await svc.run_until_idle(swarm_id, timeout=3600)
        if svc.get_swarm(swarm_id).status is not SwarmStatus.RUNNING:
            return rounds, answers
        waiting = svc.waiting_chats(swarm_id)
        if not waiting:
            raise RuntimeError("the swarm went idle with nobody waiting on the user")
        for chat in waiting:
            svc.post_reply(swarm_id, chat.id, ANSWER)
            answers += 1


PG_ADMIN = os.environ.get("AGA_SWARM_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pg_database(create: bool, url: str = "") -> str:
    """A fresh PostgreSQL database's URL (``create``), or drop the one at ``url``."""
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if create:
                name = f"aga_bench_bytes_{uuid4().hex[:8]}"
                conn.execute(text(f'CREATE DATABASE "{name}"'))
                return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
            return url
    finally:
        admin.dispose()


def pg_table_bytes(url: str) -> tuple[dict[str, int], dict[str, int]]:
    """Bytes per table (indexes and TOAST included) as the run left them, and after VACUUM FULL (dead row versions
    of updated rows gone): ``pg_total_relation_size``."""
    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    q = text("SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n "
             "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'")
    try:
        with eng.connect() as conn:
            as_run = {str(k): int(v) for k, v in conn.execute(q)}
            conn.execute(text("VACUUM FULL"))
            full = {str(k): int(v) for k, v in conn.execute(q)}
        return as_run, full
    finally:
        eng.dispose()


def run(p: dict[str, Any], base: Path, profile: bool, inline_bytes: int | None = None,
        compress_bytes: int | None = None, pg_url: str | None = None) -> dict[str, Any]:
    goal, rules = build_scenario(p["sections"], p["chapters"], p["leaves"], p["asks"])
    model = TimedModel(ScriptedModel(rules=rules))

    def factory(config: SwarmConfig) -> TimedModel:
        return model

    where: dict[str, Any] = {"data_dir": base} if pg_url is None else {"db_url": pg_url,
                                                                       "blob_url": str(base / "blobs")}
    engine = open_engine(llm_factory=factory, inline_bytes=inline_bytes, compress_bytes=compress_bytes, **where)
    inline_bytes = engine.requests.inline_bytes
    svc = SwarmService(engine)
    loop = asyncio.new_event_loop()
    rss_before = c.rss_bytes()
    gc.collect()
    prof = cProfile.Profile() if profile else None
    s = svc.create_swarm("bench", goal)
    ops_before = svc.runner.ops_done
    with c.Timer() as tm:
        if prof:
            prof.enable()
        svc.spawn(s.id)
        rounds, answers = loop.run_until_complete(drive(svc, s.id))
        if prof:
            prof.disable()
    ops = svc.runner.ops_done - ops_before
    peak = c.peak_rss_bytes()
    rss_after = c.rss_bytes()

    # check the run did what it should
    status = svc.get_swarm(s.id).status
    state = svc.state(s.id)
    kinds = Counter(n.action_id for n in state.nodes.values())
    depth = Counter(n.depth for n in state.nodes.values() if n.action_id == "do")
    not_done = [n.id for n in state.nodes.values() if n.lifecycle is not Lifecycle.DONE]
    expect_leaves = p["sections"] * p["chapters"] * p["leaves"]
    expect_asks = p["sections"] * p["chapters"] * p["asks"]
    problems = []
    if status is not SwarmStatus.COMPLETED:
        problems.append(f"swarm ended {status.value}")
    if kinds.get("do", 0) != expect_leaves or set(depth) != {3}:
        problems.append(f"expected {expect_leaves} do leaves at depth 3, got {dict(kinds)} / depths {dict(depth)}")
    if kinds.get("ask_user", 0) != expect_asks or answers != expect_asks:
        problems.append(f"expected {expect_asks} ask_user nodes answered once, got {kinds.get('ask_user')} "
                        f"nodes and {answers} answers")
    if not_done:
        problems.append(f"{len(not_done)} nodes not done, e.g. {not_done[:3]}")
    events = state.seq
    svc.close()
    if pg_url is None:
        size = c.file_size(base / "swarm.db")
        tables = c.table_bytes(base / "swarm.db")
    else:
        tables, vacuumed = pg_table_bytes(pg_url)
        size = sum(tables.values())
        tables = {**tables, **{f"{k} (after VACUUM FULL)": v for k, v in vacuumed.items()},
                  "all tables after VACUUM FULL": sum(vacuumed.values())}
    blob_bytes = sum(f.stat().st_size for f in (base / "blobs").rglob("*") if f.is_file()) \
        if (base / "blobs").exists() else 0
    loop.close()

    top = ""
    if prof:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(25)
        top = "\n".join(line for line in buf.getvalue().splitlines()[4:] if line.strip())
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats("aga_swarm", 25)
        top += "\n\nBy cumulative time (aga_swarm only):\n" + "\n".join(
            line for line in buf.getvalue().splitlines()[6:] if line.strip())
    return {"wall": tm.wall, "cpu": tm.cpu, "ops": ops, "calls": model.calls, "model_s": model.seconds,
            "by_purpose": dict(model.by_purpose), "nodes": len(state.nodes), "kinds": dict(kinds),
            "rounds": rounds, "answers": answers, "events": events, "db_bytes": size, "tables": tables,
            "blob_bytes": blob_bytes, "inline_bytes": inline_bytes, "peak_rss": peak,
            "rss_before": rss_before, "rss_after": rss_after, "problems": problems, "top": top}


FULL = {"sections": 10, "chapters": 10, "leaves": 10, "asks": 1}
QUICK = {"sections": 3, "chapters": 3, "leaves": 3, "asks": 1}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a 3x3x3 tree: a smoke run that proves the bench works")
    ap.add_argument("--profile", action="store_true", help="run under cProfile and print the top functions "
                                                         "(slows the run; its timings are then not comparable)")
    ap.add_argument("--dir", help="where to create the temporary database (default: the system temp dir)")
    ap.add_argument("--json", help="also write the raw figures to this JSON file")
    ap.add_argument("--inline-bytes", type=int, help="bodies above this size go to the blob store "
                                                    "(default: AGA_SWARM_BLOB_INLINE_BYTES or 16,000)")
    ap.add_argument("--postgres", action="store_true", help="run on a fresh PostgreSQL database on "
                                                          "$AGA_SWARM_TEST_PG's server (dropped after) and report "
                                                          "its bytes (pg_total_relation_size) instead of SQLite's")
    ap.add_argument("--compress-bytes", type=int, help="JSON values in SQLite rows at least this long are stored "
                                                      "compressed (default: AGA_SWARM_ROW_COMPRESS_BYTES or 200; "
                                                      "0: off)")
    args = ap.parse_args(argv)
    p = QUICK if args.quick else FULL
    pg_url = pg_database(True) if args.postgres else None
    try:
        with c.temp_dir(args.dir, "aga-bench-agents-") as base:
            r = run(p, base, args.profile, args.inline_bytes, args.compress_bytes, pg_url)
    finally:
        if pg_url is not None:
            pg_database(False, pg_url)
    engine_s = r["wall"] - r["model_s"]
    per_call_ms = engine_s / r["calls"] * 1000
    cpu_per_call_ms = (r["cpu"] - r["model_s"]) / r["calls"] * 1000
    leaves = p["sections"] * p["chapters"] * p["leaves"]
    asks = p["sections"] * p["chapters"] * p["asks"]
    out = ["# AGA Swarm agents end to end on the scripted model (bench/bench_agents.py)", "",
           c.machine_section({**c.versions("aga-swarm", "sqlalchemy", "pydantic"),
                              "Mode": ("quick (smoke run)" if args.quick else "full")
                              + (", on PostgreSQL" if args.postgres else "")
                              + (", under cProfile" if args.profile else "")}), "",
           f"A 3-level plan: the root goal → {p['sections']} sections → {p['sections'] * p['chapters']} chapters → "
           f"{leaves:,} `do` leaves, plus {asks} `ask_user` nodes (one per chapter) answered programmatically. "
           "Every node below the root is routed (folder, then action). Driven like the CLI: `run_until_idle`, "
           "answer every waiting chat, repeat. The model is `ScriptedModel` (the section level comes from "
           "`plan.decompose` rules) wrapped to time itself; engine time = total time − time inside the model.", "",
           c.md_table(["Measure", "Value"], [
               ["Result", "completed, every node done" if not r["problems"] else "; ".join(r["problems"])],
               ["Nodes (by action)", f"{r['nodes']:,} ("
                + ", ".join(f"{k} {v:,}" for k, v in sorted(r["kinds"].items())) + ")"],
               ["Questions answered / driver rounds", f"{r['answers']} / {r['rounds']}"],
               ["Total time (wall)", f"{c.fmt_s(r['wall'])} s"],
               ["CPU time (this process)", f"{c.fmt_s(r['cpu'])} s"],
               ["Operations executed", f"{r['ops']:,}"],
               ["Operations per second", f"{r['ops'] / r['wall']:,.0f}"],
               ["Events recorded", f"{r['events']:,}"],
               ["LLM calls", f"{r['calls']:,} (" + ", ".join(f"{k} {v:,}" for k, v in
                                                          sorted(r["by_purpose"].items())) + ")"],
               ["Time inside the model", f"{c.fmt_s(r['model_s'])} s ({r['model_s'] / r['calls'] * 1e6:,.0f} µs "
                                         "per call)"],
               ["**Engine overhead per LLM call** ((total − model) ÷ calls)", f"**{per_call_ms:,.2f} ms**"],
               ["Engine CPU per LLM call ((CPU − model) ÷ calls)", f"{cpu_per_call_ms:,.2f} ms"],
               ["Engine time per operation", f"{engine_s / r['ops'] * 1e6:,.0f} µs"],
               ["Peak RSS (getrusage ru_maxrss, whole process)", f"{r['peak_rss'] / 2**20:,.0f} MiB"],
               ["RSS before the run / after", f"{r['rss_before'] / 2**20:,.0f} MiB / "
                                             f"{r['rss_after'] / 2**20:,.0f} MiB"],
               ["Database size after the run", f"{r['db_bytes'] / 1e6:,.1f} MB"],
               ["**Database bytes per node**", f"**{r['db_bytes'] / r['nodes']:,.0f} B**"],
               ["Blob store after the run (bodies above the inline size, "
                f"`AGA_SWARM_BLOB_INLINE_BYTES` = {r['inline_bytes']:,})",
                f"{r['blob_bytes'] / 1e6:,.1f} MB ({r['blob_bytes'] / r['nodes']:,.0f} B per node)"],
           ], "lr"), "",
           ("Where the database's bytes go (SQLite's dbstat; each table with its indexes):" if not args.postgres else
            "Where the database's bytes go (PostgreSQL's pg_total_relation_size: each table with its indexes and "
            "TOAST, as the run left them and after VACUUM FULL):"), "",
           c.md_table(["Table", "bytes", "bytes per node"],
                      [[k, f"{v:,}", f"{v / r['nodes']:,.0f}"] for k, v in
                       sorted(r["tables"].items(), key=lambda kv: -kv[1]) if v >= 50_000], "lrr"), "",
           f"**Target (engine overhead under 1 ms per LLM call): {'MET' if per_call_ms < 1 else 'MISSED'}** "
           f"({per_call_ms:,.2f} ms per call).", ""]
    if r["top"]:
        out += ["## cProfile: top functions by own time", "", "```", r["top"], "```", ""]
    print("\n".join(out))
    c.write_json(args.json, {k: v for k, v in r.items() if k != "top"} | {"params": p})
    return 1 if r["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
