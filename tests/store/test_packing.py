"""JSON values stored compressed in SQLite rows (``AGA_SWARM_ROW_COMPRESS_BYTES``, store/packing.py): history, the
state at every seq, the rows and the developer log read back exactly what was written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest

from aga_swarm.engine.fold import fold
from aga_swarm.schemas import SwarmState, SwarmStatus
from aga_swarm.store import packing
from aga_swarm.store.database import Database
from aga_swarm.store.errors import SetupError
from tests.conftest import make_service
from tests.engine.helpers import run_answering

GOAL = "Ask the user for their favourite colour\nWrite a haiku about it"


@pytest.mark.parametrize("value", ["{}", "null", '{"a":"é ✓ \\u0000 😀"}', '{"changes":{"lifecycle":"done"}}',
                                   orjson.dumps({"x": list(range(2000))}).decode()])
def test_a_packed_value_reads_back_byte_for_byte(value: str) -> None:
    packed = packing.pack(value)
    assert packed[:1] == bytes([packing.V1]) and packing.is_packed(packed)
    assert packing.unpack(packed) == value.encode()
    assert packing.loads(packed) == orjson.loads(value) == packing.loads(value)
    assert packing.text(value) is value  # plain text passes through


def test_a_new_nodes_row_and_spawn_event_share_one_compression_and_read_back_whole() -> None:
    from aga_swarm.store import sql

    node = orjson.dumps({"id": "n.7", "directive": "leaf 7 é", "children": [], "context_down": {}} | {
        f"f{i}": None for i in range(20)}).decode()
    row, event = packing.Packer(10).spawned(node)
    assert isinstance(row, bytes) and isinstance(event, bytes) and row[1:] == event[1:]  # the same bytes
    assert row[:1] == bytes([packing.V1]) and event[:1] == bytes([packing.V1_NODE])
    assert packing.is_packed(row) and packing.is_packed(event)
    assert packing.unpack(row) == node.encode() and packing.unpack(event) == ('{"node":' + node + "}").encode()
    assert packing.loads(event) == sql.from_json(event) == {"node": orjson.loads(node)}
    assert packing.Packer(len(node) + 1).spawned(node) == (node, '{"node":' + node + "}")  # short: plain text
    assert packing.plain_spawned(node) == packing.Packer(0).spawned(node)


def test_every_event_type_has_a_code_that_reads_back() -> None:
    from aga_swarm.schemas import EventType

    codes = {packing.short_type(t.value) for t in EventType}
    assert len(codes) == len(EventType) and all(len(c) == 1 for c in codes)
    assert all(packing.long_type(packing.short_type(t.value)) == t.value == packing.long_type(t.value)
               for t in EventType)


def test_the_packer_keeps_short_values_as_text_and_a_bad_setting_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    p = packing.Packer(10)
    assert p('{"a":1}') == '{"a":1}'
    assert packing.is_packed(p('{"a":"0123456789"}'))
    with pytest.raises(ValueError, match="not a packed JSON value"):
        packing.unpack(b"{}")
    monkeypatch.setenv(packing.COMPRESS_BYTES_ENV, "-1")
    with pytest.raises(SetupError, match="AGA_SWARM_ROW_COMPRESS_BYTES must be at least 0"):
        Database("sqlite://")


def test_by_default_small_step_values_stay_text_and_developer_log_values_are_packed(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(packing.COMPRESS_BYTES_ENV, raising=False)
    db = Database(f"sqlite:///{tmp_path / 'swarm.db'}")
    try:
        p = db.pack
        assert p is not None and p.min_bytes == packing.DEFAULT_COMPRESS_BYTES > packing.LOG_MIN_BYTES
    finally:
        db.dispose()
    step = orjson.dumps({"changes": {"continuation_delta": {"context": {"i": 6, "n": 200}, "token": "n@8"}}}).decode()
    call = '{"id":"n.llm5","step":"plan.on_plan","model":"m","tokens_in":3,"tokens_out":9,"error":null}'
    assert len(call) < p.min_bytes and len(step) < p.min_bytes
    assert p.event("node_updated", step) == step and p(step) == step  # a durable step's event: plain text
    assert packing.is_packed(p.event("llm_call", call)) and packing.is_packed(p.event("tool_call", call))
    assert packing.is_packed(p.log(call)) and p.log("{}") == "{}"  # a body: packed from LOG_MIN_BYTES up
    assert packing.is_packed(p.event("node_updated", step + " " * p.min_bytes))
    off = packing.Packer(0)
    assert off.log(call) == call and off.event("llm_call", call) == call and packing.plain_event("x", call) == call


def _stored_types(db_path: Path) -> dict[str, set[str]]:
    con = sqlite3.connect(db_path)
    try:
        return {table: {r[0] for r in con.execute(f"SELECT DISTINCT typeof({column}) FROM {table}")}
                for table, column in (("events", "data"), ("nodes", "data"), ("chats", "data"), ("llm_calls", "body"))}
    finally:
        con.close()


async def test_a_swarm_on_packed_rows_reads_back_as_written(backend: str, tmp_path: Path,
                                                           request: pytest.FixtureRequest) -> None:
    # first part of the run with plain rows, the rest packed: a store holds both and reads both
    svc = make_service(backend, tmp_path, request, compress_bytes=0)
    s = svc.create_swarm("u1", GOAL)
    svc.spawn(s.id)
    await svc.run_until_idle(s.id, timeout=120)
    first = svc.get_swarm(s.id).last_seq
    svc.close()
    svc = make_service(backend, tmp_path, request, compress_bytes=1)
    try:
        assert await run_answering(svc, s.id, {"": ["blue"]}) is SwarmStatus.COMPLETED
        if backend == "sqlite":  # PostgreSQL's columns are json: never packed
            types = _stored_types(tmp_path / "swarm.db")
            assert types["events"] == {"text", "blob"} and "blob" in types["nodes"] and "blob" in types["chats"]
            assert "blob" in types["llm_calls"]  # the developer log's bodies
            con = sqlite3.connect(tmp_path / "swarm.db")  # the bytes are the JSON text the engine wrote
            raw = dict(con.execute("SELECT seq, data FROM events WHERE swarm_id = ?", (s.id,)).fetchall())
            kinds = dict(con.execute("SELECT seq, type FROM events WHERE swarm_id = ?", (s.id,)).fetchall())
            con.close()
            assert all(isinstance(v, str) for k, v in raw.items() if k <= first)
            assert all(packing.is_packed(v) for k, v in raw.items() if k > first)
            assert all(len(v) > 1 for k, v in kinds.items() if k <= first)  # the types: names, then codes
            assert all(len(v) == 1 for k, v in kinds.items() if k > first)
        else:
            assert svc.db.pack is None
        hist = svc.history(s.id)
        if backend == "sqlite":
            assert [orjson.loads(packing.text(raw[e.seq])) for e in hist.events] == [e.data for e in hist.events]
            assert [packing.long_type(kinds[e.seq]) for e in hist.events] == [e.type.value for e in hist.events]
        # a fork copies packed events, and reads the same history up to its point
        fork = svc.clone(s.id, at_seq=hist.last_seq - 5)
        assert [(e.type, e.data) for e in svc.history(fork.id).events] == [
            (e.type, e.data) for e in hist.events if e.seq <= hist.last_seq - 5]
        assert [j.model_dump(exclude={"id"}) for j in svc.node_detail(fork.id, "n").journal] == [
            j.model_dump(exclude={"id"}) for j in svc.node_detail(s.id, "n", at=hist.last_seq - 5).journal]
        state = svc.state(s.id)
        assert fold(hist.events, SwarmState(swarm_id=s.id)).model_dump() == state.model_dump()
        step = max(1, hist.last_seq // 12)
        for seq in [*range(1, hist.last_seq, step), hist.last_seq]:  # the slider, at many points
            at = svc.state_at(s.id, seq)
            expect = fold([e for e in hist.events if e.seq <= seq], SwarmState(swarm_id=s.id))
            assert at.model_dump() == expect.model_dump()
            for node_id in list(at.nodes)[:3]:  # node detail at a seq: journal and developer log
                detail = svc.node_detail(s.id, node_id, at=seq)
                assert detail.node == at.nodes[node_id]
        for node_id in state.nodes:
            detail = svc.node_detail(s.id, node_id)
            assert detail.node == state.nodes[node_id]
            assert all(c.raw_output for c in detail.llm_calls)
    finally:
        svc.close()
