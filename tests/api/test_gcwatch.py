"""The server's garbage-collector measures (``server/gcwatch.py``): collections are timed per generation, and
the objects alive once the server has started are frozen out of later collections."""

from __future__ import annotations

import gc

from aga_swarm.server.gcwatch import GcTimer, freeze_startup_objects


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
