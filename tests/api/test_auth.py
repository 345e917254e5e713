"""Accounts over real HTTP: signup, login, logout, me, cookies and bearer tokens, rate limit, expiry."""

from __future__ import annotations

import asyncio

import pytest
import socketio

from .conftest import ApiBackend
from .helpers import Recorder, Secrets, Server, client, new_password, new_username, signup


async def test_signup_login_me_logout(server: Server) -> None:
    username, password = new_username("Alice"), new_password()
    async with client(server) as c:
        r = await c.post("/api/auth/signup", json={"username": username, "password": password})
        assert r.status_code == 201
        body = r.json()
        Secrets.tokens.add(body["token"])
        assert set(body) == {"user", "token", "expires_at"}
        assert body["user"]["username"] == username and set(body["user"]) == {"id", "username", "created_at"}
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("aga_session=") and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
        assert "Path=/" in cookie

        # the cookie alone authenticates (httpx keeps it in the client's jar)
        r = await c.get("/api/me")
        assert r.status_code == 200 and r.json() == body["user"]

        # login (with different case in the username) gives a fresh token
        r = await c.post("/api/auth/login", json={"username": username.upper(), "password": password})
        assert r.status_code == 200, r.text
        login = r.json()
        Secrets.tokens.add(login["token"])
        assert login["user"]["id"] == body["user"]["id"] and login["token"] != body["token"]

        r = await c.post("/api/auth/logout")
        assert r.status_code == 204
        assert 'aga_session=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
        r = await c.get("/api/me")
        assert r.status_code == 401

    # the signup token still works as a bearer token (logout revoked only the login session)
    async with client(server, body["token"]) as c:
        assert (await c.get("/api/me")).status_code == 200
        assert (await c.post("/api/auth/logout")).status_code == 204
        r = await c.get("/api/me")
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


async def test_bearer_and_cookie_each_work_alone(server: Server) -> None:
    acct = await signup(server)
    async with client(server, acct.token) as c:
        assert (await c.get("/api/me")).json()["id"] == acct.id
    async with client(server, cookies={"aga_session": acct.token}) as c:
        assert (await c.get("/api/me")).json()["id"] == acct.id
    async with client(server) as c:
        r = await c.get("/api/me")
        assert r.status_code == 401 and r.json() == {"detail": "not logged in"}
        r = await c.get("/api/me", headers={"Authorization": "Bearer not-a-real-token"})
        assert r.status_code == 401
        r = await c.get("/api/swarms", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert r.status_code == 401


async def test_duplicate_username_is_case_insensitive(server: Server) -> None:
    acct = await signup(server, new_username("Bob"))
    async with client(server) as c:
        for name in (acct.username, acct.username.upper(), acct.username.lower()):
            r = await c.post("/api/auth/signup", json={"username": name, "password": new_password()})
            assert r.status_code == 409 and r.json() == {"detail": "username taken"}


@pytest.mark.parametrize("body, field", [
    ({"username": "carol_ok", "password": "Zq7#"}, "password"),
    ({"username": "ab", "password": "long enough password"}, "username"),
    ({"username": "has space", "password": "long enough password"}, "username"),
    ({"username": "x" * 33, "password": "long enough password"}, "username"),
    ({"username": "carol_ok", "password": "p" * 257}, "password"),
    ({"username": "carol_ok"}, "password"),
])
async def test_signup_validation(server: Server, body: dict[str, str], field: str) -> None:
    async with client(server) as c:
        r = await c.post("/api/auth/signup", json=body)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert any(d["loc"] == ["body", field] for d in detail), detail
    assert all(set(d) == {"loc", "msg", "type"} for d in detail)  # nothing echoed back
    if "password" in body:
        assert body["password"] not in r.text


async def test_signup_rejects_extra_fields(server: Server) -> None:
    async with client(server) as c:
        r = await c.post("/api/auth/signup", json={"username": new_username(), "password": new_password(),
                                                   "id": "uadmin"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "extra_forbidden"


async def test_wrong_password_401_and_rate_limit_429(server: Server) -> None:
    acct = await signup(server)
    async with client(server) as c:
        r = await c.post("/api/auth/login", json={"username": "nobody_here", "password": "whatever1"})
        assert r.status_code == 401 and r.json() == {"detail": "wrong username or password"}
        for _ in range(5):  # AGA_SWARM_LOGIN_MAX_FAILURES defaults to 5
            r = await c.post("/api/auth/login", json={"username": acct.username, "password": "wrong-password"})
            assert r.status_code == 401
        r = await c.post("/api/auth/login", json={"username": acct.username, "password": "wrong-password"})
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1
        # even the right password waits until the window passes
        r = await c.post("/api/auth/login", json={"username": acct.username, "password": acct.password})
        assert r.status_code == 429
        # other users are not affected
        other = await signup(server)
        r = await c.post("/api/auth/login", json={"username": other.username, "password": other.password})
        assert r.status_code == 200
        Secrets.tokens.add(r.json()["token"])
    # an existing session keeps working
    async with acct.http() as c:
        assert (await c.get("/api/me")).status_code == 200


async def test_signups_per_address_are_limited_before_any_password_is_hashed(api_backend: ApiBackend) -> None:
    """Each signup costs a bcrypt hash of CPU: an address gets AGA_SWARM_SIGNUP_IP_MAX per window."""
    srv = api_backend.start("signup-limit", {"AGA_SWARM_SIGNUP_IP_MAX": "3"})
    try:
        first = {"username": new_username(), "password": new_password()}
        async with client(srv) as c:
            for body in (first, *({"username": new_username(), "password": new_password()} for _ in range(2))):
                r = await c.post("/api/auth/signup", json=body)
                assert r.status_code == 201
                Secrets.tokens.add(r.json()["token"])
            r = await c.post("/api/auth/signup", json={"username": new_username(), "password": new_password()})
            assert r.status_code == 429 and "too many signups" in r.json()["detail"]
            assert int(r.headers["retry-after"]) >= 1
            # a malformed body is refused as such; logging in is not affected
            r = await c.post("/api/auth/signup", json={"username": "x", "password": "y"})
            assert r.status_code == 422
            r = await c.post("/api/auth/login", json=first)
            assert r.status_code == 200
            Secrets.tokens.add(r.json()["token"])
    finally:
        srv.stop()


async def test_socket_handshake_requires_auth(server: Server) -> None:
    acct = await signup(server)
    for auth in (None, {"token": "bogus"}, {"token": ""}, {"nope": 1}):
        sio = socketio.AsyncClient(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sio.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=5)
        await sio.disconnect()
    # token in auth, cookie, and bearer header all work
    for kwargs in ({"token": acct.token}, {"headers": {"Cookie": f"aga_session={acct.token}"}},
                   {"headers": {"Authorization": f"Bearer {acct.token}"}}):
        rec = await Recorder(server).connect(**kwargs)  # type: ignore[arg-type]
        assert rec.sio.connected
        await rec.close()


async def test_logout_drops_open_sockets(server: Server) -> None:
    acct = await signup(server)
    rec = await Recorder(server).connect(acct.token)
    async with acct.http() as c:
        assert (await c.post("/api/auth/logout")).status_code == 204
    for _ in range(50):
        if not rec.sio.connected:
            break
        await asyncio.sleep(0.05)
    assert not rec.sio.connected


@pytest.fixture(scope="module")
def short_ttl_server(api_backend: ApiBackend):  # type: ignore[no-untyped-def]
    srv = api_backend.start("ttl", {"AGA_SWARM_SESSION_TTL_SECONDS": "1"})
    yield srv
    srv.stop()


async def test_session_expiry(short_ttl_server: Server) -> None:
    srv = short_ttl_server
    acct = await signup(srv)
    rec = await Recorder(srv).connect(acct.token)
    async with acct.http() as c:
        assert (await c.get("/api/me")).status_code == 200
        await asyncio.sleep(1.3)
        r = await c.get("/api/me")
        assert r.status_code == 401 and "expired" in r.json()["detail"]
    sio = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(srv.url, auth={"token": acct.token}, transports=["websocket"], wait_timeout=5)
    await sio.disconnect()
    # the socket opened before expiry is dropped by the periodic sweep
    for _ in range(60):
        if not rec.sio.connected:
            break
        await asyncio.sleep(0.05)
    assert not rec.sio.connected


async def test_parallel_login_guesses_meet_the_limit_and_lock_only_that_address(api_backend: ApiBackend) -> None:
    """40 simultaneous wrong logins for one user used to give 40 x 401: the limit was checked before the hash
    and counted after it. The lock is on the (address, user) pair, so the owner can
    still log in from an address that has not been guessing."""
    import httpx

    srv = api_backend.start("login-burst", {"AGA_SWARM_BCRYPT_ROUNDS": "10"})
    try:
        acct = await signup(srv)
        max_failures = 5  # AGA_SWARM_LOGIN_MAX_FAILURES' default
        # all wrong: a right password among them resets the pair if its hash happens to finish last, so the
        # lock-out asserted below would depend on the order the hashes finish in
        bodies = [{"username": acct.username, "password": f"wrong-guess-{i}"} for i in range(40)]
        async with client(srv) as c:
            answers = await asyncio.gather(*(c.post("/api/auth/login", json=b) for b in bodies))
            statuses = [r.status_code for r in answers]
            for r in answers:
                if r.status_code == 200:
                    Secrets.tokens.add(r.json()["token"])
            assert set(statuses) <= {200, 401, 429}, statuses
            # at most max_failures attempts get past the limit; every other one is refused before any hash
            assert statuses.count(429) >= len(bodies) - max_failures, statuses
            assert 1 <= statuses.count(401) <= max_failures, statuses
            assert 200 not in statuses
            assert all(int(r.headers["retry-after"]) >= 1 for r in answers if r.status_code == 429)
            r = await c.post("/api/auth/login", json={"username": acct.username, "password": acct.password})
            assert r.status_code == 429  # this address is locked out for this user
        other_address = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
        async with client(srv, transport=other_address) as c:
            r = await c.post("/api/auth/login", json={"username": acct.username, "password": acct.password})
            assert r.status_code == 200, r.text
            Secrets.tokens.add(r.json()["token"])
            assert r.json()["user"]["id"] == acct.id
    finally:
        srv.stop()
