"""The room index of ``server/rooms.py`` keeps python-socketio's room tables exactly as the library's own
manager does, while a disconnect leaves only the socket's rooms."""

from __future__ import annotations

from typing import Any

import socketio

from aga_swarm.server.rooms import IndexedAsyncManager


class Server:
    """The little of ``socketio.AsyncServer`` the managers' room bookkeeping uses."""

    packet_class = socketio.packet.Packet

    class eio:
        n = 0

        @classmethod
        def generate_id(cls) -> str:
            cls.n += 1
            return f"sid{cls.n}"


def tables(manager: Any) -> Any:
    return ({ns: {room: dict(members) for room, members in rooms.items()} for ns, rooms in manager.rooms.items()},
            manager.pending_connect, manager.pending_disconnect, manager.callbacks)


async def drive(manager: Any) -> list[str]:
    """Connect five sockets (two users, as the server's handshake does), disconnect some, one mid-handshake."""
    Server.eio.n = 0
    manager.set_server(Server)
    manager.initialize()
    sids = []
    for i in range(5):
        sid = await manager.pre_connect(f"eio{i}", "/")
        if i < 4:
            await manager.connect(sid, "/")
            manager.basic_enter_room(sid, "/", f"user:{i % 2}")
        sids.append(sid)
    manager.callbacks[sids[1]] = {"1": print}
    manager.basic_disconnect(sids[1], "/")
    manager.pre_disconnect(sids[2], "/")
    manager.basic_disconnect(sids[2], "/")
    manager.basic_disconnect(sids[4], "/")  # never finished its handshake
    return sids


async def test_the_index_keeps_the_same_rooms_as_the_library() -> None:
    reference, indexed = socketio.AsyncManager(), IndexedAsyncManager()
    sids = await drive(reference)
    assert await drive(indexed) == sids
    assert tables(indexed) == tables(reference)
    assert sorted(indexed.get_rooms(sids[0], "/"), key=str) == sorted(reference.get_rooms(sids[0], "/"), key=str)
    assert set(indexed.rooms_of) == {("/", sids[0]), ("/", sids[3])}  # nothing left of the ones that went
    assert dict(indexed.rooms["/"]["user:0"]) == {sids[0]: "eio0"}
    assert dict(indexed.rooms["/"]["user:1"]) == {sids[3]: "eio3"}


async def test_a_disconnect_looks_only_at_the_sockets_own_rooms() -> None:
    manager = IndexedAsyncManager()
    Server.eio.n = 0
    manager.set_server(Server)
    manager.initialize()
    sids = [await manager.connect(await manager.pre_connect(f"eio{i}", "/"), "/") for i in range(200)]
    for i, sid in enumerate(sids):
        manager.basic_enter_room(sid, "/", f"user:{i}")
    manager.rooms["/"] = Untouchable(manager.rooms["/"], allowed={None, sids[7], "user:7"})
    manager.basic_disconnect(sids[7], "/")
    assert sids[7] not in manager.rooms["/"][None] and "user:7" not in manager.rooms["/"]


class Untouchable(dict):  # type: ignore[type-arg]
    """A namespace's rooms that fail a test when anything iterates over them or reads another socket's room."""

    def __init__(self, rooms: dict[Any, Any], allowed: set[Any]) -> None:
        super().__init__(rooms)
        self.allowed = allowed

    def __getitem__(self, room: Any) -> Any:
        assert room in self.allowed, f"read room {room!r}"
        return super().__getitem__(room)

    def items(self) -> Any:
        raise AssertionError("scanned every room")

    def copy(self) -> Any:
        raise AssertionError("copied every room")
