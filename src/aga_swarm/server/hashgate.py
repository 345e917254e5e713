"""A bound on the password hashes (bcrypt) running at once.

Each hash takes tens to hundreds of milliseconds of a core. Without a bound, a burst of logins or signups
fills the thread pool with hashes and every other request waits behind them. The gate lets ``concurrency``
hashes run and up to ``max_waiting`` wait their turn (on the event loop, holding no thread); past that the
answer is 503 with ``Retry-After``, at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import HTTPException

T = TypeVar("T")


class HashGate:
    def __init__(self, *, concurrency: int, max_waiting: int) -> None:
        self.concurrency = concurrency
        self.max_waiting = max_waiting
        self._slots = asyncio.Semaphore(concurrency)
        self._waiting = 0
        self.peak_running = 0
        self._running = 0

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work`` (which hashes) when a slot is free; 503 when too many already wait."""
        if self._waiting >= self.max_waiting:
            raise HTTPException(503, "the server is busy checking passwords; try again in a moment",
                                headers={"Retry-After": "1"})
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        self._running += 1
        self.peak_running = max(self.peak_running, self._running)
        try:
            return await work()
        finally:
            self._running -= 1
            self._slots.release()
