"""Bodies that may carry files: a reply, a tell or a new swarm's goal, as JSON or as multipart/form-data.

The same route takes either. JSON (`{content, attachments?}`) is the fast path and may cite files already in
the memory space by path (uploaded before with `POST /api/swarms/{id}/memory`); multipart carries the files
themselves (field `file`, repeatable) beside the text fields, and may cite paths too (field `attach`,
repeatable). Files are read up to the operator's size a file and no further (413), at most
`AGA_SWARM_UPLOAD_MAX_FILES` of them (413).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from ...engine.attachments import AttachmentLimits
from ...engine.errors import FileTooLarge
from ...engine.memory import Upload
from ...engine.sizes import human_size
from ..errors import field_errors, invalid
from ..settings import Settings

MAX_TEXT_FIELDS = 40
MESSAGE_FIELDS: dict[str, Any] = {"content": {"type": "string", "description": "Markdown (may be empty with files)"}}
SWARM_FIELDS: dict[str, Any] = {"goal": {"type": "string"}, "name": {"type": "string"},
                                "config": {"type": "string", "description": "A config id from GET /api/configs"}}


@dataclass
class Parsed:
    """A body as read: its text fields (validated by the route's JSON model), the files and cited paths."""

    body: Any
    files: list[Upload] = field(default_factory=list)

    @property
    def attach(self) -> list[str]:
        return list(getattr(self.body, "attachments", None) or [])


def message_body(parsed: Parsed | JSONResponse) -> Parsed | JSONResponse:
    """A message needs some content or a file (422 otherwise)."""
    if isinstance(parsed, Parsed) and not parsed.body.content and not parsed.attach and not parsed.files:
        return invalid("a message needs some content or an attachment", ["body", "content"])
    return parsed


def limits_of(settings: Settings) -> AttachmentLimits:
    return AttachmentLimits(max_file_bytes=settings.upload_max_file_bytes,
                            max_message_bytes=settings.upload_max_request_bytes,
                            max_files=settings.upload_max_files, allowed=frozenset(settings.upload_types))


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


def _body_errors(exc: ValidationError) -> JSONResponse:
    errors = [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors()]
    return JSONResponse({"detail": field_errors(errors)}, status_code=422)


async def read_body(request: Request, model: type[BaseModel], settings: Settings,
                    *, repeated: frozenset[str] = frozenset({"attachments"})) -> Parsed | JSONResponse:
    """The request's body as ``model`` (JSON, or multipart text fields) with its files, or a 422 answer.
    In a multipart body, the field `attach` (repeatable) is the JSON body's `attachments`."""
    if not is_multipart(request):
        raw = await request.body()
        try:
            return Parsed(model.model_validate_json(raw or b"null"))
        except ValidationError as exc:
            return _body_errors(exc)
    try:
        form = await request.form(max_files=settings.upload_max_files + 1, max_fields=MAX_TEXT_FIELDS)
    except MultiPartException as exc:
        return invalid(f"malformed multipart form: {exc.message}", ["body"])
    try:
        fields: dict[str, Any] = {}
        files: list[Upload] = []
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key != "file":
                    return invalid(f"`{key}` must be a text field; files go in `file`", ["body", key])
                if len(files) >= settings.upload_max_files:
                    raise FileTooLarge(f"more than {settings.upload_max_files} files; a message carries at most "
                                       f"{settings.upload_max_files}")
                files.append(Upload(value.filename or "", value.content_type,
                                    await read_at_most(value, settings.upload_max_file_bytes)))
            elif key == "file":
                return invalid("`file` must be a file part", ["body", "file"])
            elif key == "attach" or key in repeated:
                fields.setdefault("attachments", []).append(value)
            elif key in fields:
                return invalid(f"`{key}` is given twice", ["body", key])
            else:
                fields[key] = value
    finally:
        await form.close()
    try:
        return Parsed(model.model_validate(fields), files)
    except ValidationError as exc:
        return _body_errors(exc)


async def read_at_most(item: UploadFile, limit: int) -> bytes:
    """The part's bytes, or FileTooLarge as soon as it passes ``limit`` (not read further)."""
    chunks: list[bytes] = []
    seen = 0
    while chunk := await item.read(1024 * 1024):
        seen += len(chunk)
        if seen > limit:
            raise FileTooLarge(f"{item.filename!r} is over the limit of {human_size(limit)} a file")
        chunks.append(chunk)
    return b"".join(chunks)


def request_body(json_model: type[BaseModel], text_fields: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI requestBody of a route that takes ``json_model`` as JSON, or its fields plus files as
    multipart/form-data."""
    schema = json_model.model_json_schema()
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": schema},
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            **text_fields,
            "file": {"type": "array", "items": {"type": "string", "format": "binary"},
                     "description": "Files to attach (repeatable); each lands in the memory space under uploads/"},
            "attach": {"type": "array", "items": {"type": "string"},
                       "description": "Paths of files already in the memory space to attach (repeatable)"}}}}}}}
