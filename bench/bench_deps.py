"""The cost of a dependency edge (issue 12): a plan of K subtasks in a chain (each needs the one before it)
against the same K subtasks with no dependencies, on the engine alone (trivial steps, no LLM), SQLite.

The independent plan starts every child at once (their spawns run in the plan's own transaction, and their
ends are absorbed by a few checks of the parent); in the chain, the transaction in which a child ends releases
the next one (``engine/deps.py``), whose spawn may run in that same transaction (group commit), and so on.
The figure reported is (chain - independent) / (K - 1) per edge, wall and CPU.

Run ``python bench/bench_deps.py`` (full) or ``--quick`` (smoke). Prints Markdown to stdout.
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pydantic import BaseModel

import common as c
from aga_swarm.engine.deps import Subtask
from aga_swarm.schemas import SwarmStatus
from aga_swarm.sdk import ActionSpec, ChildrenResult, StepContext
from bench_engine import AGA_IDLE, AGA_SERVE, Aga, ev_done


class PlanCtx(BaseModel):
    k: int
    chain: bool


def add_actions(aga: Aga) -> None:
    reg = aga.reg

    @reg.step("deps.plan", context=PlanCtx)
    def plan(ctx: StepContext, data: PlanCtx, result: None) -> None:
        ctx.spawn_plan([Subtask(task=f"leaf {j}", needs=[j] if data.chain and j else []) for j in range(data.k)],
                       action_id="bench_leaf")
        ctx.wait_children(done, data)

    @reg.step("deps.done", context=PlanCtx, result=ChildrenResult)
    def done(ctx: StepContext, data: PlanCtx, result: ChildrenResult) -> None:
        ok = sum(1 for ch in result.children if ch.report == "ok")
        ctx.complete(f"{ok} children done")

    reg.register_action(ActionSpec(id="deps_plan", description="benchmark: a plan with or without a chain",
                                   entry_step="deps.plan", routable=False), folder="bench")


def run_plan(aga: Aga, k: int, chain: bool) -> tuple[c.Sample, int]:
    sid = aga.start("deps_plan", {"k": k, "chain": chain})
    gc.collect()
    with c.Timer() as tm:
        ops = aga.go(sid, ev_done(sid))
    aga.expect(sid, SwarmStatus.COMPLETED)
    state = aga.svc.state(sid)
    if state.nodes["n"].report != f"{k} children done":
        raise RuntimeError(f"report: {state.nodes['n'].report!r}")
    if chain:
        for j in range(2, k + 1):
            if state.nodes[f"n.{j}"].needs != [f"n.{j - 1}"]:
                raise RuntimeError("the chain's edges are missing")
    aga.drain(sid)
    return c.Sample(tm.wall, tm.cpu, k), ops


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--dir", default=None)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    sizes = [10, 50] if args.quick else [10, 100, 1000]
    reps = 2 if args.quick else 5
    results: dict[str, Any] = {}
    rows = []
    machine = c.machine_section()  # the load average at the start
    with c.temp_dir(args.dir, "aga-bench-deps-") as base:
        for mode, label in (("serve", AGA_SERVE), ("idle", AGA_IDLE)):
            aga = Aga(base / mode, mode)
            add_actions(aga)
            try:
                run_plan(aga, 10, True)  # warm-up
                run_plan(aga, 10, False)
                for k in sizes:
                    samples: dict[bool, list[c.Sample]] = {True: [], False: []}
                    ops: dict[bool, int] = {}
                    for _ in range(reps):  # interleaved, so background load hits both alike
                        for chain in (False, True):
                            s, n = run_plan(aga, k, chain)
                            samples[chain].append(s)
                            ops[chain] = n
                        print(f"{label} K={k}: done a repetition", file=sys.stderr)
                    ind_w, chn_w = (c.median([x.wall for x in samples[ch]]) for ch in (False, True))
                    ind_c, chn_c = (c.median([x.cpu for x in samples[ch]]) for ch in (False, True))
                    edges = k - 1
                    rows.append([label, f"{k:,}", c.fmt_ms(ind_w), c.fmt_ms(chn_w),
                                 c.fmt_us((chn_w - ind_w) / edges * 1e6), c.fmt_us((chn_c - ind_c) / edges * 1e6),
                                 f"{ops[False]:,} / {ops[True]:,}", c.spread(samples[True])])
                    results[f"{mode}-{k}"] = {"independent": [vars(x) for x in samples[False]],
                                              "chain": [vars(x) for x in samples[True]], "ops": ops}
            finally:
                aga.close()
    print("## The cost of a dependency edge (bench/bench_deps.py)\n")
    print(machine)
    print()
    print(c.md_table(["run mode", "K", "K independent (wall)", "chain of K (wall)", "per edge (wall)",
                      "per edge (CPU)", "operations run (independent / chain)",
                      "chain min–max (µs per subtask)"], rows))
    print(f"\nTimes in ms are medians of {reps} interleaved repetitions (after a warm-up); per edge = "
          "(chain - independent) / (K - 1), in µs. Load average at the end (1/5/15 min): "
          f"{c.load_average()}.")
    c.write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
