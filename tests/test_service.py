"""The Python API used as a script or notebook would: settings from the environment, several event loops."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aga_swarm.schemas import SwarmStatus
from aga_swarm.service import SwarmService
from aga_swarm.store.blob import scoped_key


def test_run_until_idle_in_one_asyncio_run_after_another(tmp_path: Path) -> None:
    svc = SwarmService(data_dir=tmp_path)
    try:
        first = svc.create_swarm("u", "Write a poem\nWrite a song")
        svc.spawn(first.id)
        asyncio.run(svc.run_until_idle(first.id))
        second = svc.create_swarm("u", "Write a haiku")
        svc.spawn(second.id)
        asyncio.run(svc.run_until_idle(second.id))  # a new loop: the runner's wake-up event was bound to the old
        assert svc.get_swarm(first.id).status is SwarmStatus.COMPLETED
        assert svc.get_swarm(second.id).status is SwarmStatus.COMPLETED
    finally:
        svc.close()


@pytest.mark.postgres
def test_service_reads_db_and_blob_urls_from_the_environment(tmp_path: Path, pg_url: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    blobs = tmp_path / "env-blobs"
    monkeypatch.setenv("AGA_SWARM_DB_URL", pg_url)
    monkeypatch.setenv("AGA_SWARM_BLOB_URL", str(blobs))
    svc = SwarmService(data_dir=tmp_path / "data")
    try:
        assert svc.db.url.startswith("postgresql")
        swarm = svc.create_swarm("u", "Write a poem")
        svc.spawn(swarm.id)
        asyncio.run(svc.run_until_idle(swarm.id))
        svc.engine.blobs.put(scoped_key("u", swarm.id, "probe.txt"), b"here")
    finally:
        svc.close()
    assert (blobs / "users" / "u" / "swarms" / swarm.id / "probe.txt").read_bytes() == b"here"
    assert not (tmp_path / "data" / "swarm.db").exists()
    other = SwarmService(db_url=pg_url, blob_url=str(tmp_path / "b2"), data_dir=tmp_path / "d2")
    try:
        assert other.get_swarm(swarm.id).status is SwarmStatus.COMPLETED  # it is in PostgreSQL
    finally:
        other.close()
