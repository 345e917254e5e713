"""python-socketio's client managers with an index of each socket's rooms.

``BaseManager.basic_disconnect`` finds the rooms a socket leaves by copying and scanning every room of the
namespace, and there are two per socket (its own, and its user's here) plus one shared by all: so each
disconnect cost time proportional to the sockets held, and a wave of N disconnects N² (with 2,500 sockets held,
disconnects took a fifth of the server's CPU in bench_scale.py). These managers keep ``(namespace, sid) -> rooms``
as sockets enter and leave rooms, and a disconnect leaves just those.
"""

from __future__ import annotations

from typing import Any

import socketio


class _IndexedRooms:
    """Mixin over a ``socketio`` manager: the rooms of each socket, kept as it enters and leaves them."""

    rooms: dict[str, dict[Any, Any]]
    callbacks: dict[str, Any]
    pending_connect: dict[str, list[str]]
    pending_disconnect: dict[str, list[str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rooms_of: dict[tuple[str, str], set[Any]] = {}

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: str | None = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        self.rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        mine = self.rooms_of.get((namespace, sid))
        if mine is not None:
            mine.discard(room)
            if not mine:
                del self.rooms_of[(namespace, sid)]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        """``BaseManager.basic_disconnect``, leaving the socket's own rooms instead of scanning every room."""
        if namespace not in self.rooms:
            return
        for room in list(self.rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.rooms_of.pop((namespace, sid), None)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            sids = pending.get(namespace)
            if sids is not None and sid in sids:
                sids.remove(sid)
                if not sids:
                    del pending[namespace]

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        return [room for room in self.rooms_of.get((namespace, sid), ()) if room is not None]


class IndexedAsyncManager(_IndexedRooms, socketio.AsyncManager):  # type: ignore[misc]
    """The single-process manager, with the room index."""


class IndexedAsyncRedisManager(_IndexedRooms, socketio.AsyncRedisManager):  # type: ignore[misc]
    """The Redis manager (several processes), with the room index."""
