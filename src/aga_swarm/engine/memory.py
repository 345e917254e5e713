"""The memory space: each swarm's tree of files by path.

Bytes live in the blob store, one key per version (``users/<u>/swarms/<s>/memory/<uuid>/<name>``); the
``memory_files`` table holds a row per version (path, seq, title, size, content type, writer node, blob key);
every write is a ``memory_written`` event, so the fold gives the memory space at any seq. Steps use it through
``ctx.memory`` (list, read, write, search); the service uses the same functions for the person's uploads and
downloads. Paths are checked here, so no path can name anything outside its swarm's space.
"""

from __future__ import annotations

import builtins
import re
import uuid
from dataclasses import dataclass
from typing import Any

from ..schemas import MemoryFile, MemoryHit
from ..store import sql
from ..store.blob import BlobStore, scoped_key
from .errors import FileTooLarge, InvalidInput, MemoryFileNotFound, UnsupportedFileType
from .sizes import human_size
from .tx import SwarmTx

MAX_PATH_CHARS = 500
MAX_SEGMENTS = 32
MAX_TITLE_CHARS = 300
MAX_WRITE_BYTES = 10 * 1024 * 1024  # a step's memory.write; the person's uploads have the operator's limit
SEARCH_TEXT_BYTES = 1024 * 1024  # memory.search reads the text of files up to this size
SEARCH_LINES = 5  # matching lines kept per file
LATEST = 2_147_483_647  # "at" meaning now (seq is a 32-bit column)

_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")

BY_EXTENSION: dict[str, str] = {
    ".md": "text/markdown", ".markdown": "text/markdown", ".txt": "text/plain", ".log": "text/plain",
    ".csv": "text/csv", ".tsv": "text/tab-separated-values", ".json": "application/json",
    ".yaml": "application/yaml", ".yml": "application/yaml", ".toml": "text/plain",
    ".py": "text/x-python", ".js": "text/javascript", ".ts": "text/x-typescript", ".tsx": "text/x-typescript",
    ".sh": "text/x-shellscript", ".sql": "text/x-sql", ".c": "text/x-c", ".h": "text/x-c", ".rs": "text/x-rust",
    ".go": "text/x-go", ".java": "text/x-java", ".html": "text/html", ".htm": "text/html", ".svg": "image/svg+xml",
    ".xml": "application/xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".gif": "image/gif", ".webp": "image/webp", ".pdf": "application/pdf",
}

# binary types recognised by their first bytes; anything else must be text (UTF-8, no NUL) to be accepted
_MAGIC: list[tuple[str, bytes, int]] = [
    ("image/png", b"\x89PNG\r\n\x1a\n", 0), ("image/jpeg", b"\xff\xd8\xff", 0), ("image/gif", b"GIF87a", 0),
    ("image/gif", b"GIF89a", 0), ("application/pdf", b"%PDF-", 0), ("image/webp", b"WEBP", 8),
]
_TEXTUAL_APPLICATION = frozenset({"application/json", "application/yaml", "application/xml"})
# types a browser would run (script, markup): never served as themselves (see ``serving``)
ACTIVE_TYPES = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml", "application/xml", "text/xml",
                          "text/javascript", "application/javascript"})
_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<script|<svg|<\?xml)", re.IGNORECASE)

DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
DEFAULT_UPLOAD_TYPES = ("text/plain", "text/markdown", "text/csv", "application/json", "application/yaml",
                        "text/x-python", "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")


def clean_path(raw: str) -> str:
    """A memory path: relative, '/'-separated, no empty, '.' or '..' segment, no control character or
    backslash, at most 500 characters and 32 segments. Leading slashes are dropped."""
    if not isinstance(raw, str):
        raise InvalidInput("a memory path must be text")
    path = raw.strip().lstrip("/")
    if not path:
        raise InvalidInput("a memory path must not be empty")
    if len(path) > MAX_PATH_CHARS:
        raise InvalidInput(f"a memory path is at most {MAX_PATH_CHARS} characters")
    if _BAD_CHARS.search(path):
        raise InvalidInput("a memory path may not contain control characters or backslashes")
    parts = path.split("/")
    if len(parts) > MAX_SEGMENTS:
        raise InvalidInput(f"a memory path has at most {MAX_SEGMENTS} segments")
    for part in parts:
        if part.strip() in {"", ".", ".."}:
            raise InvalidInput(f"invalid memory path {raw!r}: empty, '.' or '..' segment")
        if part != part.strip():
            raise InvalidInput(f"invalid memory path {raw!r}: a segment starts or ends with a space")
    return path


def clean_prefix(raw: str) -> str:
    """A folder prefix for listing ('' for everything)."""
    stripped = raw.strip().strip("/")
    return clean_path(stripped) + "/" if stripped else ""


def upload_path(folder: str, filename: str) -> str:
    """Where an uploaded file goes: ``folder/<its name>``, the name stripped of any client-side directories."""
    name = re.split(r"[\\/]", filename or "")[-1].strip()
    if name in {"", ".", ".."}:
        raise InvalidInput("an uploaded file needs a name")
    base = folder.strip().strip("/")
    return clean_path(f"{base}/{name}" if base else name)


@dataclass(frozen=True)
class Upload:
    """A file the person sent: its name, the type the client declared (if any) and its bytes."""

    name: str
    content_type: str | None
    data: bytes


def type_for_name(path: str) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    dot = name.rfind(".")
    return BY_EXTENSION.get(name[dot:], "application/octet-stream") if dot > 0 else "application/octet-stream"


def is_text_type(content_type: str) -> bool:
    return content_type.startswith("text/") or content_type in _TEXTUAL_APPLICATION


def sniff(data: bytes) -> str | None:
    """The type the bytes show: a known binary signature, ``text/plain`` for UTF-8 text without NUL, ``text/html``
    for text that starts like markup, or None."""
    for kind, magic, offset in _MAGIC:
        if data[offset:offset + len(magic)] == magic and (kind != "image/webp" or data[:4] == b"RIFF"):
            return kind
    if b"\x00" in data:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/html" if _HTML_START.match(data[:512]) else "text/plain"


def check_upload(name: str, declared: str | None, data: bytes, *, allowed: frozenset[str] | set[str],
                 max_bytes: int) -> str:
    """The content type to store for a person's upload, or FileTooLarge / UnsupportedFileType with a reason.
    The type is the declared one when specific, else the name's; it must be allowed, and the bytes must show
    it (a binary type by its signature, a text type by being UTF-8 text that is not markup)."""
    if len(data) > max_bytes:
        raise FileTooLarge(f"{name!r} is {human_size(len(data))}; the limit is {human_size(max_bytes)} a file")
    declared = (declared or "").split(";")[0].strip().lower()
    kind = declared if declared and declared != "application/octet-stream" else type_for_name(name)
    if kind not in allowed:
        raise UnsupportedFileType(f"{name!r}: files of type {kind} are not accepted "
                                  f"(accepted: {', '.join(sorted(allowed))})")
    seen = sniff(data)
    if is_text_type(kind):
        if seen != "text/plain":
            what = "markup (HTML/SVG/XML)" if seen == "text/html" else "not text"
            raise UnsupportedFileType(f"{name!r} is declared {kind} but its bytes are {what}")
    elif seen != kind:
        raise UnsupportedFileType(f"{name!r} is declared {kind} but its bytes are not ({seen or 'unknown binary'})")
    return kind


def serving(content_type: str) -> tuple[str, bool]:
    """How to serve a stored type: (Content-Type, whether it may be shown inline). Markup and scripts go out
    as ``application/octet-stream`` attachments, so a browser never renders one from our origin."""
    if content_type in ACTIVE_TYPES or not re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+", content_type):
        return "application/octet-stream", False
    if is_text_type(content_type):
        return f"{content_type}; charset=utf-8", True
    inline = content_type.startswith("image/") or content_type == "application/pdf"
    return content_type, inline


def blob_key_for(owner_id: str, swarm_id: str, path: str) -> str:
    """A fresh key per version: a lost or retried write never overwrites another version's bytes."""
    name = _KEY_UNSAFE.sub("_", path.rsplit("/", 1)[-1])[:120] or "file"
    if name in {".", ".."}:
        name = "file"
    return scoped_key(owner_id, swarm_id, "memory", uuid.uuid4().hex, name)


def version_prefix(blob_key: str) -> str:
    """The blob prefix holding only this version (for deleting bytes whose write did not commit)."""
    return blob_key.rsplit("/", 1)[0] + "/"


@dataclass(frozen=True)
class StoredFile:
    file: MemoryFile
    blob_key: str


def _stored(row: Any) -> StoredFile:
    return StoredFile(MemoryFile(path=row.path, title=row.title, size=int(row.size), content_type=row.content_type,
                                 node_id=row.node_id, seq=int(row.seq)), row.blob_key)


def committed_files(conn: Any, swarm_id: str, at: int = LATEST) -> list[StoredFile]:
    """Every file as of seq ``at`` (its latest version at or before it), by path."""
    return [_stored(r) for r in sql.fetch(conn, sql.MEMORY_LATEST, {"sid": swarm_id, "at": at})]


def committed_file(conn: Any, swarm_id: str, path: str, at: int = LATEST) -> StoredFile | None:
    row = sql.fetch_one(conn, sql.MEMORY_FILE_AT, {"sid": swarm_id, "path": path, "at": at})
    return None if row is None else _stored(row)


def write(tx: SwarmTx, blobs: BlobStore, path: str, data: bytes, *, node_id: str | None, title: str | None = None,
          content_type: str | None = None) -> MemoryFile:
    """Store the bytes and record the version in ``tx`` (its event and row commit with the transaction)."""
    path = clean_path(path)
    title = (title or path.rsplit("/", 1)[-1]).strip()[:MAX_TITLE_CHARS] or path
    kind = content_type or type_for_name(path)
    key = blob_key_for(tx.owner_id, tx.swarm_id, path)
    blobs.put(key, data)
    return tx.write_memory(path, title=title, size=len(data), content_type=kind, node_id=node_id, blob_key=key)


def search_text(text: str, query: str) -> list[str]:
    needle = query.lower()
    return [line.strip()[:300] for line in text.splitlines() if needle in line.lower()][:SEARCH_LINES]


class MemoryAccess:
    """A step's view of its swarm's memory space (``ctx.memory``): what committed, plus this transaction's own
    writes. Writes are recorded as the step's node."""

    def __init__(self, tx: SwarmTx, blobs: BlobStore, node_id: str | None) -> None:
        self.tx = tx
        self.blobs = blobs
        self.node_id = node_id

    def _find(self, path: str) -> StoredFile | None:
        path = clean_path(path)
        key = self.tx.memory_keys.get(path)
        if key is not None:
            return StoredFile(self.tx.state.memory[path], key)
        return committed_file(self.tx.conn, self.tx.swarm_id, path)

    def get(self, path: str) -> MemoryFile | None:
        found = self._find(path)
        return None if found is None else found.file

    def list(self, prefix: str = "") -> list[MemoryFile]:
        """Files under ``prefix`` (a folder path; '' for all), by path."""
        folder = clean_prefix(prefix)
        files = {s.file.path: s.file for s in committed_files(self.tx.conn, self.tx.swarm_id)}
        files.update({p: self.tx.state.memory[p] for p in self.tx.memory_keys})
        return [f for p, f in sorted(files.items()) if p.startswith(folder)]

    def read_bytes(self, path: str) -> bytes:
        found = self._find(path)
        if found is None:
            raise MemoryFileNotFound(path)
        try:
            return self.blobs.get(found.blob_key)
        except KeyError:
            raise MemoryFileNotFound(path) from None

    def read(self, path: str) -> str:
        """A text file's content (a binary one is named, not decoded)."""
        data = self.read_bytes(path)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"{path!r} is not a text file") from None

    def write(self, path: str, content: str | bytes, *, title: str | None = None,
              content_type: str | None = None) -> MemoryFile:
        data = content.encode("utf-8") if isinstance(content, str) else content
        if len(data) > MAX_WRITE_BYTES:
            raise FileTooLarge(f"a memory file is at most {human_size(MAX_WRITE_BYTES)}"
                               f" ({human_size(len(data))} given)")
        return write(self.tx, self.blobs, path, data, node_id=self.node_id, title=title, content_type=content_type)

    def search(self, query: str, limit: int = 20) -> builtins.list[MemoryHit]:
        """Files whose path or title contains ``query`` (case-insensitive), or whose text does (with the lines)."""
        needle = query.strip().lower()
        if not needle:
            raise InvalidInput("memory.search needs some text to look for")
        hits: builtins.list[MemoryHit] = []
        for f in self.list():
            lines: builtins.list[str] = []
            if is_text_type(f.content_type) and f.size <= SEARCH_TEXT_BYTES:
                try:
                    lines = search_text(self.read(f.path), needle)
                except (MemoryFileNotFound, InvalidInput):
                    lines = []
            if lines or needle in f.path.lower() or needle in f.title.lower():
                hits.append(MemoryHit(path=f.path, title=f.title, content_type=f.content_type, lines=lines))
            if len(hits) >= limit:
                break
        return hits
