"""Property-based fuzzing of every operation in /api/openapi.json (schemathesis): valid and invalid inputs,
authenticated, bounded in examples (not in time: how far a time budget gets depends on the machine's load). No
answer may be a server error."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from .conftest import ApiBackend
from .helpers import Server, awaiting_chat, create_swarm, signup

EXAMPLES = 6  # per operation and mode


@pytest.fixture(scope="module")
def fuzz_server(api_backend: ApiBackend) -> Iterator[Server]:
    """Its own server: fuzzing logins would otherwise trip the per-address login limit for other tests."""
    srv = api_backend.start("fuzz")
    yield srv
    srv.stop()


async def _prepare(srv: Server) -> dict[str, Any]:
    acct = await signup(srv)
    async with acct.http() as http:
        swarm = await create_swarm(http, "Ask the user for a colour\nWrite a note")
        chat = await awaiting_chat(http, swarm["id"])
    return {"token": acct.token, "swarm_id": swarm["id"], "chat_id": chat["id"], "node_id": chat["node_id"]}


def test_no_server_errors(fuzz_server: Server) -> None:
    known = asyncio.run(_prepare(fuzz_server))
    auth = {"Authorization": f"Bearer {known['token']}"}
    schema = schemathesis.openapi.from_url(fuzz_server.url + "/api/openapi.json")
    rng = random.Random(1234)
    failures: list[str] = []
    calls = 0
    statuses: dict[int, int] = {}

    def fuzz(operation: Any, strategy: Any) -> None:
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case: Any) -> None:
            nonlocal calls
            path_params = case.path_parameters or {}
            # half the time aim at real objects, so the fuzzing reaches past the 404s
            if path_params and case.method.upper() != "DELETE" and rng.random() < 0.5:
                for key in ("swarm_id", "chat_id", "node_id"):
                    if key in path_params:
                        path_params[key] = known[key]
            headers = {} if operation.path == "/api/auth/logout" else auth
            response = case.call(headers=headers, timeout=30)
            calls += 1
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                f"{response.text[:300]}")

        try:
            run()
        except Unsatisfiable:  # nothing to make invalid (e.g. no parameters and no body)
            pass

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, operation.as_strategy(generation_mode=mode))
    print(f"schemathesis: {calls} requests, statuses {sorted(statuses.items())}")
    assert calls > 200, f"only {calls} requests were made"
    assert not failures, "server errors:\n" + "\n".join(failures[:20])
    errors = [line for line in fuzz_server.log_text().splitlines() if '"level": "error"' in line]
    assert not errors, "the server logged errors:\n" + "\n".join(errors[:5])
