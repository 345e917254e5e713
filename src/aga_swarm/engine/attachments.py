"""Attachments: files that a message carries (a reply, a tell, a goal, or an agent's question).

An attachment is a version of a file in the swarm's memory space (``Attachment``: path, name, type, size,
SHA-256 and the seq of its write). The person's files are checked here before anything is stored (count,
size a file and a message, an allowlisted type that the bytes show), their bytes go to the blob store under
a content address (``users/<u>/swarms/<s>/memory/sha256/<hex>/blob``: the same bytes are stored once per
swarm), and each is recorded as a memory write (a ``memory_written`` event and a ``memory_files`` row) in the
transaction that posts the message, so the history slider shows it and a failed post leaves nothing behind.

For the model, ``model_input`` turns a node's attachments into what its calls receive: text files as text
(bounded), images as image inputs (loaded when the call is made, never stored in a continuation), other files
by name and path.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..schemas import Attachment, MemoryFile
from ..store.blob import BlobStore, scoped_key
from . import memory as mem
from .errors import FileTooLarge, InvalidInput, MemoryFileNotFound
from .sizes import human_size
from .tx import SwarmTx

DEFAULT_MAX_FILES = 10
DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024
MAX_NAME_CHARS = 200

TEXT_FILE_CHARS = 20_000  # of one text file, in a model call's prompt
TEXT_TOTAL_CHARS = 60_000  # of all a call's text files together
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
MAX_IMAGES = 8  # images a model call receives (the first ones)
MAX_IMAGE_BYTES = 10 * 1024 * 1024
IMAGE_TOKENS = 1_600  # worst-case prompt tokens of one image (a high-detail tile set), for the limits

_SHA_KEY = re.compile(r"/memory/sha256/([0-9a-f]{64})/blob$")


@dataclass(frozen=True)
class AttachmentLimits:
    """The operator's limits on the person's files in one message (``AGA_SWARM_UPLOAD_*``)."""

    max_file_bytes: int = mem.DEFAULT_MAX_UPLOAD_BYTES
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    max_files: int = DEFAULT_MAX_FILES
    allowed: frozenset[str] = field(default_factory=lambda: frozenset(mem.DEFAULT_UPLOAD_TYPES))


@dataclass(frozen=True)
class Checked:
    """A file that passed the checks: where it goes, its name, its type (shown by its bytes), bytes, hash."""

    path: str
    name: str
    content_type: str
    data: bytes
    sha256: str


def safe_name(raw: str) -> str:
    """The file's own name: client-side folders dropped, control characters refused, at most 200 characters
    (the extension kept)."""
    name = re.split(r"[\\/]", raw or "")[-1].strip()
    if name in {"", ".", ".."}:
        raise InvalidInput("an attached file needs a name")
    if len(name) > MAX_NAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:MAX_NAME_CHARS - len(ext) - 1] + "." + ext) if dot and len(ext) <= 16 else name[:MAX_NAME_CHARS]
    return name


def check_files(files: Sequence[mem.Upload], limits: AttachmentLimits, *, folder: str = "uploads") -> list[Checked]:
    """Check the person's files (FileTooLarge, UnsupportedFileType or InvalidInput with a reason) before
    anything is stored. Two files of one name in one message get ``name (2).ext``."""
    if len(files) > limits.max_files:
        raise FileTooLarge(f"{len(files)} files; a message carries at most {limits.max_files}")
    total = sum(len(f.data) for f in files)
    if total > limits.max_message_bytes:
        raise FileTooLarge(f"the files come to {human_size(total)}; the limit is {human_size(limits.max_message_bytes)}"
                          " a message")
    out: list[Checked] = []
    taken: set[str] = set()
    for f in files:
        name = safe_name(f.name)
        kind = mem.check_upload(name, f.content_type, f.data, allowed=limits.allowed, max_bytes=limits.max_file_bytes)
        path, n = mem.upload_path(folder, name), 1
        while path in taken:
            n += 1
            stem, dot, ext = name.rpartition(".")
            path = mem.upload_path(folder, f"{stem} ({n}).{ext}" if dot and stem else f"{name} ({n})")
        taken.add(path)
        out.append(Checked(path, name, kind, f.data, hashlib.sha256(f.data).hexdigest()))
    return out


def content_key(owner_id: str, swarm_id: str, sha256: str) -> str:
    return scoped_key(owner_id, swarm_id, "memory", "sha256", sha256, "blob")


def sha_of_key(blob_key: str) -> str | None:
    found = _SHA_KEY.search(blob_key)
    return found.group(1) if found else None


def put_blobs(blobs: BlobStore, owner_id: str, swarm_id: str, files: Iterable[Checked]) -> list[str]:
    """Store the files' bytes under their content address, before the transaction that records them. Returns
    the prefixes this call created (bytes already there belong to a committed version and are left alone), for
    ``discard`` if that transaction fails."""
    created: list[str] = []
    try:
        for f in files:
            key = content_key(owner_id, swarm_id, f.sha256)
            prefix = mem.version_prefix(key)
            if prefix in created or blobs.list(prefix):
                continue
            created.append(prefix)
            blobs.put(key, f.data)
    except BaseException:
        discard(blobs, created)
        raise
    return created


def discard(blobs: BlobStore, created: Iterable[str]) -> None:
    for prefix in created:
        blobs.delete_prefix(prefix)


def record(tx: SwarmTx, files: Iterable[Checked], *, node_id: str | None = None) -> list[Attachment]:
    """Record each file as a memory write in ``tx`` (bytes already stored by ``put_blobs``)."""
    out = []
    for f in files:
        written = tx.write_memory(f.path, title=f.name, size=len(f.data), content_type=f.content_type,
                                  node_id=node_id, blob_key=content_key(tx.owner_id, tx.swarm_id, f.sha256))
        out.append(of_file(written, f.sha256, name=f.name))
    return out


def of_file(file: MemoryFile, sha256: str, *, name: str | None = None) -> Attachment:
    return Attachment(path=file.path, name=name or file.path.rsplit("/", 1)[-1], content_type=file.content_type,
                      size=file.size, sha256=sha256, seq=file.seq)


def cite(memory: mem.MemoryAccess, paths: Iterable[str]) -> list[Attachment]:
    """Attachments for files already in the memory space (their current versions), by path: an agent's
    question citing a file, or the person attaching one they uploaded before. InvalidInput for a path with
    no file."""
    out: list[Attachment] = []
    for raw in dict.fromkeys(paths):
        path = mem.clean_path(raw)
        key = memory.tx.memory_keys.get(path)
        found = (mem.StoredFile(memory.tx.state.memory[path], key) if key is not None
                 else mem.committed_file(memory.tx.conn, memory.tx.swarm_id, path))
        if found is None:
            raise InvalidInput(f"no file {path!r} in the memory space to attach")
        sha = sha_of_key(found.blob_key)
        if sha is None:
            try:
                sha = hashlib.sha256(memory.blobs.get(found.blob_key)).hexdigest()
            except KeyError:
                raise MemoryFileNotFound(path) from None
        out.append(of_file(found.file, sha))
    return out


def stored_attachment(stored: mem.StoredFile) -> Attachment:
    """An attachment for a committed version, with the hash its content address carries ('' for older keys)."""
    return of_file(stored.file, sha_of_key(stored.blob_key) or "")


def dumped(attachments: Iterable[Attachment]) -> list[dict[str, Any]]:
    """As JSON values (what a ``node_updated`` event carries)."""
    return [a.model_dump(mode="json") for a in attachments]


def describe(a: Attachment) -> str:
    return f"{a.path} ({a.content_type}, {a.size} bytes)"


@dataclass
class ModelInput:
    """What a model call receives of a node's attachments."""

    text: str = ""  # a prompt message: text files' content, the others by path
    images: list[Attachment] = field(default_factory=list)  # loaded when the call is made
    facts: list[dict[str, Any]] = field(default_factory=list)  # for the scripted model: path, type, size, text


def model_input(attachments: Sequence[Attachment], read: Any) -> ModelInput:
    """Text and code files as text (``TEXT_FILE_CHARS`` each, ``TEXT_TOTAL_CHARS`` in all), images (up to
    ``MAX_IMAGES``) as image inputs, anything else named with its path (for the node's tools). ``read(path)``
    returns a text file's content (the version attached is the one read when still current)."""
    if not attachments:
        return ModelInput()
    parts: list[str] = []
    out = ModelInput()
    budget = TEXT_TOTAL_CHARS
    for a in attachments:
        fact: dict[str, Any] = {"path": a.path, "content_type": a.content_type, "size": a.size}
        if mem.is_text_type(a.content_type) and budget > 0:
            try:
                text = str(read(a.path))
            except (MemoryFileNotFound, InvalidInput):
                parts.append(f"- {describe(a)}: no longer readable")
                continue
            limit = min(TEXT_FILE_CHARS, budget)
            shown = text[:limit]
            budget -= len(shown)
            more = len(text) - len(shown)
            cut = f"\n[… {more} more characters; read it with memory.read]" if more else ""
            parts.append(f"- {describe(a)}:\n<file path=\"{a.path}\">\n{shown}{cut}\n</file>")
            fact["text"] = shown
        elif a.content_type in IMAGE_TYPES and len(out.images) < MAX_IMAGES and a.size <= MAX_IMAGE_BYTES:
            out.images.append(a)
            parts.append(f"- {describe(a)}: the image is attached to this message")
        else:
            parts.append(f"- {describe(a)}: in the memory space at {a.path} (read it with your tools)")
        out.facts.append(fact)
    out.text = "Files the person gave you:\n" + "\n".join(parts)
    return out


def received(node_chain: Iterable[Sequence[Attachment]]) -> list[Attachment]:
    """A node's attachments: its own and its ancestors' (the goal's are the root's), each path once, the
    latest version winning."""
    by_path: dict[str, Attachment] = {}
    for found in node_chain:
        for a in found:
            by_path.pop(a.path, None)
            by_path[a.path] = a
    return list(by_path.values())


def data_url(content_type: str, data: bytes) -> str:
    import base64

    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"
