"""Sessions against real servers: sockets cut at expiry and at revocation on every process (through Redis,
with the periodic sweep out of the way, so only the push can do it), log out everywhere, password change."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from .conftest import ApiBackend
from .helpers import Account, Recorder, Secrets, Server, client, new_password, signup
from .test_redis import REDIS_URL, _redis_available

NO_SWEEP = {"AGA_SWARM_IDLE_CHECK_SECONDS": "3600"}  # the periodic checks (and the sweep) wait an hour


@pytest.fixture(scope="module")
def pair(api_backend: ApiBackend) -> Iterator[tuple[Server, Server]]:
    if not _redis_available():
        pytest.fail("Redis is not reachable at 127.0.0.1:6379")
    env = {**NO_SWEEP, "AGA_SWARM_REDIS_URL": REDIS_URL,
           "AGA_SWARM_REDIS_CHANNEL": f"aga_test_{uuid.uuid4().hex[:8]}"}
    data = api_backend.tmp_root / f"sessions-shared-data-{api_backend.name}"
    store = api_backend.new_store()
    a = api_backend.start("sessions-a", env, store=store, data_dir=data)
    b = api_backend.start("sessions-b", {**env, "AGA_SWARM_RUN_WORKERS": "false"}, store=store, data_dir=data)
    yield a, b
    b.stop()
    a.stop()
    api_backend.drop_store(store)


async def _login(server: Server, acct: Account, password: str | None = None) -> str:
    async with client(server) as c:
        r = await c.post("/api/auth/login", json={"username": acct.username, "password": password or acct.password})
        assert r.status_code == 200, r.text
    token: str = r.json()["token"]
    Secrets.tokens.add(token)
    return token


async def _cut(rec: Recorder, what: str) -> None:
    await rec.wait_for(lambda: not rec.sio.connected, 15, what)


async def test_log_out_everywhere_cuts_every_socket_on_every_process(pair: tuple[Server, Server]) -> None:
    a, b = pair
    acct = await signup(a)
    phone = await _login(b, acct)
    on_b = await Recorder(b).connect(phone)  # a socket held by process B
    on_a = await Recorder(a).connect(acct.token)
    other = await signup(a)
    bystander = await Recorder(b).connect(other.token)
    async with client(b, phone) as c:
        assert (await c.get("/api/me")).status_code == 200  # B now caches the phone's session
    async with acct.http() as c:
        r = await c.post("/api/auth/logout-all")
        assert r.status_code == 204 and "aga_session" in r.headers["set-cookie"]
    await _cut(on_a, "the socket on A to be cut")
    await _cut(on_b, "the socket on B to be cut, through Redis")
    async with client(b, phone) as c:
        assert (await c.get("/api/me")).status_code == 401  # B forgot its cached session too
    async with acct.http() as c:
        assert (await c.get("/api/me")).status_code == 401
    assert bystander.sio.connected  # another user's socket is untouched
    await bystander.close()


async def test_a_password_change_ends_the_other_sessions(pair: tuple[Server, Server]) -> None:
    a, b = pair
    acct = await signup(a)
    laptop = await _login(b, acct)
    on_b = await Recorder(b).connect(laptop)
    here = await Recorder(a).connect(acct.token)
    new = new_password()
    async with acct.http() as c:
        r = await c.post("/api/auth/password", json={"current_password": "not the password", "new_password": new})
        assert r.status_code == 403
        for weak in ("password", " " * 8, acct.username.upper()):
            r = await c.post("/api/auth/password", json={"current_password": acct.password, "new_password": weak})
            assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "new_password"], r.text
        r = await c.post("/api/auth/password", json={"current_password": acct.password, "new_password": new})
        assert r.status_code == 204
    await _cut(on_b, "the other session's socket on B to be cut")
    assert here.sio.connected
    async with acct.http() as c:
        assert (await c.get("/api/me")).status_code == 200  # the session that changed it stays
    async with client(b, laptop) as c:
        assert (await c.get("/api/me")).status_code == 401
    async with client(a) as c:
        r = await c.post("/api/auth/login", json={"username": acct.username, "password": acct.password})
        assert r.status_code == 401
    await _login(a, acct, new)
    await here.close()


async def test_a_socket_is_cut_when_its_session_expires(api_backend: ApiBackend) -> None:
    srv = api_backend.start("expiry", {**NO_SWEEP, "AGA_SWARM_SESSION_TTL_SECONDS": "5"})
    try:
        acct = await signup(srv)
        rec = await Recorder(srv).connect(acct.token)
        await _cut(rec, "the socket to be cut when its session expired")
        async with acct.http() as c:
            assert (await c.get("/api/me")).status_code == 401
    finally:
        srv.stop()


async def test_expired_sessions_are_purged(api_backend: ApiBackend) -> None:
    from sqlalchemy import create_engine, text

    srv = api_backend.start("purge", {"AGA_SWARM_SESSION_TTL_SECONDS": "1",
                                           "AGA_SWARM_SESSION_PURGE_SECONDS": "0.5"})
    try:
        acct = await signup(srv)
        await _login(srv, acct)
        engine = create_engine(srv.db_url)

        def sessions() -> int:
            with engine.connect() as conn:
                return int(conn.execute(text("SELECT count(*) FROM sessions WHERE user_id = :u"),
                                        {"u": acct.id}).scalar_one())

        rec = Recorder(srv)
        await rec.wait_for(lambda: sessions() == 0, 20, "the expired sessions to be deleted")
        engine.dispose()
    finally:
        srv.stop()


async def test_signup_refuses_guessable_passwords(pair: tuple[Server, Server]) -> None:
    a, _ = pair
    async with client(a) as c:
        for name, password in (("weak_1", "password"), ("weak_2", "12345678"), ("weak_3", " " * 8),
                               ("Weak_Four", "weak_four")):
            r = await c.post("/api/auth/signup", json={"username": name, "password": password})
            assert r.status_code == 422, (password, r.text)
            assert r.json()["detail"][0]["loc"] == ["body", "password"]
