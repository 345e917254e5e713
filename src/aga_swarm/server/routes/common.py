"""Shared route pieces: typed path parameters, error documentation and JSON rendering off the loop."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Response
from pydantic import BaseModel, TypeAdapter

from ..models import ID_PATTERN

SwarmId = Annotated[str, Path(pattern=ID_PATTERN, max_length=200, description="Swarm id")]
NodeId = Annotated[str, Path(pattern=ID_PATTERN, max_length=200, description="Node id")]
ChatId = Annotated[str, Path(pattern=ID_PATTERN, max_length=200, description="Chat id")]

_detail = {"content": {"application/json": {"schema": {
    "type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}}}}

R401 = {401: {"description": "Not logged in, or the session expired", **_detail}}
R404 = {404: {"description": "No such swarm (or node, or chat) for this user", **_detail}}
R409 = {409: {"description": "Not allowed in the swarm's (or chat's) current state", **_detail}}
R410 = {410: {"description": "That part of the history was compacted", **_detail}}

_adapters: dict[Any, TypeAdapter[Any]] = {}


def to_json(value: Any) -> bytes:
    if isinstance(value, BaseModel):
        return value.model_dump_json().encode()
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        tp = list[type(value[0])]  # type: ignore[misc]
        adapter = _adapters.get(tp)
        if adapter is None:
            adapter = _adapters[tp] = TypeAdapter(tp)
        return adapter.dump_json(value)
    return TypeAdapter(Any).dump_json(value)


def json_response(body: bytes, status_code: int = 200) -> Response:
    return Response(content=body, status_code=status_code, media_type="application/json")
