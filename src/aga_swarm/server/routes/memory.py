"""The memory space: list its files (now or at a seq), download one, upload the person's files (multipart)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response, status
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from ...engine.memory import Upload
from ...engine.memory import serving as serving_type
from ...schemas import MemoryFile, MemoryListing
from ..auth import Ctx, CurrentUser
from ..errors import invalid
from ..models import MAX_SEQ
from .common import R401, R404, R413, R429, Responses, SwarmId, json_response, to_json
from .forms import read_at_most

router = APIRouter(prefix="/api", tags=["memory"], responses={**R401, **R404})

R415: Responses = {415: {"description": "A file's type is not accepted, or its bytes are not what it claims",
                         "content": {"application/json": {"schema": {"type": "object", "properties": {
                             "detail": {"type": "string"}}, "required": ["detail"]}}}}}
MAX_FILES = 20

At = Annotated[int | None, Query(ge=0, le=MAX_SEQ, description="As of this seq (default: now)")]
FilePath = Annotated[str, Path(min_length=1, max_length=600, description="The file's path in the memory space")]


@router.get("/swarms/{swarm_id}/memory", response_model=MemoryListing)
async def list_memory(swarm_id: SwarmId, ctx: Ctx, user: CurrentUser, at: At = None) -> Response:
    """The memory space's files (each at its latest version at or before `at`), by path. 422 past the last seq."""
    return json_response(await ctx.offload(lambda: to_json(ctx.service.memory(swarm_id, at=at, owner_id=user.id))))


@router.get("/swarms/{swarm_id}/memory/{path:path}", response_class=Response,
            responses={200: {"description": "The file's bytes", "content": {"application/octet-stream": {}}}})
async def get_memory_file(swarm_id: SwarmId, path: FilePath, ctx: Ctx, user: CurrentUser, at: At = None,
                          download: Annotated[bool, Query(description="Always as an attachment")] = False,
                          ) -> Response:
    """One file, with its content type and `Content-Disposition` (inline for text, images and PDF unless
    `download`); markup and scripts go out as `application/octet-stream` attachments, never rendered here."""
    file, data = await ctx.offload(ctx.service.memory_file, swarm_id, path, at=at, owner_id=user.id)
    media_type, inline = serving_type(file.content_type)
    name = file.path.rsplit("/", 1)[-1]
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in name)
    disposition = "inline" if inline and not download else "attachment"
    return Response(content=data, media_type=media_type, headers={
        "Content-Disposition": f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-cache"})


@router.post("/swarms/{swarm_id}/memory", status_code=status.HTTP_201_CREATED, response_model=list[MemoryFile],
             responses={**R413, **R415, **R429, 422: {"description": "No file, a bad path, or a malformed form"}},
             openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                 "type": "object", "required": ["file"], "properties": {
                     "file": {"type": "array", "items": {"type": "string", "format": "binary"},
                              "description": "One or more files"},
                     "path": {"type": "string", "description": "Where to put a single file (default "
                              "uploads/<its name>)"},
                     "folder": {"type": "string", "description": "Folder for the files (default uploads)"}}}}}}})
async def upload_memory(swarm_id: SwarmId, request: Request, ctx: Ctx, user: CurrentUser) -> Response:
    """Upload files (multipart field `file`, repeatable) into the memory space. Each is checked against the
    operator's limits before anything is stored: 413 over the size a file (default 10 MB) or a request, 415 for
    a type off the allowlist or bytes that are not of the type claimed, 429 past the stored-bytes quota. All files
    are stored, or none."""
    settings = ctx.settings
    try:
        form = await request.form(max_files=MAX_FILES, max_fields=10)
    except MultiPartException as exc:
        return invalid(f"malformed multipart form: {exc.message}", ["body"])
    except AssertionError:  # no multipart parser for this content type
        return invalid("expected a multipart/form-data body", ["body"])
    try:
        uploads: list[Upload] = []
        for item in form.getlist("file"):
            if not isinstance(item, UploadFile):
                return invalid("`file` must be a file part", ["body", "file"])
            data = await read_at_most(item, settings.upload_max_file_bytes)
            uploads.append(Upload(item.filename or "", item.content_type, data))
        path, folder = form.get("path"), form.get("folder")
        if not isinstance(path, (str, type(None))) or not isinstance(folder, (str, type(None))):
            return invalid("`path` and `folder` are text fields", ["body"])
    finally:
        await form.close()
    if not uploads:
        return invalid("no file given (multipart field `file`)", ["body", "file"])
    written = await ctx.offload(
        ctx.service.upload_memory, swarm_id, uploads, owner_id=user.id, path=path or None,
        folder=folder if folder is not None else "uploads", allowed=frozenset(settings.upload_types),
        max_file_bytes=settings.upload_max_file_bytes, max_request_bytes=settings.upload_max_request_bytes)
    return json_response(to_json(written), status.HTTP_201_CREATED)
