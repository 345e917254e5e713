"""Failed-login limiter: a sliding window of failures per username and per client address.

In-process memory: with several server processes each keeps its own window (so the effective limit is
per process); put a shared store behind ``LoginLimiter`` if that matters.
"""

from __future__ import annotations

import time
from collections import deque


class LoginLimiter:
    def __init__(self, *, max_failures: int, ip_max_failures: int, window_seconds: float,
                 max_keys: int = 100_000) -> None:
        self.max_failures = max_failures
        self.ip_max_failures = ip_max_failures
        self.window = window_seconds
        self.max_keys = max_keys
        self._fails: dict[str, deque[float]] = {}
        self._keep = max(max_failures, ip_max_failures)

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails.get(key)
        if q is None:
            return deque()
        while q and q[0] <= now - self.window:
            q.popleft()
        if not q:
            del self._fails[key]
        return q

    def retry_after(self, username_key: str, client: str) -> float:
        """Seconds until a login may be tried again (0 when allowed now)."""
        now = time.monotonic()
        wait = 0.0
        for key, limit in ((f"u:{username_key}", self.max_failures), (f"ip:{client}", self.ip_max_failures)):
            q = self._recent(key, now)
            if len(q) >= limit:
                wait = max(wait, q[len(q) - limit] + self.window - now)
        return wait

    def failed(self, username_key: str, client: str) -> None:
        now = time.monotonic()
        if len(self._fails) > self.max_keys:  # bound memory: forget the stalest windows
            for key in [k for k, q in self._fails.items() if not q or q[-1] <= now - self.window]:
                del self._fails[key]
        for key in (f"u:{username_key}", f"ip:{client}"):
            self._fails.setdefault(key, deque(maxlen=self._keep)).append(now)

    def succeeded(self, username_key: str) -> None:
        self._fails.pop(f"u:{username_key}", None)
