"""A worker process for the tool-call crash tests: runs the store's queued operations with the operator's MCP
config (AGA_SWARM_MCP_CONFIG). With ``--kill-after-result`` it SIGKILLs itself right after the commit that
records a tool call's result; otherwise the test's MCP server kills it in the middle of a call.

Run: python tool_worker.py [--kill-after-result] (the store from AGA_SWARM_DATA / AGA_SWARM_DB_URL /
AGA_SWARM_BLOB_URL). Exits 0 when the store has nothing left to run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

from aga_swarm.schemas import EventType
from aga_swarm.service import SwarmService


async def main(kill_after_result: bool) -> None:
    svc = SwarmService(data_dir=os.environ.get("AGA_SWARM_DATA"), db_url=os.environ.get("AGA_SWARM_DB_URL") or None,
                       blob_url=os.environ.get("AGA_SWARM_BLOB_URL") or None)
    svc.recover()

    def on_commit(_owner: str, events: list[Any]) -> None:
        if any(e.type is EventType.TOOL_CALL for e in events):
            os.kill(os.getpid(), signal.SIGKILL)

    if kill_after_result:
        svc.engine.listeners.append(on_commit)
    await svc.run_until_idle()
    await svc.engine.mcp_hub().close()
    svc.close()


if __name__ == "__main__":
    asyncio.run(main("--kill-after-result" in sys.argv[1:]))
