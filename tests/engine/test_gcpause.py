"""The runner's GC pause: young collections deferred within a bound, never turned off for the whole process."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from aga_swarm.engine.gcpause import PAUSED_YOUNG_THRESHOLD, bound_young_collections, gc_paused


@pytest.fixture(autouse=True)
def server_thresholds() -> Iterator[None]:
    """The server's thresholds (``server/gcwatch.py``), put back afterwards."""
    before, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(10_000, 20, 20)
    gc.enable()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        (gc.enable if enabled else gc.disable)()


def test_a_pause_defers_young_collections_and_puts_the_thresholds_back() -> None:
    with gc_paused():
        middle = 20 * 10_000 // PAUSED_YOUNG_THRESHOLD  # a middle collection every 200,000 allocations, as before
        assert gc.isenabled() and gc.get_threshold() == (PAUSED_YOUNG_THRESHOLD, middle, 20)
    assert gc.get_threshold() == (10_000, 20, 20)


def test_the_young_generation_stays_bounded_while_paused() -> None:
    """A busy runner is paused nearly all the time: the collector must still run, past the raised threshold, so
    that a young collection never scans a million objects at once (80-150 ms each at load)."""
    young: list[int] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 0:
            young.append(gc.get_count()[0])

    gc.collect()
    gc.callbacks.append(count)
    try:
        with gc_paused():
            kept = [[i] for i in range(3 * PAUSED_YOUNG_THRESHOLD)]  # alive until the pause ends
            assert len(kept) == 3 * PAUSED_YOUNG_THRESHOLD
    finally:
        gc.callbacks.remove(count)
    assert len(young) >= 2  # collected on the way, not after
    assert max(young) <= PAUSED_YOUNG_THRESHOLD + 1_000


def test_overlapping_pauses_in_two_threads_end_with_the_last() -> None:
    entered, release = threading.Event(), threading.Event()

    def other() -> None:
        with gc_paused():
            entered.set()
            release.wait(10)

    worker = threading.Thread(target=other)
    with gc_paused():
        worker.start()
        assert entered.wait(10)
    assert gc.get_threshold()[0] == PAUSED_YOUNG_THRESHOLD  # the other thread's pause is still on
    release.set()
    worker.join(10)
    assert gc.get_threshold() == (10_000, 20, 20)


def test_a_collector_the_application_turned_off_stays_off() -> None:
    gc.disable()
    with gc_paused():
        assert not gc.isenabled() and gc.get_threshold() == (10_000, 20, 20)
    assert not gc.isenabled()


def test_a_process_that_tuned_its_young_collections_keeps_them() -> None:
    """The server's young collections (every 10,000) scan objects that cost about 0.7 µs each: a pause that raised
    its threshold would make each of them several times longer."""
    bound_young_collections(10_000)
    try:
        with gc_paused():
            assert gc.isenabled() and gc.get_threshold() == (10_000, 20, 20)
    finally:
        bound_young_collections(None)
    with gc_paused():
        assert gc.get_threshold()[0] == PAUSED_YOUNG_THRESHOLD
