"""Loaded by a bench server started with this folder on ``PYTHONPATH`` and ``AGA_BENCH_GC_TRACE=FILE``:

    bench_scale.py --env PYTHONPATH=$PWD/bench/gctrace --env AGA_BENCH_GC_TRACE=/tmp/gc.jsonl

For each young collection that finds more than ``AGA_BENCH_GC_TRACE_MIN`` objects (default 100,000) in the young
generation, one JSON line in FILE: when, the thread that triggered it, its wall and CPU time, the young objects
by type, and (``tracemalloc``, 6 frames) the places that allocated a sample of them. The tracing slows the
server several times over: a tool to find what allocates, not a timing run."""

from __future__ import annotations

import collections
import gc
import json
import os
import threading
import time
import tracemalloc

_PATH = os.environ.get("AGA_BENCH_GC_TRACE")
_MIN = int(os.environ.get("AGA_BENCH_GC_TRACE_MIN", "100000"))
_SAMPLE = 3000


def _install(path: str) -> None:
    tracemalloc.start(6)
    state: dict[str, object] = {}
    out = open(path, "a", buffering=1)  # noqa: SIM115 - open for the process's life

    def callback(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 0:
            if phase == "stop":
                out.write(json.dumps({"t": time.time(), "generation": info["generation"],
                                      "collected": info["collected"]}) + "\n")
            return
        if phase == "start":
            young = gc.get_objects(generation=0)
            if len(young) < _MIN:
                state.clear()
                del young
                return
            types = collections.Counter(type(o).__name__ for o in young)
            step = max(1, len(young) // _SAMPLE)
            sites: collections.Counter[str] = collections.Counter()
            for o in young[::step]:
                tb = tracemalloc.get_object_traceback(o)
                if tb is not None:
                    sites[" <- ".join(f"{f.filename.rsplit('/site-packages/', 1)[-1].rsplit('/src/', 1)[-1]}:"
                                      f"{f.lineno}" for f in reversed(tb))] += step  # where, then its callers
            state.update(n=len(young), types=types.most_common(15), sites=sites.most_common(12),
                         thread=threading.current_thread().name, wall=time.perf_counter(),
                         cpu=time.thread_time())
            del young
        elif state:
            out.write(json.dumps({"t": time.time(), "generation": 0, "young": state["n"],
                                  "collected": info["collected"], "thread": state["thread"],
                                  "ms": round((time.perf_counter() - state["wall"]) * 1000, 1),  # type: ignore[operator]
                                  "cpu_ms": round((time.thread_time() - state["cpu"]) * 1000, 1),  # type: ignore[operator]
                                  "types": state["types"], "sites": state["sites"]}) + "\n")
            state.clear()

    gc.callbacks.append(callback)


if _PATH:
    _install(_PATH)
