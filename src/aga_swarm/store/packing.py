"""Compressed JSON values in SQLite rows (issue 14: small rows), on by default above a size.

With ``AGA_SWARM_ROW_COMPRESS_BYTES`` = N (``DEFAULT_COMPRESS_BYTES``, 200, unless set; 0 is off), a JSON value of
at least N characters that SQLite stores in an event, node row, chat row or developer-log body is written as a
BLOB: one version byte, then the value's exact JSON text compressed by zstd against a built-in dictionary of the
engine's own JSON vocabulary (``packdict``). Each value is compressed on its own, so any row reads back alone, and
reading gives the same text byte for byte: history, the slider and the developer log see exactly what was
written. A value under N characters, a row written before the setting, and every value on PostgreSQL (its
columns are ``json``) stay plain JSON text; readers take both (``loads``, ``text``). A new node's ``node_spawned``
event, whose value is ``{"node": <its row's JSON>}``, stores its row's compressed bytes under a byte of its own
(``V1_NODE``), so the two are compressed once (``Packer.spawned``); it reads back as the whole event's text.

With the setting on, an event's type is written as a one-letter code too (``short_type``: 11 bytes an event;
``long_type`` reads both).

The price is CPU: about 1-2 µs to compress (``LEVEL``) and 0.5 µs to read back a value of a few hundred
characters. The default
threshold keeps the smallest, most frequent rows plain: a durable step's ``node_updated`` event (about 150
characters, one per step, where 2 µs would be 7% of the step), a journal line; what it
packs (continuations, node rows, new nodes, larger chat rows) holds most of the bytes. Developer-log values are
packed from ``LOG_MIN_BYTES`` up (``Packer.log``, ``Packer.event``). With ``AGA_SWARM_BLOB_INLINE_BYTES=1024`` the
1,211-node bench stores 4.6 KB a node at 200, 4.2 KB at 1, 8.5 KB off (bench/RESULTS.md).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import orjson
import zstandard

from .packdict import DICT_V1

COMPRESS_BYTES_ENV = "AGA_SWARM_ROW_COMPRESS_BYTES"
DEFAULT_COMPRESS_BYTES = 200  # values shorter than this stay plain text (see above); 0 turns packing off
V1 = 1  # the first byte of a value packed with DICT_V1 (JSON text never starts with it)
_V1_BYTE = bytes([V1])
# the first byte of a ``node_spawned`` event's value that shares its node row's packed bytes: it reads as
# ``{"node":`` + the V1 value's text + ``}`` (``Packer.spawned``: a new node's JSON compressed once, not twice)
V1_NODE = 2
_V1_NODE_BYTE = bytes([V1_NODE])
_PACKED_BYTES = frozenset({_V1_BYTE, _V1_NODE_BYTE})

_dict = zstandard.ZstdCompressionDict(DICT_V1, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
# level -1 (zstd's fast strategy): half level 3's CPU on a 700-character node row (1.8 against 3.9 µs at load 9), 15%
# larger output (115 B a node more in the 1,211-node bench); the level is the writer's choice, readers never see it
LEVEL = -1
_params = zstandard.ZstdCompressionParameters.from_level(
    LEVEL, format=zstandard.FORMAT_ZSTD1_MAGICLESS, write_checksum=0, write_dict_id=0, write_content_size=1)
_local = threading.local()  # zstd contexts are not safe to share between threads


def _compressor() -> zstandard.ZstdCompressor:
    c: zstandard.ZstdCompressor | None = getattr(_local, "c", None)
    if c is None:
        c = _local.c = zstandard.ZstdCompressor(dict_data=_dict, compression_params=_params)
    return c


def _decompressor() -> zstandard.ZstdDecompressor:
    d: zstandard.ZstdDecompressor | None = getattr(_local, "d", None)
    if d is None:
        d = _local.d = zstandard.ZstdDecompressor(dict_data=_dict, format=zstandard.FORMAT_ZSTD1_MAGICLESS)
    return d


def pack(text: str) -> bytes:
    """``text`` (JSON) packed: the version byte and its compressed UTF-8."""
    return _V1_BYTE + _compressor().compress(text.encode())


def is_packed(value: Any) -> bool:
    return isinstance(value, bytes) and value[:1] in _PACKED_BYTES


def unpack(value: bytes) -> bytes:
    """The JSON text (UTF-8) of a packed value."""
    first = value[:1]
    if first == _V1_BYTE:
        return _decompressor().decompress(value[1:])
    if first == _V1_NODE_BYTE:
        return b'{"node":' + _decompressor().decompress(value[1:]) + b"}"
    raise ValueError(f"not a packed JSON value (first byte {first!r})")


def text(value: Any) -> Any:
    """A stored JSON column's value with a packed one opened: JSON text as bytes; anything else as it is (text,
    or a decoded value on PostgreSQL)."""
    return unpack(value) if is_packed(value) else value


def loads(value: Any) -> Any:
    """JSON from a stored value, packed or not (SQLAlchemy's ``json_deserializer`` on SQLite: plain text goes to
    ``json.loads``, its default, as before)."""
    return orjson.loads(unpack(value)) if is_packed(value) else json.loads(value)


LOG_MIN_BYTES = 32
"""With packing on, a developer-log value (a call's body; its ``llm_call`` or ``tool_call`` event) is packed from this
size up whatever the threshold: it is written once per model or tool call, whose hundreds of µs dwarf the 2 µs,
and there are as many of them as calls (in the 1,211-node bench, 3,842 events of about 150 characters)."""
LOG_EVENTS = frozenset({"llm_call", "tool_call"})


class Packer:
    """What a SQLite transaction writes for a JSON value: packed when it is at least ``min_bytes`` long (0: never);
    a developer-log value (``log``, ``event`` of a type in ``LOG_EVENTS``) from ``LOG_MIN_BYTES`` up."""

    __slots__ = ("min_bytes",)

    def __init__(self, min_bytes: int) -> None:
        self.min_bytes = min_bytes

    def __call__(self, text: str) -> str | bytes:
        if self.min_bytes and len(text) >= self.min_bytes:
            return pack(text)
        return text

    def log(self, text: str) -> str | bytes:
        """A developer-log body."""
        if self.min_bytes and len(text) >= min(self.min_bytes, LOG_MIN_BYTES):
            return pack(text)
        return text

    def spawned(self, node_text: str) -> tuple[str | bytes, str | bytes]:
        """A new node's row value and its ``node_spawned`` event's (``{"node": <the row's JSON>}``), from the node's
        JSON: compressed once, the event's value the row's bytes under the ``V1_NODE`` byte (a fan-out writes
        both for every child). Plain text, both, under ``min_bytes``."""
        if self.min_bytes and len(node_text) >= self.min_bytes:
            body = _compressor().compress(node_text.encode())
            return _V1_BYTE + body, _V1_NODE_BYTE + body
        return node_text, '{"node":' + node_text + "}"

    def event(self, kind: str, text: str) -> str | bytes:
        """An event's data, of type ``kind`` (its name)."""
        if self.min_bytes and (len(text) >= self.min_bytes
                               or (kind in LOG_EVENTS and len(text) >= LOG_MIN_BYTES)):
            return pack(text)
        return text


def plain_event(kind: str, text: str) -> str:
    """``Packer.event`` where nothing is packed (PostgreSQL, or packing off)."""
    return text


def plain_spawned(node_text: str) -> tuple[str, str]:
    """``Packer.spawned`` where nothing is packed (PostgreSQL, or packing off)."""
    return node_text, '{"node":' + node_text + "}"


# FROZEN, as the dictionary: stored rows hold these codes. A type added later is written in full until it gets a
# code of its own; a code is one character and every type name is longer, so a row's type reads either way.
_TYPE_CODES = {"swarm_status": "s", "node_spawned": "n", "node_updated": "u", "chat_updated": "c",
               "message_posted": "m", "journal": "j", "llm_call": "l", "usage": "g", "memory_written": "w",
               "tool_call": "t", "auto_approve": "a"}
_TYPE_NAMES = {code: name for name, code in _TYPE_CODES.items()}


def short_type(name: str) -> str:
    """An event type as a packing store writes it."""
    return _TYPE_CODES.get(name, name)


def long_type(stored: str) -> str:
    """An event type as stored (a code, or its name) as its name."""
    return _TYPE_NAMES.get(stored, stored)
