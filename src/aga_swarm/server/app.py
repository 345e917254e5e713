"""The ASGI application: FastAPI (routes, OpenAPI) under python-socketio, behind the edge middleware.

``create_app(settings)`` returns the app; its lifespan opens the SwarmService, re-queues operations a dead
process left running, starts the runner in-process (on its own thread and event loop, see
:mod:`.runner_thread`), and stops everything cleanly.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Response
from fastapi.concurrency import run_in_threadpool

from .. import tracing
from ..engine.gcpause import bound_young_collections
from ..schemas import SwarmEvent
from ..sdk import Registry
from ..service import SwarmService
from ..service.composition import default_registry, open_engine
from .cache import StateCache
from .context import ServerContext
from .errors import install_error_handlers
from .gcwatch import GcTimer, freeze_startup_objects, set_thresholds
from .hashgate import HashGate
from .hotpath import FastReply
from .logs import log
from .middleware import EdgeMiddleware
from .models import Health, SwarmNotice
from .ratelimit import LoginLimiter, SignupLimiter
from .realtime import Realtime
from .routes import actions, auth, chats, history, memory, nodes, swarms
from .runner_thread import InlineRunner, RunnerThread
from .security import SecurityLayer
from .settings import Settings
from .static import install_static
from .tracing_layer import TracingLayer

API_DESCRIPTION = """HTTP API of AGA Swarm. Client-to-server is always HTTP; server-to-client events arrive over
Socket.IO at `/socket.io` (`swarm_events` or `swarm_event`, and `swarm_notice`). See docs/api-contract.md."""


def build_api(settings: Settings, lifespan: Any = None) -> FastAPI:
    """The FastAPI app with every route (no lifespan needed to render its OpenAPI document)."""
    app = FastAPI(title="AGA Swarm", version=_version(), description=API_DESCRIPTION,
                  openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None, lifespan=lifespan,
                  generate_unique_id_function=lambda route: route.name)
    install_error_handlers(app)
    for module in (auth, swarms, history, chats, memory, nodes, actions):
        app.include_router(module.router)

    @app.get("/healthz", response_model=Health, tags=["ops"],
             responses={503: {"model": Health, "description": "The store is unreachable"}})
    async def healthz(response: Response) -> Health:
        """Liveness and store reachability (no auth)."""
        ctx: ServerContext | None = getattr(app.state, "ctx", None)
        ok = False
        if ctx is not None:
            try:
                ok = await ctx.offload(ctx.db.ping)
            except Exception:
                ok = False
        if not ok:
            response.status_code = 503
        return Health(status="ok" if ok else "unavailable", db=ok)

    if settings.metrics:
        @app.get("/metrics", include_in_schema=False)
        async def metrics() -> Response:
            """Prometheus metrics (see aga_swarm.metrics); no auth, no user data."""
            registry = getattr(app.state, "metrics", None)
            if registry is None:
                return Response("starting", status_code=503, media_type="text/plain")
            from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

            body = await run_in_threadpool(generate_latest, registry)
            return Response(body, media_type=CONTENT_TYPE_LATEST)

    install_static(app, settings.static_dir)
    _add_socket_schemas(app)
    return app


def _add_socket_schemas(app: FastAPI) -> None:
    """Put the Socket.IO payloads in the OpenAPI components too, so the web app gets their types."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            defs = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (SwarmNotice, SwarmEvent):
                body = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, sub in body.pop("$defs", {}).items():
                    defs.setdefault(name, sub)
                defs.setdefault(model.__name__, body)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("aga-swarm")
    except Exception:  # pragma: no cover
        return "0"


def _keep_sqlite_open(service: SwarmService) -> Any:
    """Hold one idle connection to an SQLite file. The store opens a connection per transaction; when the
    last one closes, SQLite checkpoints and deletes the WAL, so every transaction paid for that."""
    if not service.db.is_sqlite or ":memory:" in service.db.url:
        return None
    return service.db.engine.raw_connection()


def open_service(settings: Settings, registry: Registry | None = None) -> SwarmService:
    """The store as these settings name it: migrated under a lock, or checked when auto-migrate is off (a
    :class:`~aga_swarm.store.errors.SetupError` then says what to run). ``registry``: the actions it runs
    (default: the built-ins, the installed plugins and ``settings.actions``)."""
    db_url = settings.db_url or os.environ.get("AGA_SWARM_DB_URL") or None
    if registry is None:
        registry = default_registry(settings.actions, installed=True)
    return SwarmService(open_engine(registry=registry, data_dir=settings.data_dir, db_url=db_url,
                                    blob_url=settings.blob_url, migrate=settings.db_auto_migrate,
                                    pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow),
                        concurrency=settings.runner_concurrency, storage_quota=settings.quota_stored_bytes)


def create_app(settings: Settings | None = None, service: SwarmService | None = None) -> Any:
    """The app. ``service``, when given (``serve`` opens it first with ``open_service(settings)``, so a store that
    cannot work stops the command with one line), is used by the first lifespan and closed by it."""
    settings = settings or Settings.from_env()
    tracing.configure_from_env("aga-swarm-server")  # off unless the OTEL_* variables ask for traces
    # the actions its service runs: the built-ins, the installed plugins and settings.actions (a failure raises
    # PluginError here, before the app exists)
    registry = service.engine.registry if service is not None else default_registry(settings.actions,
                                                                                   installed=True)
    service_ready = [service] if service is not None else []
    realtime = Realtime(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if service_ready:
            service = service_ready.pop()
        else:
            service = await run_in_threadpool(open_service, settings, registry)
        keepalive = _keep_sqlite_open(service)
        runner = service.runner  # the service notifies it (and hands it work) after its writes, from any thread
        ctx = ServerContext(settings=settings, service=service, realtime=realtime, limiter=LoginLimiter(
            max_failures=settings.login_max_failures, ip_max_failures=settings.login_ip_max_failures,
            window_seconds=settings.login_window_seconds), signups=SignupLimiter(
            ip_max=settings.signup_ip_max, window_seconds=settings.signup_window_seconds),
            states=StateCache(settings.state_cache_bytes),
            hashes=HashGate(concurrency=settings.hash_concurrency, max_waiting=settings.hash_max_waiting))
        recovered = await run_in_threadpool(service.recover)
        service.engine.listeners.append(realtime.on_events)
        await realtime.start(ctx)
        app.state.ctx = ctx
        gc_timer = GcTimer().install() if settings.metrics else None
        if settings.metrics:
            from ..metrics import ServerCollector, registry_for

            app.state.metrics = registry_for(service.engine, server=ServerCollector(
                realtime.open_sockets, realtime.reply_push, gc_timer.pauses if gc_timer else None))
        worker: RunnerThread | InlineRunner | None = None
        if settings.run_workers:
            worker = RunnerThread(runner) if settings.runner_thread else InlineRunner(runner)
        if worker is not None:
            worker.start()
        frozen = await run_in_threadpool(freeze_startup_objects) if settings.gc_freeze else 0
        gc_before = set_thresholds(settings.gc_thresholds)
        bound_young_collections(settings.gc_thresholds[0])  # the runner's GC pauses keep these young collections
        log.info("server started", extra={"recovered_operations": recovered, "workers": settings.run_workers,
                                          "redis": bool(settings.redis_url), "gc_frozen_objects": frozen})
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop(timeout=10)
            if gc_timer is not None:
                gc_timer.remove()
            set_thresholds(gc_before)
            bound_young_collections(None)
            await realtime.stop()
            service.engine.listeners.remove(realtime.on_events)
            ctx.close()
            if keepalive is not None:
                keepalive.close()
            service.close()
            log.info("server stopped")

    api = build_api(settings, lifespan=lifespan)
    guarded = SecurityLayer(realtime.asgi_app(FastReply(api)), extra_origins=settings.cors_origins)
    return EdgeMiddleware(TracingLayer(guarded), max_body_bytes=settings.max_body_bytes,
                          upload_body_bytes=settings.upload_max_request_bytes)
