"""What each SQLite commit of the engine writes: WAL frames per commit and which b-tree each frame's page belongs to.

Runs one workload on a fresh SQLite file with checkpoints held off (the background checkpointer and SQLite's
automatic one), so every frame the timed part writes stays in the ``-wal`` file; then reads the frames' headers
(page number; a commit frame carries the database size) and names each page's b-tree with the ``dbstat`` virtual
table. Workloads: ``tool`` (bench_tools.py's approved tool-call cycle), ``ask`` and ``step`` (bench_engine.py's ask
cycle and chain step), ``fan`` (bench_engine.py's fan-out of K children).

Run ``python bench/wal_frames.py --workload tool`` (``--units``: cycles, steps or children). Prints Markdown.
"""

from __future__ import annotations

import argparse
import collections
import sqlite3
import struct
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as c
from bench_engine import Aga, aga_ask, aga_chain, aga_fan

WAL_HEADER = 32
FRAME_HEADER = 24


def wal_frames(data: bytes, start: int, page_size: int) -> list[tuple[int, int]]:
    """(page number, database size if a commit frame else 0) of every frame of the WAL ``data`` from ``start``."""
    salt = data[16:24]
    out = []
    pos = max(start, WAL_HEADER)
    while pos + FRAME_HEADER + page_size <= len(data):
        pgno, commit = struct.unpack(">II", data[pos:pos + 8])
        if data[pos + 8:pos + 16] != salt:  # a frame left from before the last reset
            break
        out.append((pgno, commit))
        pos += FRAME_HEADER + page_size
    return out


def page_owners(db: Path) -> dict[int, str]:
    conn = sqlite3.connect(db)
    try:
        owners = {int(p): str(n) for n, p in conn.execute("SELECT name, pageno FROM dbstat")}
        for (p,) in conn.execute("PRAGMA page_count"):
            for q in range(1, int(p) + 1):
                owners.setdefault(q, "(free)")
    finally:
        conn.close()
    return owners


def hold_checkpoints(aga: Aga) -> None:
    db = aga.svc.db
    if db._checkpointer is not None:
        db._checkpointer.every = 10**12
    with db.peek() as raw:
        raw.dbapi.execute("PRAGMA wal_autocheckpoint=0")


Run = tuple[list[tuple[int, int]], dict[int, str], int, c.Sample, int]  # frames, page owners, page size, time, bytes


def run(workload: str, units: int, swarms: int, base: Path) -> Run:
    if workload == "tool":
        if units > 17:
            raise SystemExit("--units: at most 17 tool cycles (a loop makes about 20 calls)")
        from bench_engine import ev_any, ev_done, ev_parked
        from bench_tools import aga_cycles, make_aga

        aga = make_aga(base / "aga")
        aga_cycles(aga, 3)
        # loops of units + 2 calls whose first call is asked before the count starts (as aga_cycles, untimed)
        goal = "Echo them " + " ".join(f"Tool: bench.echo word{i}" for i in range(units + 2))
        loops = []
        for _ in range(swarms):
            s = aga.svc.create_swarm("bench", goal)
            parked = ev_parked(s.id, "chat-n.1")
            aga.go(s.id, parked, lambda sid=s.id: aga.svc.spawn(sid))
            until = ev_any(parked, ev_done(s.id))
            aga.reply(s.id, "chat-n.1", until)
            loops.append((s.id, until))
        hold_checkpoints(aga)

        def tool_cycles() -> c.Sample:  # the swarms' cycles taken in turn: their rows interleave as a server's do
            with c.Timer() as tm:
                for _ in range(units):
                    for sid, until in loops:
                        aga.reply(sid, "chat-n.1", until)
            return c.Sample(tm.wall, tm.cpu, units * swarms)

        timed: Any = tool_cycles
    else:
        aga = Aga(base / "aga", "serve")
        aga_chain(aga, 5)
        aga_ask(aga, 2)
        hold_checkpoints(aga)
        timed = {"ask": lambda: aga_ask(aga, units), "step": lambda: aga_chain(aga, units),
                 "fan": lambda: aga_fan(aga, units)[0]}[workload]
    wal = Path(str(aga.db_path) + "-wal")
    with aga.svc.db.peek() as raw:
        page_size = int(raw.dbapi.execute("PRAGMA page_size").fetchone()[0])
    start = wal.stat().st_size
    sample = timed()
    data = wal.read_bytes()  # closing checkpoints and deletes it
    end = len(data)
    aga.close()
    frames = wal_frames(data, start, page_size)
    return frames, page_owners(aga.db_path), page_size, sample, end - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", choices=("tool", "ask", "step", "fan"), default="tool")
    ap.add_argument("--units", type=int, default=16)
    ap.add_argument("--swarms", type=int, default=1, help="tool: this many loops, their cycles taken in turn")
    ap.add_argument("--tmp", default=None)
    args = ap.parse_args(argv)
    n_units = args.units * (args.swarms if args.workload == "tool" else 1)
    with tempfile.TemporaryDirectory(dir=args.tmp, prefix="wal-frames-") as tmp:
        frames, owners, page_size, sample, nbytes = run(args.workload, args.units, args.swarms, Path(tmp))
    commits = sum(1 for _, size in frames if size)
    by_tree: collections.Counter[str] = collections.Counter(owners.get(p, "(new)") for p, _ in frames)
    print(f"# WAL frames: {args.workload}, {n_units} units ({args.swarms} swarms), page size {page_size}\n")
    print(f"- {len(frames)} frames ({nbytes:,} B of WAL) in {commits} commits: "
          f"{len(frames) / max(commits, 1):.1f} frames a commit, {len(frames) / n_units:.1f} a unit, "
          f"{commits / n_units:.2f} commits a unit")
    print(f"- timed part: {sample.wall / n_units * 1e6:,.0f} µs wall, {sample.cpu / n_units * 1e6:,.0f} µs "
          "CPU a unit (checkpoints held off)\n")
    rows = [(name, f"{n / n_units:.2f}") for name, n in by_tree.most_common()]
    print(c.md_table(["b-tree", "frames a unit"], rows))
    print("\nThe last commits, their frames' b-trees:\n")
    commit: list[str] = []
    listed: list[str] = []
    for pgno, size in frames:
        commit.append(f"{owners.get(pgno, '(new)')}:{pgno}")
        if size:
            listed.append(f"- {len(commit)}: " + ", ".join(commit))
            commit = []
    print("\n".join(listed[-6:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
