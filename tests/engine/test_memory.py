"""The memory space: steps write, read, list and search files; every write is an event, so the files at any
seq are the fold's; uploads are checked before anything is stored; forks copy, deletes remove."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from aga_swarm.actions import register_builtins
from aga_swarm.engine import memory
from aga_swarm.engine.errors import (
    FileTooLarge,
    InvalidInput,
    MemoryFileNotFound,
    SwarmNotFound,
    UnsupportedFileType,
)
from aga_swarm.engine.fold import fold
from aga_swarm.engine.memory import Upload
from aga_swarm.schemas import EventType, LLMSettings, SwarmConfig, SwarmState, SwarmStatus
from aga_swarm.sdk import ActionSpec, Registry, StepContext
from aga_swarm.service import SwarmService

from ..conftest import make_service
from .helpers import run_answering

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)


class NoteCtx(BaseModel):
    pass


def _registry() -> Registry:
    """A ``note`` action: each line ``path: text`` of the directive is written; then every file is read back."""
    reg = register_builtins(Registry())

    @reg.step("note.start", context=NoteCtx)
    def start(ctx: StepContext, data: NoteCtx, result: None) -> None:
        mem = ctx.memory
        for line in ctx.node.directive.split(" | ")[1:]:
            path, text = line.split(": ", 1)
            mem.write(path, text)
            assert mem.read(path) == text  # this step's own write is visible before it commits
        listing = [f"{f.path}={mem.read(f.path)}" for f in mem.list()]
        ctx.complete("; ".join(listing))

    reg.register_action(ActionSpec(id="note", description="Write notes into the memory space",
                                   entry_step="note.start"))
    return reg


def _config(svc: SwarmService, tmp_path: Path) -> str:
    """The scripted model routes every subtask starting with 'Note' to the ``note`` action."""
    script = tmp_path / "route-notes.yaml"
    script.write_text("- {purpose: route.choose, match: Note, output: {choice: note}, repeat: true}\n")
    svc.save_config(SwarmConfig(id="notes", name="notes", llm=LLMSettings(script_path=str(script))))
    return "notes"


@pytest.fixture
def notes_svc(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> SwarmService:
    service = make_service(backend, tmp_path, request, registry=_registry())
    yield service  # type: ignore[misc]
    service.close()


async def test_steps_write_and_read_files_and_the_fold_gives_the_space_at_every_seq(
        notes_svc: SwarmService, tmp_path: Path) -> None:
    svc = notes_svc
    cid = _config(svc, tmp_path)
    goal = ("Note one | notes/plan.md: first plan | data/a.txt: alpha\n"
            "Note two | notes/plan.md: second plan | notes/deep/b.md: beta")
    s = svc.create_swarm("u1", goal, config_id=cid)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id) is SwarmStatus.COMPLETED
    state = svc.state(s.id)
    history = svc.history(s.id).events
    assert fold(history, SwarmState(swarm_id=s.id)) == state
    assert sorted(state.memory) == ["data/a.txt", "notes/deep/b.md", "notes/plan.md"]
    writes = [e for e in history if e.type is EventType.MEMORY_WRITTEN]
    assert len(writes) == 4 and {e.node_id for e in writes} == {"n.1", "n.2"}
    # the second node overwrote notes/plan.md: one path, the newer version, written by n.2
    plan = state.memory["notes/plan.md"]
    assert plan.node_id == "n.2" and plan.size == len("second plan") and plan.content_type == "text/markdown"
    assert svc.memory_file(s.id, "notes/plan.md")[1] == b"second plan"
    # at every seq the listing is the fold's memory space, and each file reads as it was then
    for seq in range(0, state.seq + 1):
        listing = svc.memory(s.id, at=seq)
        folded = fold(history[:seq], SwarmState(swarm_id=s.id)).memory
        assert listing.seq == seq and [f.path for f in listing.files] == sorted(folded)
        assert {f.path: f for f in listing.files} == folded
        assert svc.state_at(s.id, seq).memory == folded
    first_write = writes[0].seq
    old = svc.memory(s.id, at=first_write)
    assert [f.path for f in old.files] == ["notes/plan.md"]
    assert svc.memory_file(s.id, "notes/plan.md", at=first_write)[1] == b"first plan"
    assert svc.memory(s.id, at=first_write - 1).files == []
    with pytest.raises(MemoryFileNotFound):
        svc.memory_file(s.id, "notes/deep/b.md", at=first_write)
    # the report of the second node read every file back through ctx.memory
    assert state.nodes["n.2"].report == ("data/a.txt=alpha; notes/deep/b.md=beta; notes/plan.md=second plan")
    with pytest.raises(InvalidInput):
        svc.memory(s.id, at=state.seq + 1)
    with pytest.raises(SwarmNotFound):
        svc.memory(s.id, owner_id="someone-else")
    with pytest.raises(SwarmNotFound):
        svc.memory_file(s.id, "notes/plan.md", owner_id="someone-else")


async def test_search_by_name_and_content(notes_svc: SwarmService, tmp_path: Path) -> None:
    svc = notes_svc
    s = svc.create_swarm("u1", "Note | a/recipe.md: sugar and Butter | b/shopping.txt: eggs", config_id=_config(
        svc, tmp_path))
    svc.spawn(s.id)
    await run_answering(svc, s.id)
    svc.upload_memory(s.id, [Upload("pic.png", "image/png", PNG)])
    from datetime import UTC, datetime

    from aga_swarm.engine.memory import MemoryAccess
    from aga_swarm.engine.tx import SwarmTx

    with svc.db.tx() as conn:
        access = MemoryAccess(SwarmTx(conn, s.id, datetime.now(UTC)), svc.engine.blobs, None)
        by_content = access.search("butter")
        by_name = access.search("SHOPPING")
        by_image_name = access.search("pic")
        nothing = access.search("caviar")
        with pytest.raises(InvalidInput):
            access.search("  ")
        with pytest.raises(MemoryFileNotFound):
            access.read("missing.md")
        with pytest.raises(InvalidInput, match="not a text file"):
            access.read("uploads/pic.png")
    assert [(h.path, h.lines) for h in by_content] == [("a/recipe.md", ["sugar and Butter"])]
    assert [h.path for h in by_name] == ["b/shopping.txt"] and by_name[0].lines == []
    assert [h.path for h in by_image_name] == ["uploads/pic.png"]
    assert nothing == []


@pytest.mark.parametrize("bad", ["", "/", "a//b", "../x", "a/../b", "a/./b", "a\\b", "a\x00b", "x" * 501,
                                 "/".join("a" * 33), "dir /x"])
def test_bad_paths_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        memory.clean_path(bad)


def test_good_paths_are_kept() -> None:
    assert memory.clean_path("/notes/plan.md") == "notes/plan.md"
    assert memory.clean_path("Ünïcode dir/file name.md") == "Ünïcode dir/file name.md"
    assert memory.upload_path("uploads", "C:\\Users\\me\\photo.png") == "uploads/photo.png"
    assert memory.upload_path("uploads", "../../etc/passwd") == "uploads/passwd"


def test_upload_checks_type_against_the_bytes() -> None:
    allowed = frozenset(memory.DEFAULT_UPLOAD_TYPES)

    def check(name: str, declared: str | None, data: bytes) -> str:
        return memory.check_upload(name, declared, data, allowed=allowed, max_bytes=1000)

    assert check("p.png", None, PNG) == "image/png"
    assert check("p.bin", "image/png", PNG) == "image/png"
    assert check("notes.md", "application/octet-stream", b"# hi") == "text/markdown"
    assert check("data.json", "application/json; charset=utf-8", b'{"a": 1}') == "application/json"
    for name, declared, data, reason in [
        ("p.png", None, b"just text", "bytes are not"),                  # a name that lies
        ("p.txt", None, PNG, "not text"),                                  # binary posing as text
        ("page.txt", None, b"  <!DOCTYPE html><script>x</script>", "markup"),
        ("page.html", None, b"<p>hi</p>", "not accepted"),                 # not on the allowlist
        ("img.svg", None, b"<svg onload=alert(1)>", "not accepted"),
        ("x.exe", None, b"MZ\x90\x00", "not accepted"),
        ("t.txt", None, b"\xff\xfe\x00bad", "not text"),
    ]:
        with pytest.raises(UnsupportedFileType, match=reason):
            check(name, declared, data)
    with pytest.raises(FileTooLarge, match="limit is 1000 bytes"):
        check("big.txt", None, b"x" * 1001)


def test_serving_never_renders_markup() -> None:
    assert memory.serving("text/html") == ("application/octet-stream", False)
    assert memory.serving("image/svg+xml") == ("application/octet-stream", False)
    assert memory.serving("text/markdown") == ("text/markdown; charset=utf-8", True)
    assert memory.serving("image/png") == ("image/png", True)
    assert memory.serving("application/zip") == ("application/zip", False)
    assert memory.serving("bad type\r\nX-Evil: 1") == ("application/octet-stream", False)


def test_uploads_store_everything_or_nothing(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "a draft with files")
    prefix = f"users/u1/swarms/{s.id}/"
    # one bad file among good ones: nothing is stored, no event
    with pytest.raises(UnsupportedFileType):
        svc.upload_memory(s.id, [Upload("ok.md", None, b"fine"), Upload("bad.png", None, b"not an image")])
    with pytest.raises(FileTooLarge):
        svc.upload_memory(s.id, [Upload("a.md", None, b"x" * 600), Upload("b.md", None, b"y" * 600)],
                          max_request_bytes=1000)
    assert svc.memory(s.id).files == [] and svc.get_swarm(s.id).last_seq == 0
    assert svc.engine.blobs.list(prefix) == []
    # a failure after the bytes were stored (here: the commit) removes them again
    from aga_swarm.engine import tx as txmod

    original = txmod.SwarmTx.write_memory

    def broken(self: txmod.SwarmTx, *args: object, **kwargs: object) -> object:
        raise RuntimeError("store went away")

    txmod.SwarmTx.write_memory = broken  # type: ignore[method-assign,assignment]
    try:
        with pytest.raises(RuntimeError):
            svc.upload_memory(s.id, [Upload("ok.md", None, b"fine")])
    finally:
        txmod.SwarmTx.write_memory = original  # type: ignore[method-assign]
    assert svc.engine.blobs.list(prefix) == [] and svc.get_swarm(s.id).last_seq == 0
    # good files land under uploads/, written by nobody (the person), one event each, in one transaction
    written = svc.upload_memory(s.id, [Upload("ok.md", "text/markdown", b"fine"), Upload("p.png", None, PNG)])
    assert [(f.path, f.node_id, f.content_type, f.seq) for f in written] == [
        ("uploads/ok.md", None, "text/markdown", 1), ("uploads/p.png", None, "image/png", 2)]
    assert svc.memory_file(s.id, "uploads/p.png")[1] == PNG
    placed = svc.upload_memory(s.id, [Upload("x.md", None, b"placed")], path="docs/brief.md")
    assert placed[0].path == "docs/brief.md"
    with pytest.raises(InvalidInput):
        svc.upload_memory(s.id, [])
    with pytest.raises(SwarmNotFound):
        svc.upload_memory(s.id, [Upload("ok.md", None, b"fine")], owner_id="intruder")


async def test_fork_copies_the_files_of_its_point_and_delete_removes_them(svc: SwarmService) -> None:
    s = svc.create_swarm("u1", "Write a poem")
    svc.upload_memory(s.id, [Upload("one.md", None, b"v1")])
    svc.upload_memory(s.id, [Upload("one.md", None, b"v2")])
    svc.upload_memory(s.id, [Upload("two.md", None, b"2")])
    fork = svc.clone(s.id, at_seq=2)
    assert [f.path for f in svc.memory(fork.id).files] == ["uploads/one.md"]
    assert svc.memory_file(fork.id, "uploads/one.md")[1] == b"v2"
    assert svc.memory_file(fork.id, "uploads/one.md", at=1)[1] == b"v1"
    assert svc.state(fork.id).memory == svc.state_at(s.id, 2).memory
    svc.delete_swarm(s.id)  # the fork keeps its own copies
    assert svc.memory_file(fork.id, "uploads/one.md")[1] == b"v2"
    svc.delete_swarm(fork.id)
    assert svc.engine.blobs.list(f"users/u1/swarms/{fork.id}/") == []
