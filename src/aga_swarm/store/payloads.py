"""Model requests stored once, by their content, and large bodies in the blob store (migration 0008).

A model call's request (its prompt messages and output schema) is needed twice: by the ``llm_call`` operation
that makes the call, and by the developer log that shows it. It is stored once, as a row of ``llm_requests``
keyed by a SHA-256 digest of its canonical JSON, and both refer to it by that key: the node's ``llm`` continuation
holds ``{"llm_ref": key}`` instead of the request, and the ``llm_calls`` body ``{"request": key, ...}``. A request
above the operator's inline size (``AGA_SWARM_BLOB_INLINE_BYTES``) goes to the blob store and its row keeps the
blob's key; so does a developer-log body above that size.

Rows keyed by content are immutable, so a cache of them is never stale, and writing one twice (a retried
transaction, the same prompt asked again) is a no-op (``ON CONFLICT DO NOTHING``). A request put in the blob store
by a transaction that then rolls back stays there under its content key, as a rolled-back model body does.

A turn of a tool-using loop repeats the previous turn's conversation and adds to it, so its request is stored as a
*delta* over that one's (``row_for``'s ``extends``): ``{"$base": key, "$len": n, "$same": [fields], "messages":
[the messages after the base's first n], <the fields that differ>}``, keyed by the digest of that form (which names
its base's key, so the key still fixes the whole content). Reading one (``get``) rebuilds the whole request from its
base, at most ``MAX_CHAIN`` deltas deep; what readers get is the same either way. Without it each turn stored the
whole growing conversation again (quadratic bytes, and the JSON and digest of it all on every turn).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from operator import is_
from typing import Any

import orjson

from . import sql
from .blob import BlobStore, scoped_key
from .codec import RequestRow
from .database import Database, env_int

INLINE_BYTES_ENV = "AGA_SWARM_BLOB_INLINE_BYTES"
DEFAULT_INLINE_BYTES = 16_000
"""Bodies (model requests, developer-log bodies) larger than this go to the blob store; smaller ones stay rows."""

REF = "llm_ref"  # the key of a continuation's request (``Continuation.request[REF]``)
_CACHE_MAX = 4096
BASE, BASE_LEN, SAME = "$base", "$len", "$same"  # a delta's fields (see above)
MAX_CHAIN = 16  # a request is stored as a delta over at most this many others (a cold read walks them)


def inline_bytes_from_env() -> int:
    return env_int(INLINE_BYTES_ENV, DEFAULT_INLINE_BYTES, 0)


def canonical(request: dict[str, Any]) -> bytes:
    return orjson.dumps(request, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def request_key(encoded: bytes) -> str:
    """128 bits of SHA-256 (32 hex digits): keys are per swarm, so this is far past any chance of a collision."""
    return hashlib.sha256(encoded).hexdigest()[:32]


class RequestStore:
    """Puts and gets model requests by content key, with a bounded cache of recent ones."""

    def __init__(self, blobs: BlobStore, inline_bytes: int | None = None) -> None:
        self.blobs = blobs
        self.inline_bytes = inline_bytes_from_env() if inline_bytes is None else inline_bytes
        # each recent request (whole) and how many deltas its stored form is from a whole one
        self._cache: OrderedDict[tuple[str, str], tuple[dict[str, Any], int]] = OrderedDict()
        self._lock = threading.Lock()  # the runner's thread and the API's threads share it

    def row_for(self, owner_id: str, swarm_id: str, request: dict[str, Any],
                extends: tuple[str, int] | None = None) -> tuple[str, RequestRow]:
        """The key of ``request`` and the ``llm_requests`` row to write in the caller's transaction
        (``sql.INSERT_LLM_REQUEST``); a large request's bytes are put in the blob store now, at the place its key
        implies (``request_blob_key``), so the row holds neither body nor blob key. ``extends`` (key, n): the
        request's first n messages are those of the stored request ``key`` (the same objects, as ``get`` returned
        them): it is stored as a delta over that one when that one is at hand (see above), else whole."""
        form, depth = request, 0
        if extends is not None:
            delta = self._delta(swarm_id, request, *extends)
            if delta is not None:
                form, depth = delta
        encoded = canonical(form)
        key = request_key(encoded)
        in_blob = len(encoded) > self.inline_bytes
        if in_blob:
            with self._lock:
                known = (swarm_id, key) in self._cache  # its bytes were put already
            if not known:
                self.blobs.put(request_blob_key(owner_id, swarm_id, key), encoded)
        self._remember(swarm_id, key, request, depth)
        return key, RequestRow(swarm_id, key, None if in_blob else encoded.decode(), None)

    def _delta(self, swarm_id: str, request: dict[str, Any], base_key: str,
               n: int) -> tuple[dict[str, Any], int] | None:
        """``request`` as a delta over the cached request ``base_key`` whose first ``n`` messages it starts with,
        and its depth; None when that one is not cached, is ``MAX_CHAIN`` deep, or does not start the same."""
        with self._lock:
            found = self._cache.get((swarm_id, base_key))
        if found is None or found[1] >= MAX_CHAIN:
            return None
        base, depth = found
        messages, before = request["messages"], base["messages"]
        if n > len(messages) or n > len(before) or not all(map(is_, messages[:n], before[:n])):
            return None
        delta: dict[str, Any] = {BASE: base_key, BASE_LEN: n}
        same: list[str] = []
        for field, value in request.items():
            if field == "messages":
                continue
            if field in base and base[field] == value:
                same.append(field)
            else:
                delta[field] = value
        delta[SAME] = same
        delta["messages"] = messages[n:]
        return delta, depth + 1

    def get(self, conn: Any, swarm_id: str, key: str) -> dict[str, Any]:
        """The request stored under ``key`` (KeyError if neither the row nor its blob is there)."""
        with self._lock:
            found = self._cache.get((swarm_id, key))
        if found is not None:
            return found[0]
        row = sql.fetch_one(conn, sql.LLM_REQUEST, {"sid": swarm_id, "key": key})
        if row is None:
            raise KeyError(key)
        blob_key = row.blob_key
        # no body: NULL, or JSON null (a fork's copy, made through SQLAlchemy's JSON type)
        body: Any = None if blob_key or row.body is None else sql.from_json(row.body)
        if blob_key is None and body is None:  # in the blob store, where its key says
            owner = sql.fetch_one(conn, sql.SWARM_OWNER, {"id": swarm_id})
            if owner is None:
                raise KeyError(key)
            blob_key = request_blob_key(str(owner.owner_id), swarm_id, key)
        request: dict[str, Any] = orjson.loads(self.blobs.get(blob_key)) if blob_key else body
        depth = 0
        if BASE in request:  # a delta: rebuilt over its base (read, or cached, first)
            base = self.get(conn, swarm_id, str(request[BASE]))
            with self._lock:
                depth = self._cache.get((swarm_id, str(request[BASE])), (base, MAX_CHAIN))[1] + 1
            whole = {field: base[field] for field in request[SAME]}
            whole.update((f, v) for f, v in request.items() if f not in _DELTA_FIELDS)
            whole["messages"] = [*base["messages"][:int(request[BASE_LEN])], *request["messages"]]
            request = whole
        self._remember(swarm_id, key, request, depth)
        return request

    def fetch(self, db: Database, swarm_id: str, key: str) -> dict[str, Any]:
        """``get`` on a read connection of its own, opened only when the request is not cached."""
        with self._lock:
            found = self._cache.get((swarm_id, key))
        if found is not None:
            return found[0]
        with db.raw_read() as conn:
            return self.get(conn, swarm_id, key)

    def _remember(self, swarm_id: str, key: str, request: dict[str, Any], depth: int) -> None:
        with self._lock:
            self._cache[(swarm_id, key)] = (request, depth)
            self._cache.move_to_end((swarm_id, key))
            if len(self._cache) > _CACHE_MAX:
                self._cache.popitem(last=False)


_DELTA_FIELDS = frozenset((BASE, BASE_LEN, SAME))


def request_blob_key(owner_id: str, swarm_id: str, key: str) -> str:
    """Where a request above the inline size goes. A row written since the bodies went there by this rule holds no
    blob key (``row_for``: 85 bytes a request saved); older rows name theirs."""
    return scoped_key(owner_id, swarm_id, "llm", f"req-{key}.json")


def body_blob_key(owner_id: str, swarm_id: str, call_id: str) -> str:
    """Where a developer-log body above the inline size goes."""
    return scoped_key(owner_id, swarm_id, "llm", f"{call_id}.json")


def call_body(request_ref: str | None, messages: list[dict[str, Any]], raw: str | None,
              parsed: Any) -> dict[str, Any]:
    """A developer-log body. With a stored request, the body names it instead of repeating its messages, and the
    parsed output is left out when it is what the raw output parses to (``read_call_body`` restores both)."""
    if request_ref is None:
        return {"messages": messages, "raw_output": raw, "parsed_output": parsed}
    body: dict[str, Any] = {"request": request_ref, "raw_output": raw}
    if parsed is None or raw is None or _parses_to(raw) != parsed:
        body["parsed_output"] = parsed
    return body


def _parses_to(raw: str) -> Any:
    if raw.lstrip()[:1] not in _JSON_STARTS:  # e.g. a tool-using turn's "Calling ...": no exception to make
        return _UNPARSABLE
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _UNPARSABLE


_UNPARSABLE = object()
_JSON_STARTS = frozenset('{["-0123456789tfn')


def read_call_body(body: dict[str, Any], request: dict[str, Any] | None) -> dict[str, Any]:
    """The body as the developer log shows it: messages from the stored request, the parsed output restored."""
    if "request" not in body:
        return body  # written before migration 0008: whole
    raw = body.get("raw_output")
    parsed = body["parsed_output"] if "parsed_output" in body else (
        None if raw is None else orjson.loads(raw))
    messages = request.get("messages", []) if request is not None else []
    return {"messages": messages, "raw_output": raw, "parsed_output": parsed}
