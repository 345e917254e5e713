"""Runs last: the servers' logs are structured JSON, carry the request fields, and contain no password,
token or cookie that any test used."""

from __future__ import annotations

import json

from .helpers import LOG_FILES, Secrets, Server, new_password, signup


async def test_logs_are_structured_and_secret_free(server: Server) -> None:
    # make sure there is at least one of everything in this server's log
    acct = await signup(server, password=new_password())
    async with acct.http() as http:
        await http.get("/api/me")
        await http.post("/api/auth/login", json={"username": acct.username, "password": "not-the-password"})
    assert Secrets.passwords and Secrets.tokens

    lines = [line for path in dict.fromkeys(LOG_FILES) for line in path.read_text(errors="replace").splitlines()]
    assert lines
    requests = []
    for line in lines:
        record = json.loads(line)  # every line is one JSON object
        assert {"ts", "level", "logger", "msg"} <= set(record)
        if record["logger"] == "aga_swarm.server.access":
            requests.append(record)
    assert requests
    for r in requests:
        assert {"method", "path", "status", "ms", "user_id", "request_id"} <= set(r)
        assert "?" not in r["path"]
    assert any(r["path"] == "/api/me" and r["user_id"] == acct.id and r["status"] == 200 for r in requests)

    text = "\n".join(lines)
    for secret in Secrets.all() | {"not-the-password"}:
        assert secret not in text, "a password or token reached a log"
    assert "aga_session=" not in text and "Bearer " not in text
