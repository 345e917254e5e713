"""The per-owner quota on stored bytes (``SwarmService.check_storage_quota``), cheap enough to check on every write.

What an owner stores (``store/usage.py``: goals, messages, events, memory files) is measured at most every
``STORED_BYTES_MAX_AGE`` seconds, and the bytes accepted since are added to it, so a check costs a scan of their
events only now and then. Parallel requests of one owner are counted one by one; the bytes their swarms' nodes
write meanwhile show at the next measure.
"""

from __future__ import annotations

import threading
import time

from ..engine.errors import QuotaExceeded
from ..store import usage
from ..store.database import Database

STORED_BYTES_MAX_AGE = 300.0
"""Seconds a measure of what an owner stores is trusted (plus the bytes accepted since) before it is taken again:
a reply must not scan all of its owner's events. At 5 s, a person replying every 5-15 s had it taken again on
nearly every reply (a tenth of a reply's server CPU in bench_scale.py); at 60 s, 2,000 people replying took 33
measures a second (four aggregate queries each, 5-6% of the server's busy time at 20,000 swarms). What it
misses meanwhile is only what their swarms' nodes write in those five minutes (what people send is counted at
once)."""


class StoredBytes:
    """What each owner stores, as last measured plus what was accepted since, against a limit."""

    def __init__(self, db: Database, limit: int | None) -> None:
        self.db = db
        self.limit = limit
        self._stored: dict[str, tuple[float, int]] = {}  # owner -> (when measured, bytes then + accepted since)
        self._lock = threading.Lock()

    def check(self, owner_id: str | None, adding: int) -> None:
        """Refuse (QuotaExceeded) ``adding`` more bytes for ``owner_id`` past the limit; else count them. No check
        without a limit or an owner."""
        limit = self.limit
        if limit is None or owner_id is None:
            return
        if self.stale(owner_id):
            self.measure(owner_id)
        with self._lock:
            when, held = self._stored[owner_id]
            if held + adding > limit:
                raise QuotaExceeded(
                    f"your swarms store {held:,} bytes; {adding:,} more would pass the most one user may store "
                    f"here ({limit:,} bytes); delete some swarms or files to make room")
            self._stored[owner_id] = (when, held + adding)

    def stale(self, owner_id: str | None) -> bool:
        """Whether the next ``check`` for ``owner_id`` would measure first (a read of their rows): a caller on a
        thread that must not wait for it (the runner's, where a reply is written) measures beforehand."""
        if self.limit is None or owner_id is None:
            return False
        with self._lock:
            known = self._stored.get(owner_id)
        return known is None or time.monotonic() - known[0] > STORED_BYTES_MAX_AGE

    def measure(self, owner_id: str) -> None:
        """Measure what ``owner_id`` stores now (the bytes accepted before this measure are in it)."""
        now = time.monotonic()
        with self.db.read() as conn:
            measured = (now, usage.stored_bytes(conn, owner_id))
        with self._lock:
            known = self._stored.get(owner_id)
            if known is None or known[0] < measured[0]:
                self._stored[owner_id] = measured

    def forget(self, owner_id: str) -> None:
        """Measure ``owner_id`` afresh at the next check (after a delete)."""
        with self._lock:
            self._stored.pop(owner_id, None)
