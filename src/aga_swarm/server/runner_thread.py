"""The operation runner on its own thread and event loop.

The engine runs an operation's store work synchronously inside its event loop. On the server's loop, a
batch of operations would hold up HTTP requests and the socket push until the whole batch is done; on a
thread of its own, the runner only takes turns at the GIL with them. The store serializes writers
(SQLite's write lock, PostgreSQL's row locks), exactly as it does between worker processes.
"""

from __future__ import annotations

import asyncio
import threading

from ..engine.runner import Runner
from .logs import log


class RunnerThread:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="aga-runner", daemon=True)
        self._thread.start()
        self._started.wait(10)

    def _main(self) -> None:
        try:
            import uvloop

            loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        except ImportError:  # pragma: no cover
            loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._stop = asyncio.Event()
        self.runner.loop = loop
        self._started.set()
        try:
            loop.run_until_complete(self.runner.serve(self._stop))
        except Exception:
            log.exception("the operation runner stopped with an error")
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, let running operations finish (up to ``timeout``), and join the thread."""
        loop, stop, thread = self.runner.loop, self._stop, self._thread
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        if thread is not None:
            await asyncio.to_thread(thread.join, timeout)
            if thread.is_alive():
                log.warning("runner did not stop in time; its operations will be recovered on restart")


class InlineRunner:
    """The operation runner as a task on the server's own event loop (``runner_thread`` off): a reply's
    transaction then runs on that loop too (``ServerContext.write``), and its model call starts there with no
    thread hand-off."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._main())

    async def _main(self) -> None:
        try:
            await self.runner.serve(self._stop)
        except Exception:
            log.exception("the operation runner stopped with an error")

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, let running operations finish (up to ``timeout``)."""
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except TimeoutError:
                log.warning("runner did not stop in time; its operations will be recovered on restart")
