"""Socket.IO push (server -> client only).

- Handshake: the `aga_session` cookie, `auth: {token}`, or an `Authorization: Bearer` header; refused otherwise.
  Each socket joins the room ``user:<id>``, so it only ever receives its own user's events.
- The engine calls :meth:`Realtime.on_events` after every commit, from whichever thread committed (the
  runner's, or a request's). Batches go through one queue to one pump task, which puts each swarm's batches
  back in seq order (two threads can publish in the opposite order of their commits; a batch that arrives
  after a gap waits up to ``REORDER_WAIT`` for the missing one; not with Redis, where other processes commit
  some of a swarm's events). A socket that asked for batches at its handshake (``auth: {batch: true}``, as the
  web app does) gets each committed batch as one ``swarm_events`` packet (a list of the events, one swarm's,
  in seq order: 2 websocket frames for a reply and its answer instead of 12); any other socket gets each
  event as its own ``swarm_event``. Either way an event is the same JSON as the history endpoint. A
  ``swarm_status`` event also yields a ``swarm_notice`` {swarm_id, kind, status} with kind ``paused``,
  ``resumed`` or ``finished``.
- A socket is cut when its session ends: at its expiry (a timer per socket), and at once when it is revoked
  (logout, "log out everywhere", a password change), in every process: the revoking process publishes the
  session hashes on Redis (``<channel>:revoked``) and each process drops its own sockets and cached sessions;
  without Redis there is one process and it does so directly. A slow periodic sweep remains as a safety
  net for sessions deleted behind the server's back; expired sessions are purged from the store hourly.
- A periodic check emits ``swarm_notice`` kind ``idle`` once per idle period (see :mod:`.idle`).
- With ``AGA_SWARM_REDIS_URL`` set, emits go through ``socketio.AsyncRedisManager``: any process can emit to
  any socket, and idle notices are de-duplicated across processes with a Redis key.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any, Protocol

import orjson
import socketio
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from ..engine.stats import Histogram
from ..schemas import EventType, SwarmEvent, SwarmStatus
from ..store import accounts
from ..store.codec import iso
from .idle import IdleWatch
from .logs import log
from .rooms import IndexedAsyncManager, IndexedAsyncRedisManager
from .security import origin_allowed
from .settings import Settings
from .tokens import COOKIE_NAME, token_from_headers

if TYPE_CHECKING:
    from ..store.accounts import Session
    from ..store.database import Database


class SessionSource(Protocol):
    """What the hub needs of the server's context (``ServerContext``): sessions and the store."""

    @property
    def db(self) -> Database: ...
    async def offload(self, fn: Any, *args: Any, **kwargs: Any) -> Any: ...
    async def resolve_session(self, token: str) -> Session | None: ...
    def forget_session(self, token_hash: str) -> None: ...

NOTICE_KIND = {SwarmStatus.PAUSED.value: "paused", SwarmStatus.RUNNING.value: "resumed",
               SwarmStatus.COMPLETED.value: "finished", SwarmStatus.FAILED.value: "finished"}
SESSION_SWEEP_SECONDS = 30.0
REORDER_WAIT = 0.05
"""How long a batch that arrives after a gap in its swarm's seqs waits for the missing batch."""
MAX_TRACKED_SWARMS = 100_000

Batch = tuple[str, list[SwarmEvent]]


def put_from_any_thread(queue: asyncio.Queue[Any] | None, loop: asyncio.AbstractEventLoop | None,
                        loop_thread: int | None, item: Any) -> None:
    """Queue ``item`` for a pump on ``loop``; engine listeners run on whichever thread committed."""
    if queue is None or loop is None:
        return
    if threading.get_ident() == loop_thread:
        queue.put_nowait(item)
    else:
        loop.call_soon_threadsafe(queue.put_nowait, item)


@dataclass
class _Sock:
    user_id: str
    token_hash: str
    expires_at: float


BATCH_EVENT = "swarm_events"
"""One committed batch of one swarm's events, as a list, for sockets that asked for batches."""
SINGLE_EVENT = "swarm_event"


def user_room(user_id: str) -> str:
    """Every socket of the user: notices."""
    return f"user:{user_id}"


def batch_room(user_id: str) -> str:
    """The user's sockets that take events in batches (``swarm_events``)."""
    return f"batches:{user_id}"


def single_room(user_id: str) -> str:
    """The user's sockets that take events one by one (``swarm_event``)."""
    return f"events:{user_id}"


def wants_batches(auth: Any) -> bool:
    return isinstance(auth, dict) and auth.get("batch") is True


def notices_for(events: list[SwarmEvent]) -> list[dict[str, Any]]:
    """Lifecycle notices implied by a committed batch (a spawn's draft -> running is not a resume)."""
    spawned_root = any(e.type is EventType.NODE_SPAWNED and e.data.get("node", {}).get("parent_id") is None
                       for e in events)
    out = []
    for e in events:
        if e.type is not EventType.SWARM_STATUS:
            continue
        status = str(e.data.get("status"))
        kind = NOTICE_KIND.get(status)
        if kind is None or (kind == "resumed" and spawned_root):
            continue
        out.append({"swarm_id": e.swarm_id, "kind": kind, "status": status})
    return out


class _FastJson:
    """The ``json`` module interface python-socketio encodes packets with, on orjson (packets are compact
    JSON either way)."""

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()

    @staticmethod
    def loads(text: str | bytes, **_: Any) -> Any:
        return orjson.loads(text)


def event_payload(event: SwarmEvent) -> dict[str, Any]:
    """The ``swarm_event`` payload: the event as the history endpoint renders it. Built by hand, because
    ``data`` is JSON already and walking it again with ``model_dump(mode="json")`` costs more than the rest."""
    return {"swarm_id": event.swarm_id, "seq": event.seq, "ts": iso(event.ts),
            "type": event.type.value, "node_id": event.node_id, "data": event.data}


class Realtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        manager = (IndexedAsyncRedisManager(settings.redis_url, channel=settings.redis_channel)
                   if settings.redis_url else IndexedAsyncManager())
        self.sio = socketio.AsyncServer(
            async_mode="asgi", client_manager=manager, cors_allowed_origins=self._origin_allowed, json=_FastJson,
            max_http_buffer_size=settings.max_body_bytes, logger=False, engineio_logger=False)
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self._ctx: SessionSource | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._queue: asyncio.Queue[Batch] | None = None
        self._last_seq: OrderedDict[str, int] = OrderedDict()
        self._held: dict[str, list[tuple[float, Batch]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._sockets: dict[str, _Sock] = {}
        self._by_session: dict[str, set[str]] = {}
        self.idle = IdleWatch(settings.idle_seconds)
        self._expiry: dict[str, asyncio.TimerHandle] = {}
        self._cutting: set[asyncio.Task[None]] = set()
        self._redis: Any = None
        self.emitted = 0
        # reply-to-push latency (metrics): when each chat's last reply arrived, until its agent answer goes out
        self._replies: dict[tuple[str, str], float] = {}
        self.reply_push = Histogram()

    @property
    def _revoked_channel(self) -> str:
        return f"{self.settings.redis_channel}:revoked"

    def asgi_app(self, other: Any) -> socketio.ASGIApp:
        return socketio.ASGIApp(self.sio, other_asgi_app=other, socketio_path="socket.io")

    # ---- lifecycle -----------------------------------------------------------------------------
    async def start(self, ctx: SessionSource) -> None:
        self._ctx = ctx
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._queue = asyncio.Queue()
        if self.settings.redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(self.settings.redis_url)
        self._tasks = [asyncio.create_task(self._pump(), name="realtime-pump"),
                       asyncio.create_task(self._watch(), name="realtime-watch")]
        if self._redis is not None:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._revoked_channel)  # subscribed before the server takes requests
            except Exception:  # Redis is down: the listener keeps trying; the sweep covers the gap
                log.exception("subscribing to revoked sessions failed; retrying in the background")
            self._tasks.append(asyncio.create_task(self._listen_revoked(pubsub), name="realtime-revoked"))

    async def stop(self) -> None:
        if self._queue is not None:
            deadline = time.monotonic() + 2.0
            while not self._queue.empty() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
        if self._tasks:  # bounded: a cancel swallowed inside a Redis publish must not hold up the shutdown
            await asyncio.wait(self._tasks, timeout=2.0)
        self._tasks = []
        for timer in self._expiry.values():
            timer.cancel()
        self._expiry.clear()
        for sid in list(self._sockets):
            try:
                await self.sio.disconnect(sid)
            except Exception:  # pragma: no cover - best effort on shutdown
                pass
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    # ---- engine listener -----------------------------------------------------------------------
    def on_events(self, owner_id: str, events: list[SwarmEvent]) -> None:
        """Engine listener: called after each commit; never blocks."""
        put_from_any_thread(self._queue, self._loop, self._loop_thread, (owner_id, events))

    async def _pump(self) -> None:
        assert self._queue is not None
        while True:
            deadline = min((d for held in self._held.values() for d, _ in held), default=None)
            try:
                if deadline is None:
                    batch = await self._queue.get()
                else:
                    batch = await asyncio.wait_for(self._queue.get(), max(0.0, deadline - time.monotonic()))
                ready = self._accept(batch)
            except TimeoutError:
                ready = self._release_expired()
            for owner_id, events in ready:
                try:
                    await self._emit_batch(owner_id, events)
                except Exception:
                    log.exception("emitting swarm events failed")

    # ---- ordering ------------------------------------------------------------------------------
    def _advance(self, swarm_id: str, seq: int) -> None:
        self._last_seq[swarm_id] = max(seq, self._last_seq.get(swarm_id, 0))
        self._last_seq.move_to_end(swarm_id)
        if len(self._last_seq) > MAX_TRACKED_SWARMS:
            self._last_seq.popitem(last=False)

    def _accept(self, batch: Batch) -> list[Batch]:
        """The batches that can go out now, in order (this one, and held ones it unblocks)."""
        events = batch[1]
        swarm_id = events[0].swarm_id
        last = self._last_seq.get(swarm_id)
        # With Redis, other processes commit (and push) some of a swarm's events: a gap here is normal.
        if last is not None and events[0].seq > last + 1 and not self.settings.redis_url:
            self._held.setdefault(swarm_id, []).append((time.monotonic() + REORDER_WAIT, batch))
            return []
        ready = [batch]
        self._advance(swarm_id, events[-1].seq)
        held = self._held.get(swarm_id)
        while held:
            held.sort(key=lambda item: item[1][1][0].seq)
            nxt = held[0][1]
            if nxt[1][0].seq > self._last_seq[swarm_id] + 1:
                break
            held.pop(0)
            ready.append(nxt)
            self._advance(swarm_id, nxt[1][-1].seq)
        if not held:
            self._held.pop(swarm_id, None)
        return ready

    def _release_expired(self) -> list[Batch]:
        """Give up waiting for a missing batch: send what is held, in order (clients fill the gap from the
        history endpoint)."""
        now = time.monotonic()
        ready: list[Batch] = []
        for swarm_id in [s for s, held in self._held.items() if min(d for d, _ in held) <= now]:
            for _, batch in sorted(self._held.pop(swarm_id), key=lambda item: item[1][1][0].seq):
                ready.append(batch)
                self._advance(swarm_id, batch[1][-1].seq)
        return ready

    def _room_is_local_and_empty(self, room: str) -> bool:
        if self.settings.redis_url:
            return False  # sockets may live in other processes
        rooms = self.sio.manager.rooms.get("/", {})
        return not rooms.get(room)

    async def _emit_batch(self, owner_id: str, events: list[SwarmEvent]) -> None:
        room = user_room(owner_id)
        if self._room_is_local_and_empty(room):
            return
        payloads = [event_payload(event) for event in events]
        notices = [("swarm_notice", notice) for notice in notices_for(events)]
        if self.settings.redis_url:  # through the Redis manager: sockets may be in other processes
            await self.sio.emit(BATCH_EVENT, payloads, room=batch_room(owner_id))
            for payload in payloads:
                await self.sio.emit(SINGLE_EVENT, payload, room=single_room(owner_id))
            for name, data in notices:
                await self.sio.emit(name, data, room=room)
        else:
            await self._emit_local(batch_room(owner_id), [(BATCH_EVENT, payloads), *notices])
            await self._emit_local(single_room(owner_id),
                                   [*((SINGLE_EVENT, payload) for payload in payloads), *notices])
        self.emitted += len(events)
        if self._replies:
            self._observe_reply_push(events)

    async def _emit_local(self, room: str, messages: list[tuple[str, Any]]) -> None:
        """Send ``messages`` (event name, JSON data) to the sockets of ``room`` in this process, in order: what
        ``sio.emit`` does, without its task per message and socket (it creates them and waits for them all) and
        its walk of the data looking for binary parts (ours is JSON). Each packet is encoded once."""
        sockets = [eio_sid for _, eio_sid in self.sio.manager.get_participants("/", room)]
        if not sockets:
            return
        eio = self.sio.eio
        for name, data in messages:
            encoded = self.sio.packet_class(sio_packet.EVENT, namespace="/", data=[name, data],
                                            binary=False).encode()
            pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded)
            for eio_sid in sockets:
                try:
                    await eio.send_packet(eio_sid, pkt)
                except eio_exceptions.EngineIOError:  # closed meanwhile: its disconnect handler cleans up
                    pass

    # ---- reply-to-push latency (metrics) ---------------------------------------------------------
    def reply_started(self, swarm_id: str, chat_id: str) -> None:
        """A reply to this chat arrived (on the event loop, before it is stored)."""
        if len(self._replies) >= MAX_TRACKED_SWARMS:  # answers that never came (a paused swarm): forget them
            self._replies.clear()
        self._replies[(swarm_id, chat_id)] = time.perf_counter()

    def reply_failed(self, swarm_id: str, chat_id: str) -> None:
        self._replies.pop((swarm_id, chat_id), None)

    def _observe_reply_push(self, events: list[SwarmEvent]) -> None:
        for event in events:
            if event.type is EventType.MESSAGE_POSTED:
                message = event.data.get("message") or {}
                if message.get("role") == "agent":
                    started = self._replies.pop((event.swarm_id, str(message.get("chat_id"))), None)
                    if started is not None:
                        self.reply_push.observe(time.perf_counter() - started)

    def open_sockets(self) -> int:
        return len(self._sockets)

    # ---- handshake -----------------------------------------------------------------------------
    def _origin_allowed(self, origin: str | None, environ: dict[str, Any]) -> bool:
        if not origin:
            return True
        return origin_allowed(origin, host=environ.get("HTTP_HOST") or "",
                              forwarded_host=environ.get("HTTP_X_FORWARDED_HOST"),
                              forwarded_proto=environ.get("HTTP_X_FORWARDED_PROTO"),
                              scheme=environ.get("wsgi.url_scheme", "http"), extra=self.settings.cors_origins)

    @staticmethod
    def _token(environ: dict[str, Any], auth: Any) -> str | None:
        if isinstance(auth, dict) and isinstance(auth.get("token"), str) and auth["token"]:
            return str(auth["token"])
        cookie_token = None
        raw = environ.get("HTTP_COOKIE")
        if raw:
            try:
                jar = SimpleCookie()
                jar.load(raw)
                if COOKIE_NAME in jar:
                    cookie_token = jar[COOKIE_NAME].value
            except CookieError:
                cookie_token = None
        return token_from_headers(environ.get("HTTP_AUTHORIZATION"), cookie_token)

    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        ctx = self._ctx
        token = self._token(environ, auth)
        if ctx is None or token is None:
            raise socketio.exceptions.ConnectionRefusedError("authentication required")
        session = await ctx.resolve_session(token)
        if session is None:
            raise socketio.exceptions.ConnectionRefusedError("session expired or revoked")
        await self.sio.enter_room(sid, user_room(session.user.id))
        await self.sio.enter_room(sid, (batch_room if wants_batches(auth) else single_room)(session.user.id))
        expires_at = session.expires_at.timestamp()
        self._sockets[sid] = _Sock(session.user.id, session.token_hash, expires_at)
        self._by_session.setdefault(session.token_hash, set()).add(sid)
        loop = asyncio.get_running_loop()
        self._expiry[sid] = loop.call_later(max(0.0, expires_at - time.time()), self._cut_later, sid,
                                            "session expired")
        log.info("socket connected", extra={"sid": sid, "user_id": session.user.id})

    async def _on_disconnect(self, sid: str, reason: Any = None) -> None:
        timer = self._expiry.pop(sid, None)
        if timer is not None:
            timer.cancel()
        sock = self._sockets.pop(sid, None)
        if sock is not None:
            sids = self._by_session.get(sock.token_hash)
            if sids is not None:
                sids.discard(sid)
                if not sids:
                    del self._by_session[sock.token_hash]
            log.info("socket disconnected", extra={"sid": sid, "user_id": sock.user_id, "reason": str(reason)})

    def _cut_later(self, sid: str, why: str) -> None:
        task = asyncio.get_running_loop().create_task(self._cut(sid, why))
        self._cutting.add(task)  # keep a reference until it is done
        task.add_done_callback(self._cutting.discard)

    async def _cut(self, sid: str, why: str) -> None:
        if sid in self._sockets:
            log.info("socket cut", extra={"sid": sid, "reason": why})
            await self.sio.disconnect(sid)

    async def revoke_sessions(self, token_hashes: list[str]) -> None:
        """Sessions just ended (logout, log out everywhere, a password change): forget them and cut their sockets
        here, and tell every other process through Redis to do the same."""
        if not token_hashes:
            return
        await self._drop_local(token_hashes)
        if self._redis is not None:
            try:
                await self._redis.publish(self._revoked_channel, orjson.dumps(token_hashes))
            except Exception:  # the sweep still catches it, later
                log.exception("publishing revoked sessions through Redis failed")

    async def drop_session(self, token_hash: str) -> None:
        """One session ended (after logout): see :meth:`revoke_sessions`."""
        await self.revoke_sessions([token_hash])

    async def _drop_local(self, token_hashes: list[str]) -> None:
        ctx = self._ctx
        for hashed in token_hashes:
            if ctx is not None:
                ctx.forget_session(hashed)
            for sid in list(self._by_session.get(hashed, ())):
                await self._cut(sid, "session revoked")

    async def _listen_revoked(self, pubsub: Any) -> None:
        while True:
            try:
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    hashes = orjson.loads(message["data"])
                    if isinstance(hashes, list):
                        await self._drop_local([h for h in hashes if isinstance(h, str)])
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception:
                log.exception("listening for revoked sessions failed; listening again")
                await asyncio.sleep(1.0)
                try:
                    await pubsub.subscribe(self._revoked_channel)
                except Exception:
                    pass
            else:  # listen() ended: not subscribed (yet)
                await asyncio.sleep(1.0)
                try:
                    await pubsub.subscribe(self._revoked_channel)
                except Exception:
                    pass

    # ---- periodic checks -----------------------------------------------------------------------
    async def _watch(self) -> None:
        interval = self.settings.idle_check_interval
        last_sweep = time.monotonic()
        purge_every = self.settings.session_purge_seconds
        last_purge = time.monotonic() - purge_every  # purge once soon after start
        while True:
            await asyncio.sleep(interval)
            try:
                await self.check_idle()
                if time.monotonic() - last_sweep >= min(SESSION_SWEEP_SECONDS, max(interval, 1.0)):
                    last_sweep = time.monotonic()
                    await self.sweep_sessions()
                if time.monotonic() - last_purge >= purge_every:
                    last_purge = time.monotonic()
                    await self.purge_sessions()
            except Exception:
                log.exception("realtime periodic check failed")

    async def purge_sessions(self) -> int:
        """Delete expired sessions from the store (any process may; the delete is idempotent)."""
        ctx = self._ctx
        if ctx is None:
            return 0
        purged: int = await ctx.offload(accounts.purge_expired, ctx.db)
        if purged:
            log.info("expired sessions purged", extra={"count": purged})
        return purged

    async def check_idle(self) -> None:
        """Send ``swarm_notice`` kind ``idle`` for the swarms whose idle period became due since the last look
        (:class:`~.idle.IdleWatch`: each period once)."""
        ctx = self._ctx
        if ctx is None:
            return
        found = await ctx.offload(self.idle.due, ctx.db, datetime.now(UTC))
        for item in found:
            room = user_room(item.owner_id)
            if self._room_is_local_and_empty(room):
                continue  # nobody here to tell (without Redis, every socket of the owner is in this process)
            if self._redis is not None:
                key = f"{self.settings.redis_channel}:idle:{item.swarm_id}:{item.since.timestamp()}"
                if not await self._redis.set(key, b"1", nx=True, ex=7 * 24 * 3600):
                    continue  # another process already sent it
            await self.sio.emit("swarm_notice", {"swarm_id": item.swarm_id, "kind": "idle",
                                                 "status": SwarmStatus.RUNNING.value}, room=room)

    async def sweep_sessions(self) -> None:
        """The safety net: cut sockets whose session is gone from the store. Only sockets whose session was
        part of the query are judged: one that connected while the query ran is not in its answer, which
        says nothing about it."""
        ctx = self._ctx
        if ctx is None or not self._by_session:
            return
        asked = set(self._by_session)
        live = await ctx.offload(accounts.live_session_hashes, ctx.db, asked)
        now = time.time()
        for sid, sock in list(self._sockets.items()):
            if sock.token_hash in asked and (sock.token_hash not in live or sock.expires_at <= now):
                await self._cut(sid, "session ended")


class RedisEmitter:
    """Push a socket-less process's committed events (e.g. an ``aga-swarm worker``) to the servers' sockets
    through Redis, as ``swarm_events`` or ``swarm_event``, and ``swarm_notice``, exactly like a server process does.

        emitter = RedisEmitter(os.environ["AGA_SWARM_REDIS_URL"])
        await emitter.start(service.engine)   # inside the worker's event loop
        ...
        await emitter.stop(service.engine)
    """

    def __init__(self, redis_url: str, channel: str = "aga_swarm") -> None:
        self.manager = socketio.AsyncRedisManager(redis_url, channel=channel, write_only=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._queue: asyncio.Queue[Batch | None] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, engine: Any) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._pump(), name="redis-emitter")
        engine.listeners.append(self.on_events)

    def on_events(self, owner_id: str, events: list[SwarmEvent]) -> None:
        put_from_any_thread(self._queue, self._loop, self._loop_thread, (owner_id, events))

    async def _pump(self) -> None:
        assert self._queue is not None
        while True:
            item = await self._queue.get()
            if item is None:  # stop(): everything queued before it is sent
                return
            owner_id, events = item
            try:
                room = user_room(owner_id)
                payloads = [event_payload(event) for event in events]
                await self.manager.emit(BATCH_EVENT, payloads, namespace="/", room=batch_room(owner_id))
                for payload in payloads:
                    await self.manager.emit(SINGLE_EVENT, payload, namespace="/", room=single_room(owner_id))
                for notice in notices_for(events):
                    await self.manager.emit("swarm_notice", notice, namespace="/", room=room)
            except Exception:
                log.exception("pushing swarm events through Redis failed")

    async def stop(self, engine: Any, timeout: float = 2.0) -> None:
        """Send what is queued (up to ``timeout``), then stop. The pump ends at a marker queued last, not by a
        cancel: a cancel that lands inside a Redis publish can be swallowed there, and the pump then waited on
        its queue for ever while this waited on the pump (a test hung on it about one run in ten)."""
        if self.on_events in engine.listeners:
            engine.listeners.remove(self.on_events)
        task, self._task = self._task, None
        if task is None or self._queue is None:
            return
        self._queue.put_nowait(None)
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
