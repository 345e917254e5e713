"""A bounded LRU of rendered state documents, keyed by (swarm id, seq).

A swarm's state at a seq never changes (every change to it is an event with a new seq), so a rendered state
can be served again to anyone who may read that swarm; ownership is checked before every lookup.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class StateCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, swarm_id: str, seq: int) -> bytes | None:
        with self._lock:
            body = self._items.get((swarm_id, seq))
            if body is None:
                self.misses += 1
                return None
            self._items.move_to_end((swarm_id, seq))
            self.hits += 1
            return body

    def put(self, swarm_id: str, seq: int, body: bytes) -> None:
        if len(body) > self.max_bytes // 4:
            return
        with self._lock:
            old = self._items.pop((swarm_id, seq), None)
            if old is not None:
                self._bytes -= len(old)
            self._items[(swarm_id, seq)] = body
            self._bytes += len(body)
            while self._bytes > self.max_bytes and self._items:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)
