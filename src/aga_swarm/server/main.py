"""`aga-swarm serve`: run the server with uvicorn (one process: API, Socket.IO and the operation runner)."""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from collections.abc import Sequence

from .settings import Settings


class ServeError(Exception):
    """The server cannot start (a busy port, say); the message is one line for a person."""


def check_port_free(host: str, port: int) -> None:
    """Fail at once, with a clear line, when another process listens on host:port (uvicorn would only log it
    after the app started)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ServeError(f"cannot serve on {host}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no conflict
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServeError(f"port {port} on {host} is already in use; stop the other server or pass "
                                 f"--port") from None
            raise ServeError(f"cannot serve on {host}:{port}: {exc.strerror}") from None


def serve(host: str, port: int, data_dir: str | None, *, log_level: str | None = None,
          actions: Sequence[str] = ()) -> None:
    """Serve on host:port. Other settings come from AGA_SWARM_* environment variables; ``log_level`` (e.g.
    ``critical`` for ``-q``) overrides AGA_SWARM_LOG_LEVEL, and ``actions`` (modules of custom actions) come
    on top of AGA_SWARM_ACTIONS and the installed plugins."""
    import uvicorn

    from ..plugins import PluginError
    from ..service.composition import default_registry
    from .app import create_app, open_service
    from .logs import configure_logging

    check_port_free(host, port)
    settings = Settings.from_env(data_dir=data_dir, log_level=log_level)
    settings.actions = [*settings.actions, *actions]
    configure_logging(settings.log_level)
    # Three threads take turns at the GIL: the event loop (HTTP, sockets), request workers and the runner.
    # A thread that wakes (a reply's model call handed to the runner, say) waits for the holder to let go,
    # by default after up to 5 ms; 1 ms keeps those hand-offs short for a small cost in switches.
    sys.setswitchinterval(settings.gil_switch_seconds)
    # Behind a proxy, set FORWARDED_ALLOW_IPS (read by uvicorn) so client addresses are right.
    # Events are small JSON frames: compressing each one costs more CPU than it saves.
    # plugins load and the store opens (and migrates, or refuses an old schema) before uvicorn starts: a
    # plugin or setting that cannot work stops the command with one line, not a traceback in the log
    try:
        registry = default_registry(settings.actions, installed=True)
    except PluginError as exc:
        raise ServeError(str(exc)) from None
    service = open_service(settings, registry)
    # Engine.IO's heartbeat (a ping every 25 s, 20 s to answer) already finds a dead socket; uvicorn's own
    # websocket ping would be a second one, a task and a frame per socket every 20 s (500 a second for
    # 10,000 idle sockets).
    uvicorn.run(create_app(settings, service), host=host, port=port, log_config=None, access_log=False,
                lifespan="on", timeout_graceful_shutdown=10, ws_per_message_deflate=False, ws_ping_interval=None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m aga_swarm.server.main", description=serve.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.data_dir)


if __name__ == "__main__":
    main()
