"""The hot path's codec, in one place: rows written by position, and models built without validation.

Both are tricks the engine plays because a fan-out makes thousands of these per transaction and pydantic's
validation, or binding parameters by name, cost more than the rest of the work. Each has a parity test
(``tests/store/test_codec.py``): a trusted build equals the validated model, field for field, in JSON and in
its fields-set; a row's fields are its statement's parameters, in order (``sql.Q.positional`` checks it when
the statement is defined).
"""

from __future__ import annotations

from copy import copy
from datetime import datetime
from enum import Enum
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar

import orjson
from pydantic import BaseModel

from ..schemas import ChatStatus, ChatSummary, Continuation, ContinuationKind, EventType, Lifecycle, Node, SwarmEvent


# ---- rows by position (``sql.run_rows``): the fields are the statement's parameters, in order ----------------
class EventRow(NamedTuple):
    swarm_id: str
    seq: int
    ts: float
    type: str
    node_id: str | None
    data: str


class NodeRow(NamedTuple):
    swarm_id: str
    id: str
    parent_id: str | None
    lifecycle: str
    live: int  # 1 until the node has ended (``sql.LIVE_LIFECYCLES``): the parent index's column (migration 0014)
    data: str


class NodeUpdateRow(NamedTuple):
    """A node row that started or stopped being live: its ``live`` column moves in the parent index."""

    lifecycle: str
    live: int
    data: str
    swarm_id: str
    id: str


class NodeDataRow(NamedTuple):
    """A node row as live (or not) as it was: written without ``live`` (the parent index untouched)."""

    lifecycle: str
    data: str
    swarm_id: str
    id: str


class ChatRow(NamedTuple):
    swarm_id: str
    id: str
    node_id: str
    status: str
    data: str


class ChatUpdateRow(NamedTuple):
    status: str
    data: str
    swarm_id: str
    id: str


class MessageRow(NamedTuple):
    swarm_id: str
    id: str
    chat_id: str
    idx: int
    role: str
    content: str
    reply_to: str | None
    attachments: str
    created_at: float


class JournalRow(NamedTuple):
    swarm_id: str
    node_id: str
    step: str | None  # None: its journal event's (at ``seq``)
    text: str | None
    created_at: float | None
    seq: int


class RequestRow(NamedTuple):
    """A model request stored once, by content (``payloads.RequestStore``): inline, or its blob's key."""

    swarm_id: str
    key: str
    body: str | None
    blob_key: str | None


class SwarmUpdateRow(NamedTuple):
    last_seq: int
    status: str
    failure_reason: str | None
    root_node_id: str | None
    updated_at: float
    usage: str
    id: str


class SwarmSeqRow(NamedTuple):
    """The swarm row without its usage, which most transactions leave alone."""

    last_seq: int
    status: str
    failure_reason: str | None
    root_node_id: str | None
    updated_at: float
    id: str


# ---- models built without validation ----------------------------------------------------------------------
M = TypeVar("M", bound=BaseModel)
# a model's slots set by their descriptors' ``__set__``: what ``object.__setattr__(obj, name, value)`` ends in, without
# its lookup of the name on the type (a fan-out builds a few models per child)
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def trusted(cls: type[M], fields: dict[str, Any]) -> M:
    """``cls(**fields)`` without validation, for values the engine built itself with the declared types
    (what ``model_construct`` does, minus its per-field default handling: every field must be given). The
    engine makes a handful of events and continuations per operation; validating them cost more than the
    rest of the step."""
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", fields)
    _set_fields_set(obj, set(fields))
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


def trusted_with_defaults(cls: type[M], fields: dict[str, Any]) -> M:
    """``trusted`` for a model whose fields with defaults may be left out (filled as pydantic fills them:
    a default factory is called, a mutable default copied); only the given fields count as set. For the
    models a fan-out builds by the thousand (a new node, its chat summary, a child's outcome), where
    validation would cost more than the rest of the child's work."""
    given = set(fields)
    ordered: dict[str, Any] = {}
    for name, default, factory in _plan(cls):  # every field, in declared order (as pydantic's __dict__)
        if name in fields:
            ordered[name] = fields[name]
        elif factory is not None:
            ordered[name] = factory()
        else:
            ordered[name] = copy(default) if type(default) in _MUTABLE else default
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", ordered)
    _set_fields_set(obj, given)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


_MUTABLE = frozenset({list, dict, set})


@lru_cache(maxsize=64)
def _plan(cls: type[BaseModel]) -> tuple[tuple[str, Any, Any], ...]:
    """Each field of ``cls`` in declared order: (name, default, default factory); a required field's default is
    never used (``trusted_with_defaults`` requires it given)."""
    return tuple((name, field.default, field.default_factory) for name, field in cls.model_fields.items())


_NEW_NODE_GIVEN = frozenset({"id", "swarm_id", "parent_id", "depth", "action_id", "action_type", "directive", "title",
                             "termination_policy", "context_down", "needs", "needed_by", "lifecycle",
                             "failure_reason", "chat_id", "created_at", "updated_at"})


def new_node(*, id: str, swarm_id: str, parent_id: str | None, depth: int, action_id: str, action_type: Any,
             directive: str, title: str, termination_policy: str, context_down: dict[str, Any], needs: list[str],
             needed_by: list[str], lifecycle: Lifecycle, failure_reason: str | None, chat_id: str,
             created_at: datetime, updated_at: datetime) -> Node:
    """``Node(**those fields)`` without validation, the others at their defaults, for values of the declared types
    (a fan-out makes nodes by the thousand). The fields in declared order, as pydantic's ``__dict__``."""
    node = Node.__new__(Node)
    object.__setattr__(node, "__dict__", {
        "id": id, "swarm_id": swarm_id, "parent_id": parent_id, "children": [], "needs": needs,
        "needed_by": needed_by, "depth": depth, "action_id": action_id, "action_type": action_type,
        "directive": directive, "title": title, "lifecycle": lifecycle, "termination_policy": termination_policy,
        "report": None, "failure_reason": failure_reason, "context_down": context_down, "context_up": {},
        "chat_id": chat_id, "replans": 0, "attempt": 1, "inbox": [], "attachments": [], "continuation": None,
        "created_at": created_at, "updated_at": updated_at})
    _set_fields_set(node, set(_NEW_NODE_GIVEN))
    _set_extra(node, None)
    _set_private(node, None)
    return node


_NEW_CHAT_GIVEN = frozenset({"id", "node_id", "title"})


def new_chat(chat_id: str, node_id: str, title: str) -> ChatSummary:
    """``ChatSummary(id=, node_id=, title=)`` without validation (a new node's chat)."""
    chat = ChatSummary.__new__(ChatSummary)
    object.__setattr__(chat, "__dict__", {
        "id": chat_id, "node_id": node_id, "title": title, "status": ChatStatus.IDLE, "message_count": 0,
        "last_message": None, "last_role": None, "awaiting_since": None, "followups": 0})
    _set_fields_set(chat, set(_NEW_CHAT_GIVEN))
    _set_extra(chat, None)
    _set_private(chat, None)
    return chat


def node_json(node: Node) -> dict[str, Any]:
    """``node.model_dump(mode="json")``, written out for a node whose contexts and attachments are empty and
    which has no continuation (a new node, as a fan-out makes them); any other goes to pydantic. A copy of the
    node's ``__dict__`` (every field, in declared order: pydantic's, and ``new_node``'s) with the values that
    are not plain JSON, or are mutable, replaced: a fifth cheaper than a dict written key by key."""
    v = node.__dict__
    if (v["context_down"] or v["context_up"] or v["attachments"] or v["continuation"] is not None
            or len(v) != _NODE_FIELD_COUNT):
        return node.model_dump(mode="json")
    data = v.copy()
    data["children"] = list(v["children"])
    data["needs"] = list(v["needs"])
    data["needed_by"] = list(v["needed_by"])
    data["action_type"] = v["action_type"]._value_
    data["lifecycle"] = v["lifecycle"]._value_
    data["context_down"] = {}
    data["context_up"] = {}
    data["inbox"] = list(v["inbox"])
    data["attachments"] = []
    data["created_at"] = iso(v["created_at"])
    data["updated_at"] = iso(v["updated_at"])
    return data


_NODE_FIELD_COUNT = len(Node.model_fields)  # extra="forbid": a node's ``__dict__`` holds its fields, no more


def node_json_and_text(node: Node) -> tuple[dict[str, Any], str]:
    """``node_json(node)`` and ``row_json(node)``, the text made from the dict when ``node_json`` wrote it out
    (plain JSON values: a third of ``row_json``'s cost); the same text (``tests/store/test_codec.py``)."""
    v = node.__dict__
    if v["context_down"] or v["context_up"] or v["attachments"] or v["continuation"] is not None:
        return node.model_dump(mode="json"), row_json(node)
    data = node_json(node)
    return data, orjson.dumps(data).decode()


_ROW_JSON = orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z  # datetimes as pydantic writes them (``...Z``)


def _plain_model(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.__dict__
    raise TypeError(type(value).__name__)


def row_json(model: Node | ChatSummary) -> str:
    """``model.model_dump_json()`` for a node or a chat summary, by orjson from its fields (nested models by
    theirs): the same text, at a third of the cost (a fan-out writes a row of each per child). Neither model
    has a field serializer, alias or excluded field, which this would skip; a value orjson cannot write (none
    the engine makes) goes to pydantic. ``tests/store/test_codec.py`` checks the parity."""
    try:
        return orjson.dumps(model.__dict__, default=_plain_model, option=_ROW_JSON).decode()
    except TypeError:
        return model.model_dump_json()


def set_fields(model: BaseModel, changes: dict[str, Any], jsonable: dict[str, Any],
               typed: dict[str, type | tuple[type, ...]]) -> None:
    """Apply ``changes`` to ``model`` as validating their JSON form (``jsonable``) would: a value whose field is
    in ``typed`` and has that type is set directly (it serialises to exactly what validation would set), any
    other goes through pydantic's validated assignment. A validated assignment replaces the model's
    ``__dict__``, so it is looked up each time."""
    for key, value in changes.items():
        kind = typed.get(key)
        if kind is not None and isinstance(value, kind):
            model.__dict__[key] = value
        else:
            setattr(model, key, jsonable[key])


def set_field(model: BaseModel, key: str, value: Any) -> None:
    """Set a field to a value of its declared type, without validation."""
    model.__dict__[key] = value


@lru_cache(maxsize=256)
def iso(value: datetime) -> str:
    """A UTC datetime as pydantic renders it in JSON (cached: a transaction stamps everything with its
    ``now``)."""
    return value.isoformat().replace("+00:00", "Z")


def trusted_event(swarm_id: str, seq: int, ts: datetime, type_: EventType, node_id: str | None,
                  data: dict[str, Any]) -> SwarmEvent:
    """A ``SwarmEvent`` from plain values, without validation."""
    return trusted(SwarmEvent, {"swarm_id": swarm_id, "seq": seq, "ts": ts, "type": type_, "node_id": node_id,
                                "data": data})


def new_continuation(node_id: str, kind: ContinuationKind, request: dict[str, Any], context: dict[str, Any],
                     next_step: str, token: str, created_at: datetime) -> Continuation:
    """A Continuation from plain values: ``request`` and ``context`` must be JSON already (see
    ``continuation_json``)."""
    return trusted(Continuation, {"node_id": node_id, "kind": kind, "request": request, "context": context,
                                  "next_step": next_step, "token": token, "created_at": created_at})


def continuation_json(cont: Continuation) -> dict[str, Any]:
    """``cont.model_dump(mode="json")``, written out: its request and context are JSON already (the step
    context API builds them from JSON-mode dumps and parsed model output), so they are not walked again."""
    return {"node_id": cont.node_id, "kind": cont.kind.value, "request": cont.request, "context": cont.context,
            "next_step": cont.next_step, "token": cont.token, "created_at": iso(cont.created_at)}


_PLAIN = frozenset({str, int, float, bool, type(None)})


def jsonable_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Field changes as their JSON form (what ``model_dump(mode="json")`` gives each value)."""
    out: dict[str, Any] = {}
    for key, value in changes.items():
        kind = type(value)
        if kind in _PLAIN:
            out[key] = value
        elif kind is Continuation:
            out[key] = continuation_json(value)
        elif isinstance(value, Enum):
            out[key] = value._value_
        elif hasattr(value, "model_dump"):
            out[key] = value.model_dump(mode="json")
        elif hasattr(value, "value") and not isinstance(value, (int, float, str)):
            out[key] = value.value
        elif isinstance(value, datetime):
            out[key] = iso(value)
        else:
            out[key] = value
    return out
