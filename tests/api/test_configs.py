"""Configs have owners, against a real server: a config saved from the command line used to appear in every web
user's list, ``save_config`` replaced any config of the same id whoever owned it, and a password inside
``OPENAI_BASE_URL`` was shown by ``GET /api/configs``."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from aga_swarm.schemas import LLMSettings, SwarmConfig

from .conftest import ApiBackend
from .helpers import Secrets, signup

BIN = Path(sys.executable).parent / "aga-swarm"


async def test_each_user_sees_the_built_in_configs_and_their_own_without_credentials(api_backend: ApiBackend) -> None:
    secret = f"pw-{uuid.uuid4().hex}"
    Secrets.passwords.add(secret)  # every response of every test is checked for it
    srv = api_backend.start("configs", {"OPENAI_API_KEY": "sk-not-used-here",
                                             "OPENAI_BASE_URL": f"http://proxy:{secret}@127.0.0.1:9/v1"})
    try:
        # the command line saves a config into the server's store, for its own swarms (owner "local")
        cfg = api_backend.tmp_root / f"cli-config-{api_backend.name}.yaml"
        cfg.write_text("id: from-the-cli\nname: a CLI config\nllm:\n  provider: scripted\n")
        res = subprocess.run([str(BIN), "run", "--data-dir", str(srv.data_dir), "--config-file", str(cfg),
                              "Write a haiku"], capture_output=True, text=True, timeout=120,
                             env={**srv.env, "AGA_SWARM_DATA": str(srv.data_dir)})
        assert res.returncode == 0, res.stderr
        alice, bob = await signup(srv), await signup(srv)
        # the operator's Python API (or a future route) saves two configs named alike for two users
        svc = srv.open_store()
        try:
            svc.save_config(SwarmConfig(id="mine", name="Alice's proxy", llm=LLMSettings(
                provider="openai", base_url=f"https://alice:{secret}@llm.example/v1?api-key={secret}")),
                owner_id=alice.id)
            svc.save_config(SwarmConfig(id="mine", name="Bob's", description="bob"), owner_id=bob.id)
            # saving Bob's again replaces Bob's only
            svc.save_config(SwarmConfig(id="mine", name="Bob's, again"), owner_id=bob.id)
        finally:
            svc.close()
        async with alice.http() as a, bob.http() as b:
            alice_configs = (await a.get("/api/configs")).json()
            bob_configs = (await b.get("/api/configs")).json()
            assert [c["id"] for c in alice_configs] == ["local", "openai", "mine"]
            assert [c["id"] for c in bob_configs] == ["local", "openai", "mine"]
            assert alice_configs[2]["name"] == "Alice's proxy" and bob_configs[2]["name"] == "Bob's, again"
            assert alice_configs[2]["llm"]["base_url"] == "https://alice:***@llm.example/v1?api-key=***"
            assert alice_configs[1]["llm"]["base_url"] == "http://proxy:***@127.0.0.1:9/v1"
            # nobody may use a config that is not theirs (the CLI's, say)
            r = await a.post("/api/swarms", json={"goal": "x", "config": "from-the-cli"})
            assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "config"]
            # each user's "mine" is their own
            r = await b.post("/api/swarms", json={"goal": "Write a haiku", "config": "mine"})
            assert r.status_code == 201 and r.json()["config_id"] == "mine"
            r = await b.post(f"/api/swarms/{r.json()['id']}/spawn")
            assert r.status_code == 200
        assert secret not in srv.log_text()
    finally:
        srv.stop()
