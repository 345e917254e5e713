"""Model requests stored once, by content; large bodies in the blob store; done operations pruned (migration 0008)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from aga_swarm.schemas import ContinuationKind, SwarmStatus
from aga_swarm.service import SwarmService
from aga_swarm.service.composition import open_engine
from aga_swarm.store import tables as t
from aga_swarm.store.errors import SetupError
from aga_swarm.store.payloads import REF, canonical, request_blob_key, request_key
from tests.conftest import make_service
from tests.engine.helpers import continuations_set, run_answering
from tests.migrations import alembic_on

GOAL = "Ask the user for their favourite colour\nWrite a haiku about it"


@pytest.fixture(params=[0, 1_000_000], ids=["blobs", "rows"])
def inline_bytes(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def service(backend: str, tmp_path: Path, request: pytest.FixtureRequest, inline_bytes: int) -> Iterator[SwarmService]:
    svc = make_service(backend, tmp_path, request, inline_bytes=inline_bytes)
    yield svc
    svc.close()


def _count(svc: SwarmService, table: t.Table, swarm_id: str) -> int:
    with svc.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(table.c.swarm_id == swarm_id))
                   .scalar_one())


async def test_each_request_is_stored_once_and_the_developer_log_shows_it(service: SwarmService,
                                                                          inline_bytes: int) -> None:
    svc = service
    s = svc.create_swarm("u1", GOAL)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id, {"": ["blue"]}) is SwarmStatus.COMPLETED
    events = svc.history(s.id).events
    llm_conts = [c for _, c in continuations_set(events, s.id) if c["kind"] == ContinuationKind.LLM.value]
    assert llm_conts, "the run made model calls"
    for cont in llm_conts:  # the history names each request by key; it never repeats the prompt
        assert set(cont["request"]) - {"output_step"} == {REF, "purpose", "reserve"}
    keys = {c["request"][REF] for c in llm_conts}
    with svc.db.read() as conn:
        rows = conn.execute(select(t.llm_requests).where(t.llm_requests.c.swarm_id == s.id)).all()
    assert {r.key for r in rows} == keys  # one row per distinct request, no more
    if inline_bytes == 0:
        # in the blob store where the key implies: the row holds neither body nor blob key
        assert all(r.body is None and r.blob_key is None for r in rows)
        assert all(svc.engine.blobs.get(request_blob_key(s.owner_id, s.id, r.key)) for r in rows)
    else:
        assert all(r.blob_key is None and r.body is not None for r in rows)
    for r in rows:  # keyed by content
        stored = svc.engine.requests.fetch(svc.db, s.id, r.key)
        assert request_key(canonical(stored)) == r.key

    # the developer log still shows every prompt and output
    state = svc.state(s.id)
    calls = [c for n in state.nodes for c in svc.node_detail(s.id, n).llm_calls]
    assert len(calls) == sum(1 for e in events if e.type.value == "llm_call")
    for call in calls:
        assert call.messages and call.messages[0].role == "system" and call.messages[-1].content
        assert call.raw_output and call.parsed_output is not None
    svc.engine.requests._cache.clear()  # and so it does from the store alone, as another process reads it
    again = [c for n in state.nodes for c in svc.node_detail(s.id, n).llm_calls]
    assert again == calls
    if inline_bytes == 0:  # a row written before the blob's place was implied names it, and reads the same
        first = rows[0].key
        with svc.db.tx() as conn:
            conn.execute(t.llm_requests.update().where(t.llm_requests.c.swarm_id == s.id,
                                                       t.llm_requests.c.key == first)
                         .values(blob_key=request_blob_key(s.owner_id, s.id, first)))
        svc.engine.requests._cache.clear()
        assert [c for n in state.nodes for c in svc.node_detail(s.id, n).llm_calls] == calls


async def test_done_operations_are_pruned_and_a_fork_keeps_its_prompts(service: SwarmService) -> None:
    svc = service
    s = svc.create_swarm("u1", GOAL)
    svc.spawn(s.id)
    assert await run_answering(svc, s.id, {"": ["blue"]}) is SwarmStatus.COMPLETED
    with svc.db.read() as conn:
        left = conn.execute(select(t.operations.c.status).where(t.operations.c.swarm_id == s.id)).all()
    assert left == []  # every operation ran and was done: nothing kept

    # a fork at a point where a node waits on a model call runs it from the stored request, after its source
    # (and the source's blobs) are gone
    events = svc.history(s.id).events
    at = next(e.seq for e, c in continuations_set(events, s.id) if c["kind"] == ContinuationKind.LLM.value)
    fork = svc.clone(s.id, at_seq=at)
    before = {n: svc.node_detail(fork.id, n).llm_calls for n in svc.state(fork.id).nodes}
    svc.delete_swarm(s.id)
    assert _count(svc, t.llm_requests, s.id) == 0
    svc.engine.requests._cache.clear()
    assert {n: svc.node_detail(fork.id, n).llm_calls for n in svc.state(fork.id).nodes} == before
    svc.resume(fork.id)
    assert await run_answering(svc, fork.id, {"": ["blue"]}) is SwarmStatus.COMPLETED
    assert all(c.messages for n in svc.state(fork.id).nodes for c in svc.node_detail(fork.id, n).llm_calls)


def test_the_inline_size_is_the_operators_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGA_SWARM_BLOB_INLINE_BYTES", "2048")
    with open_engine(data_dir=tmp_path) as engine:
        assert engine.requests.inline_bytes == 2048
    monkeypatch.setenv("AGA_SWARM_BLOB_INLINE_BYTES", "lots")
    with pytest.raises(SetupError, match="AGA_SWARM_BLOB_INLINE_BYTES must be a whole number"):
        open_engine(data_dir=tmp_path)


async def test_upgrading_a_0007_store_prunes_done_operations_and_runs_its_waiting_model_calls(
        tmp_path: Path, empty_pg_url: str) -> None:
    """Migration 0008: done operations go, and a model call whose continuation holds its request inline (as the
    code before it wrote them) still runs, its prompt shown in the developer log."""
    from alembic import command

    from aga_swarm.store.database import HEAD_REVISION
    from aga_swarm.store.sql import from_json, to_json

    for i, url in enumerate((f"sqlite:///{tmp_path / 'old7.db'}", empty_pg_url)):
        # a paused fork whose root waits on its planning call, its request then put back inline
        svc = SwarmService(open_engine(db_url=url, blob_url=str(tmp_path / f"blobs{i}")))
        s = svc.create_swarm("u1", GOAL)
        svc.spawn(s.id)
        assert await run_answering(svc, s.id, {"": ["blue"]}) is SwarmStatus.COMPLETED
        at = next(e.seq for e, c in continuations_set(svc.history(s.id).events, s.id) if e.node_id == "n"
                  and c["kind"] == ContinuationKind.LLM.value)
        fork = svc.clone(s.id, at_seq=at)
        with svc.db.read() as conn:
            node = from_json(conn.execute(select(t.nodes.c.data).where(
                t.nodes.c.swarm_id == fork.id, t.nodes.c.id == "n")).scalar_one())
        inline = svc.engine.requests.fetch(svc.db, fork.id, node["continuation"]["request"][REF])
        node["continuation"]["request"] = {"llm": inline, "reserve": node["continuation"]["request"]["reserve"]}
        svc.close()

        engine, cfg = alembic_on(url)
        command.downgrade(cfg, "0007")  # the table of requests goes
        with engine.begin() as conn:
            conn.execute(text("UPDATE nodes SET data = :d WHERE swarm_id = :s AND id = 'n'"),
                         {"d": to_json(node), "s": fork.id})
            conn.execute(text("INSERT INTO operations (swarm_id, node_id, kind, status, payload, attempts, idem_key, "
                              "not_before, created_at) VALUES (:s, 'n', 'spawn', 'done', '{}', 1, 'old-done', 0, 0)"),
                         {"s": s.id})
        engine.dispose()

        svc = SwarmService(open_engine(db_url=url, blob_url=str(tmp_path / f"blobs{i}")))
        try:
            assert svc.db.current_revision() == HEAD_REVISION
            with svc.db.read() as conn:
                assert conn.execute(text("SELECT count(*) FROM operations WHERE status = 'done'")).scalar() == 0
            svc.resume(fork.id)
            assert await run_answering(svc, fork.id, {"": ["blue"]}) is SwarmStatus.COMPLETED
            first = svc.node_detail(fork.id, "n").llm_calls[0]
            assert [m.model_dump(exclude_none=True) for m in first.messages] == [
                {k: v for k, v in m.items() if v is not None} for m in inline["messages"]]
        finally:
            svc.close()
