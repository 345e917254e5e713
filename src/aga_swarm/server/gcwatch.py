"""Python's cyclic garbage collector in a server that holds many sockets.

A full (generation 2) collection scans every container object the process holds: the imported modules, the app,
and each socket's objects. With 20,000 running swarms and 2,500 sockets one took 230-354 ms (issue 14), during
which no request, push or operation ran. Two measures:

- :func:`freeze_startup_objects`: once the server has started, collect and then move every object that exists
  into the permanent generation (``gc.freeze()``), which collections never scan. Those objects (modules,
  classes, the app, the store's engine) live as long as the process anyway; objects made later are collected
  as before.
- Higher thresholds (:data:`GC_THRESHOLDS`, ``AGA_SWARM_GC_THRESHOLDS``): a young collection every 10,000
  allocations (net of the objects freed) instead of 700. Its cost is the young objects still alive when it
  runs, not the allocations since the last one, so fewer collections cost less in all, and fewer short-lived
  objects (a request's, an operation's) happen to be alive when one runs and get promoted to the older
  generations, whose collections are the long ones. Cyclic garbage waits longer to be freed: a few megabytes
  at most. (At 50,000, one young collection could scan 50,000 live objects at once: a pause of its own.)
- :class:`GcTimer`: the time each collection took, per generation, for ``/metrics``
  (``aga_swarm_gc_pause_seconds{generation}``), so an operator sees these stalls instead of guessing.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from typing import Any

from ..engine.stats import Histogram

GC_THRESHOLDS = (10_000, 20, 20)
"""Python's defaults are (700, 10, 10)."""
GC_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


def set_thresholds(thresholds: Sequence[int]) -> tuple[int, int, int]:
    """Set the collector's thresholds; the previous ones (to put back when the server stops)."""
    previous = gc.get_threshold()
    gc.set_threshold(*thresholds)
    return previous


def freeze_startup_objects() -> int:
    """Collect, then freeze what is left (see the module's docstring); how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


class GcTimer:
    """Times every collection through ``gc.callbacks``; ``pauses[generation]`` is a histogram of seconds."""

    def __init__(self) -> None:
        self.pauses = [Histogram(GC_BUCKETS) for _ in range(3)]
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses[int(info["generation"])].observe(time.perf_counter() - self._started)

    def install(self) -> GcTimer:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)
        return self

    def remove(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)
