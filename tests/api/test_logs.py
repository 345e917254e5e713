"""A server's logs are structured JSON, carry the request fields, and contain no password, token or cookie.

This test needs no order: it checks a server of its own that it stops itself. Every other test's server is
checked the same way when it stops (``Server.stop`` -> ``check_log``)."""

from __future__ import annotations

from .conftest import ApiBackend
from .helpers import Secrets, check_log, new_password, signup


async def test_logs_are_structured_and_secret_free(api_backend: ApiBackend) -> None:
    server = api_backend.start("logs")
    try:
        password = new_password()
        acct = await signup(server, password=password)  # one of everything in this server's log
        async with acct.http() as http:
            await http.get("/api/me")
            await http.post("/api/auth/login", json={"username": acct.username, "password": "not-the-password"})
        assert password in Secrets.passwords and acct.token in Secrets.tokens
    finally:
        server.stop()  # checks the log too
    records = check_log(server.log_path)
    requests = [r for r in records if r["logger"] == "aga_swarm.server.access"]
    assert any(r["path"] == "/api/me" and r["user_id"] == acct.id and r["status"] == 200 for r in requests)
    assert any(r["path"] == "/api/auth/login" and r["status"] == 401 for r in requests)
    text = server.log_path.read_text()
    for secret in (password, acct.token, "not-the-password"):
        assert secret not in text
