"""The engine, unchanged, on object stores: snapshots and compaction go to S3 (moto) or Azure (Azurite), the
history slider reads them back, and deleting a swarm deletes its blobs."""

from __future__ import annotations

from pathlib import Path

import pytest

from aga_swarm.engine.fold import fold
from aga_swarm.schemas import SwarmState, SwarmStatus
from aga_swarm.service import SwarmService
from aga_swarm.service.composition import open_engine
from aga_swarm.store.blob import swarm_prefix
from aga_swarm.store.object_blob import ObjectBlobStore

from ..engine.helpers import run_answering
from .conftest import OpenStore


@pytest.mark.parametrize("open_store", ["s3", "azure"], indirect=True)
async def test_snapshots_compaction_and_delete_on_an_object_store(open_store: OpenStore, tmp_path: Path) -> None:
    blobs = open_store()
    assert isinstance(blobs, ObjectBlobStore)
    svc = SwarmService(open_engine(db_url=f"sqlite:///{tmp_path / 'swarm.db'}", blob_url=blobs.url))
    try:
        assert isinstance(svc.engine.blobs, ObjectBlobStore)
        swarm = svc.create_swarm("u1", "\n".join(f"task {i}" for i in range(40)))
        svc.spawn(swarm.id)
        assert await run_answering(svc, swarm.id) is SwarmStatus.COMPLETED
        events = svc.history(swarm.id).events
        at = events[-5].seq
        assert at > 256  # past the first snapshot (snapshot_every), which state_at makes and then reads
        assert svc.state_at(swarm.id, at) == fold(events[:at], SwarmState(swarm_id=swarm.id))
        keys = blobs.list(swarm_prefix("u1", swarm.id))
        assert any("snap" in k for k in keys), keys  # the snapshots live in the object store
        final = svc.state(swarm.id)
        svc.compact(swarm.id, keep=50)
        assert svc.state_at(swarm.id, final.seq) == final
        svc.delete_swarm(swarm.id)
        assert blobs.list(swarm_prefix("u1", swarm.id)) == []
    finally:
        svc.close()
