"""Fan-out CPU per child, AGA only, for comparing engine versions on a loaded machine (issue 12).

Runs the K-children fan-out of ``bench_engine.py`` (serve mode) ``--reps`` times and prints this process's CPU
µs per child (median, min) and wall. Run two versions interleaved by running each one's own copy of this script
(``bench/common.py`` puts the ``src/`` beside it first on ``sys.path``, ahead of ``PYTHONPATH``: a second
version's ``src/`` in ``PYTHONPATH`` alone is not what runs), or add ``--profile`` for a cProfile of the runs
(``--top`` functions by own time).

    python bench/fanout_cpu.py --k 1000 --reps 7
    python bench/fanout_cpu.py --k 1000 --reps 3 --profile --top 40
    python bench/fanout_cpu.py --k 1000 --reps 3 --against ../other-worktree --rounds 6

``--against DIR`` compares two versions: ``--rounds`` pairs of processes, this checkout's and ``DIR``'s own copy of this
script (its ``src/``), alternating which goes first, then the medians (min) of all repetitions of each, A being
``DIR``'s.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_engine as be


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--k", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--json", action="store_true", help="print one JSON line (cpu and wall µs per child, lists)")
    ap.add_argument("--against", type=Path, help="another checkout to compare with, process by process")
    ap.add_argument("--rounds", type=int, default=6, help="with --against: pairs of processes")
    args = ap.parse_args(argv)
    if args.against is not None:
        return _compare(args)
    with tempfile.TemporaryDirectory(prefix="aga-fan-cpu-") as base:
        aga = be.Aga(Path(base) / "aga", "serve")
        be.aga_fan(aga, 3)
        be.aga_fan(aga, args.k)  # warm-up at full size
        prof = cProfile.Profile() if args.profile else None
        cpu, wall = [], []
        for _ in range(args.reps):
            if prof:
                prof.enable()
            smp, _ops = be.aga_fan(aga, args.k)
            if prof:
                prof.disable()
            cpu.append(smp.cpu / args.k * 1e6)
            wall.append(smp.wall / args.k * 1e6)
        aga.close()
    if args.json:
        print(json.dumps({"cpu": cpu, "wall": wall, "load": os.getloadavg()[0]}))
    else:
        print(f"K={args.k}: CPU µs per child median {statistics.median(cpu):.1f} min {min(cpu):.1f}; "
              f"wall median {statistics.median(wall):.1f}; load {os.getloadavg()[0]:.1f}")
    if prof:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(args.top)
        print(buf.getvalue())
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(args.top)
        print(buf.getvalue())
    return 0


def _compare(args: argparse.Namespace) -> int:
    """Alternate processes of ``args.against``'s copy of this script (A) and this one (B); medians of all runs."""
    mine = Path(__file__).resolve()
    theirs = args.against.resolve() / "bench" / mine.name
    cpu: dict[str, list[float]] = {"A": [], "B": []}
    loads: list[float] = []
    for r in range(args.rounds):
        pair = [("A", theirs), ("B", mine)]
        for name, script in pair if r % 2 == 0 else pair[::-1]:
            out = subprocess.run([sys.executable, str(script), "--k", str(args.k), "--reps", str(args.reps), "--json"],
                                 capture_output=True, text=True, check=True).stdout
            got = json.loads(out.strip().splitlines()[-1])
            cpu[name] += got["cpu"]
            loads.append(got["load"])
    a, b = statistics.median(cpu["A"]), statistics.median(cpu["B"])
    print(f"K={args.k}: CPU µs per child, A ({args.against}) {a:.1f} (min {min(cpu['A']):.1f}), B (this) {b:.1f} "
          f"(min {min(cpu['B']):.1f}), B / A {b / a:.3f}; {len(cpu['A'])} + {len(cpu['B'])} repetitions; "
          f"load {min(loads):.1f}-{max(loads):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
