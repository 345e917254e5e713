"""A worker that SIGKILLs itself right after the commit in which one of the given nodes ended ``done``: between a
prerequisite ending (which releases its dependents in the same commit) and a dependent's first step.

Run: python kill_after_prerequisite.py NODE_ID... (the store from AGA_SWARM_DATA / AGA_SWARM_DB_URL /
AGA_SWARM_BLOB_URL, as ``aga-swarm worker`` reads it). Exits 0 when the store has nothing left to run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

from aga_swarm.schemas import EventType
from aga_swarm.service import SwarmService


async def main(prerequisites: set[str]) -> None:
    svc = SwarmService(data_dir=os.environ.get("AGA_SWARM_DATA"), db_url=os.environ.get("AGA_SWARM_DB_URL") or None,
                       blob_url=os.environ.get("AGA_SWARM_BLOB_URL") or None)
    svc.recover()

    def on_commit(_owner: str, events: list[Any]) -> None:
        for e in events:
            if (e.type is EventType.NODE_UPDATED and e.node_id in prerequisites
                    and e.data["changes"].get("lifecycle") == "done"):
                os.kill(os.getpid(), signal.SIGKILL)

    svc.engine.listeners.append(on_commit)
    await svc.run_until_idle()
    svc.close()


if __name__ == "__main__":
    asyncio.run(main(set(sys.argv[1:])))
