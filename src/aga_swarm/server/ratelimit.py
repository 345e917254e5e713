"""Rate limits on the account routes: sliding windows of attempts per key, in process memory.

- Logins, per (client address, username) pair and per client address (guessing passwords). Each attempt is
  counted *before* its password is hashed, so a burst of parallel guesses meets the limit like a series
  does; a login that succeeds takes its attempt back. Locking the pair, not the account, leaves the owner
  free to log in from an address that has not been guessing.
- Signups, per client address: each one costs a bcrypt hash (tens to hundreds of ms of CPU), so an
  unlimited signup route is a cheap way to exhaust the server.

With several server processes each keeps its own windows (so the effective limit is per process); put a
shared store behind these classes if that matters.
"""

from __future__ import annotations

import time
from collections import deque


class SlidingWindows:
    """Timestamps of recent attempts per key, at most ``keep`` each, within ``window`` seconds; memory stays
    bounded by forgetting the stalest keys once there are more than ``max_keys``."""

    def __init__(self, *, window_seconds: float, keep: int, max_keys: int = 100_000) -> None:
        self.window = window_seconds
        self.keep = keep
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._hits.get(key)
        if q is None:
            return deque()
        while q and q[0] <= now - self.window:
            q.popleft()
        if not q:
            del self._hits[key]
        return q

    def wait(self, key: str, limit: int, now: float) -> float:
        """Seconds until ``key`` is under ``limit`` attempts in the window again (0: now)."""
        q = self._recent(key, now)
        return q[len(q) - limit] + self.window - now if len(q) >= limit else 0.0

    def record(self, key: str, now: float) -> None:
        if len(self._hits) > self.max_keys:
            for stale in [k for k, q in self._hits.items() if not q or q[-1] <= now - self.window]:
                del self._hits[stale]
        self._hits.setdefault(key, deque(maxlen=self.keep)).append(now)

    def unrecord(self, key: str, when: float) -> None:
        """Take back one attempt recorded at ``when`` (it turned out not to count)."""
        q = self._hits.get(key)
        if q is not None:
            try:
                q.remove(when)
            except ValueError:
                pass
            if not q:
                del self._hits[key]

    def forget(self, key: str) -> None:
        self._hits.pop(key, None)


class LoginLimiter:
    """Logins: ``max_failures`` per (client address, username) and ``ip_max_failures`` per client address per
    window. :meth:`attempt` counts a login before its password is checked; :meth:`succeeded` takes it back."""

    def __init__(self, *, max_failures: int, ip_max_failures: int, window_seconds: float,
                 max_keys: int = 100_000) -> None:
        self.max_failures = max_failures
        self.ip_max_failures = ip_max_failures
        self._windows = SlidingWindows(window_seconds=window_seconds, keep=max(max_failures, ip_max_failures),
                                       max_keys=max_keys)

    @staticmethod
    def _keys(username_key: str, client: str) -> tuple[str, str]:
        return f"pair:{client}\x00{username_key}", f"ip:{client}"

    def attempt(self, username_key: str, client: str) -> tuple[float, float]:
        """Count a login now. Returns (0, the attempt's mark) when it may go ahead, or (seconds to wait, 0)
        over the limit, in which case nothing is counted."""
        pair, ip = self._keys(username_key, client)
        now = time.monotonic()
        wait = max(self._windows.wait(pair, self.max_failures, now),
                   self._windows.wait(ip, self.ip_max_failures, now))
        if wait > 0:
            return wait, 0.0
        self._windows.record(pair, now)
        self._windows.record(ip, now)
        return 0.0, now

    def succeeded(self, username_key: str, client: str, mark: float) -> None:
        """The login with this mark was right: the pair starts afresh and the address gets its attempt back."""
        pair, ip = self._keys(username_key, client)
        self._windows.forget(pair)
        self._windows.unrecord(ip, mark)


class SignupLimiter:
    """Signups: ``ip_max`` per client address per window, counted before the password is hashed."""

    def __init__(self, *, ip_max: int, window_seconds: float, max_keys: int = 100_000) -> None:
        self.ip_max = ip_max
        self._windows = SlidingWindows(window_seconds=window_seconds, keep=ip_max, max_keys=max_keys)

    def attempt(self, client: str) -> float:
        """Count a signup from ``client`` and return 0, or, over the limit, the seconds to wait (not counted)."""
        now = time.monotonic()
        wait = self._windows.wait(client, self.ip_max, now)
        if wait <= 0:
            self._windows.record(client, now)
        return wait
