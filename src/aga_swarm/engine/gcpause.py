"""Python's cyclic garbage collector paused while a group of operations runs and its events are published.

A fan-out's transaction makes tens of thousands of objects (nodes, events, rows) that all stay alive until it
commits and its events are published, and the collector, run every 700 allocations, scanned them again and
again for nothing: about a sixth of a trivial child's CPU. With the collector paused until the runner has
published the events and let them go, most of those objects are freed by reference counting before it runs
again, so it has little left to scan. Collection is deferred, not skipped (the next allocation past the
threshold collects as usual); a collector the application turned off stays off; nested pauses are one pause.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
