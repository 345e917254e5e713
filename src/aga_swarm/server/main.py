"""`aga-swarm serve`: run the server with uvicorn (one process: API, Socket.IO and the operation runner)."""

from __future__ import annotations

import argparse
import sys

from .settings import Settings


def serve(host: str, port: int, data_dir: str | None) -> None:
    """Serve on host:port. Other settings come from AGA_SWARM_* environment variables."""
    import uvicorn

    from .app import create_app
    from .logs import configure_logging

    settings = Settings.from_env(data_dir=data_dir)
    configure_logging(settings.log_level)
    # Three threads take turns at the GIL: the event loop (HTTP, sockets), request workers and the runner.
    # A thread that wakes (a reply's model call handed to the runner, say) waits for the holder to let go,
    # by default after up to 5 ms; 1 ms keeps those hand-offs short for a small cost in switches.
    sys.setswitchinterval(settings.gil_switch_seconds)
    # Behind a proxy, set FORWARDED_ALLOW_IPS (read by uvicorn) so client addresses are right.
    # Events are small JSON frames: compressing each one costs more CPU than it saves.
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False,
                lifespan="on", timeout_graceful_shutdown=10, ws_per_message_deflate=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m aga_swarm.server.main", description=serve.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.data_dir)


if __name__ == "__main__":
    main()
