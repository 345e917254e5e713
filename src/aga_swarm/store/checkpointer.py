"""SQLite WAL checkpoints on a thread of their own, so that a writer's commit never pays for one.

In WAL mode every commit appends pages to the ``-wal`` file; a checkpoint copies them back into the database
file and syncs it. By default SQLite runs that checkpoint inside whichever commit finds the WAL past its
threshold: one commit in a few hundred then takes milliseconds instead of tens of microseconds, and on the
engine's hot path (a reply, an ask cycle) that amortises to about a tenth of the time. Here the writer only
counts its commits and, every ``every`` of them, wakes this thread, which runs a PASSIVE checkpoint on its own
connection (SQLite releases the GIL while it copies and syncs, so it overlaps with the writer on another core).
A PASSIVE checkpoint never waits for readers or writers. SQLite's own automatic checkpoint stays on as the
safety net: it only triggers if this thread falls far behind.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_COMMITS = 128  # a few hundred KB to a few MB of WAL between checkpoints


class WalCheckpointer:
    def __init__(self, db_path: str, *, every: int = CHECKPOINT_EVERY_COMMITS) -> None:
        self.db_path = db_path
        self.every = every
        self.checkpoints = 0  # how many have run (tests and benchmarks read it)
        self._commits = 0
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def committed(self) -> None:
        """Called by the writer after each commit (under its write lock: no race on the count)."""
        self._commits += 1
        if self._commits >= self.every:
            self._commits = 0
            self._ensure_thread()
            self._wake.set()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None and not self._stop:
                self._thread = threading.Thread(target=self._run, name="aga-swarm-wal-checkpoint", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self.db_path, check_same_thread=False, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=1000")
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stop:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error as exc:  # a busy or locked database: the next round (or SQLite's own) retries
                    log.debug("background WAL checkpoint skipped: %s", exc)
        finally:
            conn.close()

    def close(self) -> None:
        with self._lock:
            self._stop = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=10)
