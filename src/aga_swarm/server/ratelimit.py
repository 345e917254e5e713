"""Rate limits on the account routes: sliding windows of attempts per key, in process memory.

- Failed logins, per username and per client address (guessing passwords).
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

    def forget(self, key: str) -> None:
        self._hits.pop(key, None)


class LoginLimiter:
    """Failed logins: ``max_failures`` per username and ``ip_max_failures`` per client address per window."""

    def __init__(self, *, max_failures: int, ip_max_failures: int, window_seconds: float,
                 max_keys: int = 100_000) -> None:
        self.max_failures = max_failures
        self.ip_max_failures = ip_max_failures
        self._windows = SlidingWindows(window_seconds=window_seconds, keep=max(max_failures, ip_max_failures),
                                       max_keys=max_keys)

    def retry_after(self, username_key: str, client: str) -> float:
        """Seconds until a login may be tried again (0 when allowed now)."""
        now = time.monotonic()
        return max(self._windows.wait(f"u:{username_key}", self.max_failures, now),
                   self._windows.wait(f"ip:{client}", self.ip_max_failures, now))

    def failed(self, username_key: str, client: str) -> None:
        now = time.monotonic()
        self._windows.record(f"u:{username_key}", now)
        self._windows.record(f"ip:{client}", now)

    def succeeded(self, username_key: str) -> None:
        self._windows.forget(f"u:{username_key}")


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
