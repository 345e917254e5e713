"""Shared route pieces: typed path parameters, error documentation and JSON rendering off the loop."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Response
from pydantic import BaseModel, TypeAdapter

from ..models import ID_PATTERN

SwarmId = Annotated[str, Path(pattern=ID_PATTERN, max_length=200, description="Swarm id")]
NodeId = Annotated[str, Path(pattern=ID_PATTERN, max_length=200, description="Node id")]
ChatId = Annotated[str, Path(pattern=ID_PATTERN, max_length=200, description="Chat id")]

Responses = dict[int | str, dict[str, Any]]

_detail: dict[str, Any] = {"content": {"application/json": {"schema": {
    "type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}}}}

R401: Responses = {401: {"description": "Not logged in, or the session expired", **_detail}}
R404: Responses = {404: {"description": "No such swarm (or node, or chat) for this user", **_detail}}
R409: Responses = {409: {"description": "Not allowed in the swarm's (or chat's) current state", **_detail}}
R413: Responses = {413: {"description": "The request body is over AGA_SWARM_MAX_BODY_BYTES", **_detail}}
R429: Responses = {429: {"description": "A per-user limit set by the operator (swarms, running swarms, forks "
                                         "per hour, stored bytes) is reached; `detail` says which", **_detail}}
R415: Responses = {415: {"description": "A file's type is not accepted, or its bytes are not what it claims",
                         **_detail}}
R422: Responses = {422: {"description": "A malformed body, an empty message, a file without a name or a bad "
                                         "path"}}
R410: Responses = {410: {"description": "That part of the history was compacted", **_detail}}

_adapters: dict[Any, TypeAdapter[Any]] = {}


def to_json(value: Any) -> bytes:
    if isinstance(value, BaseModel):
        return value.model_dump_json().encode()
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        cls = type(value[0])
        adapter = _adapters.get(cls)
        if adapter is None:
            adapter = _adapters[cls] = TypeAdapter(list[cls])  # type: ignore[valid-type]
        return adapter.dump_json(value)
    return TypeAdapter(Any).dump_json(value)


def json_response(body: bytes, status_code: int = 200) -> Response:
    return Response(content=body, status_code=status_code, media_type="application/json")
