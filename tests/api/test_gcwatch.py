"""The server's garbage-collector measures (``server/gcwatch.py``): collections are timed per generation, and
the objects alive once the server has started are frozen out of later collections."""

from __future__ import annotations

import gc

import pytest

from aga_swarm.server.gcwatch import GC_THRESHOLDS, GcTimer, freeze_startup_objects, set_thresholds
from aga_swarm.server.settings import Settings, SettingsError


def test_each_collection_is_timed_in_its_generation() -> None:
    timer = GcTimer().install()
    try:
        before = [sum(h.counts) for h in timer.pauses]
        gc.collect(0)
        gc.collect(2)
        after = [sum(h.counts) for h in timer.pauses]
        assert after[0] >= before[0] + 1 and after[2] >= before[2] + 1
        assert timer.pauses[2].sum > 0
    finally:
        timer.remove()
    assert timer._callback not in gc.callbacks
    gc.collect(2)
    assert [sum(h.counts) for h in timer.pauses] == after  # removed: no longer counted


def test_freezing_moves_the_live_objects_out_of_the_collected_generations() -> None:
    probe: list[object] = [object()]
    try:
        frozen = freeze_startup_objects()
        assert frozen >= 1 and gc.get_freeze_count() == frozen
        assert not any(o is probe for o in gc.get_objects())  # frozen objects are not in any generation
    finally:
        gc.unfreeze()
    assert any(o is probe for o in gc.get_objects())


def test_thresholds_are_three_positive_counts_set_by_the_operator() -> None:
    assert Settings().gc_thresholds == list(GC_THRESHOLDS)
    assert Settings.from_env({"AGA_SWARM_GC_THRESHOLDS": "700, 10, 10"}).gc_thresholds == [700, 10, 10]
    for bad in ("700,10", "700,0,10", "a,b,c"):
        with pytest.raises(SettingsError, match="AGA_SWARM_GC_THRESHOLDS"):
            Settings.from_env({"AGA_SWARM_GC_THRESHOLDS": bad})
    before = gc.get_threshold()
    try:
        assert set_thresholds([5000, 7, 9]) == before
        assert gc.get_threshold() == (5000, 7, 9)
    finally:
        gc.set_threshold(*before)
