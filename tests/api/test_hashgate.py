"""The bound on password hashes running at once (server/hashgate.py), driven step by step."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import HTTPException

from aga_swarm.server.hashgate import HashGate


async def test_at_most_concurrency_hashes_run_and_the_queue_is_bounded() -> None:
    gate = HashGate(concurrency=2, max_waiting=3)
    release = asyncio.Event()
    started: list[int] = []

    def work(i: int):  # type: ignore[no-untyped-def]
        async def hash_it() -> int:
            started.append(i)
            await release.wait()
            return i
        return hash_it

    tasks = [asyncio.create_task(gate.run(work(i))) for i in range(5)]
    for _ in range(20):
        await asyncio.sleep(0)
    assert sorted(started) == [0, 1]  # two run, three wait on the loop (no thread held)
    with pytest.raises(HTTPException) as info:  # a sixth finds the queue full: 503 at once
        await gate.run(work(5))
    assert info.value.status_code == 503 and info.value.headers == {"Retry-After": "1"}
    release.set()
    assert sorted(await asyncio.gather(*tasks)) == [0, 1, 2, 3, 4]
    assert gate.peak_running == 2
    assert await gate.run(work(6)) == 6  # the queue drained: room again
