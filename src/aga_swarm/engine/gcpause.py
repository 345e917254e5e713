"""Python's young garbage collections deferred, within a bound, while a group of operations runs and its events
are published.

A fan-out's transaction makes tens of thousands of objects (nodes, events, rows) that all stay alive until it
commits and its events are published, and the collector, run every 10,000 allocations (``server/gcwatch.py``;
700 by default), scanned them again and again for nothing: about a sixth of a trivial child's CPU. While a pause
is on, a young collection waits until ``PAUSED_YOUNG_THRESHOLD`` objects were allocated (net of those freed)
instead, so most of those objects are freed by reference counting before it runs, and it has little left to
scan. Collection is deferred, not skipped.

The pause used to turn the collector off (``gc.disable``). The collector is the process's, not the thread's:
while the runner was busy back to back (a server behind its load) it was off nearly all the time, for every
thread, and the young generation grew (the event loop's socket tasks, futures and timers among it) until a
short window with it on, where one young collection scanned up to a million objects: 80-150 ms (bench/RESULTS.md,
"Garbage collection at load"). A raised threshold bounds the young generation instead: a young collection
scans at most about ``PAUSED_YOUNG_THRESHOLD`` objects, a few ms. The middle threshold is lowered in
proportion, so a middle collection comes after as many allocations as without a pause, and scans no more.
Pauses nest and overlap across threads: the first one in raises the thresholds, the last one out puts back
those it found; a collector the application turned off stays off.

Even that bound is long in the server: its young objects (coroutines, tasks, futures, dicts) cost about 0.7 µs
each to scan, 35 ms for 50,000 (bench/gctrace). The server tunes its collector for latency
(``server/gcwatch.py``: a young collection every 10,000) and passes that bound here
(``bound_young_collections``), so a pause leaves its thresholds as they are; processes on Python's defaults (a
worker, the command line, the benches) get the raise.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

PAUSED_YOUNG_THRESHOLD = 50_000
"""Allocations (net of frees) before a young collection while paused, unless the process bounds it lower: above
a K = 1,000 fan-out's live objects (about 14,000)."""

_bound = PAUSED_YOUNG_THRESHOLD  # the young threshold a pause raises to (never lowers)
_lock = threading.Lock()
_depth = 0  # pauses on now, in every thread
_restore: tuple[int, int, int] | None = None  # the thresholds the first pause found, put back by the last
_raised = 0  # the young threshold it set


def bound_young_collections(young: int | None) -> None:
    """The young threshold a pause raises the collector's to, at most: a process that set its thresholds for
    latency passes its own (the server), so a pause never lengthens its young collections; None puts back
    ``PAUSED_YOUNG_THRESHOLD``."""
    global _bound
    _bound = PAUSED_YOUNG_THRESHOLD if young is None else young


@contextmanager
def gc_paused() -> Iterator[None]:
    global _depth, _restore, _raised
    with _lock:
        if _depth == 0:
            found, bound = gc.get_threshold(), _bound
            if gc.isenabled() and 0 < found[0] < bound:
                _restore = found
                # a middle collection after as many allocations as without the pause: it scans what the young
                # ones kept, so fewer young ones per middle one keep it as short as it was
                gc.set_threshold(bound, max(1, found[0] * found[1] // bound), found[2])
                _raised = bound
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _restore is not None:
                if gc.get_threshold()[0] == _raised:  # unless someone set others meanwhile
                    gc.set_threshold(*_restore)
                _restore = None
