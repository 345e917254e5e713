"""Cross-site requests and security headers, against a real server.

A page on another site can make the browser send the session cookie with a form or a ``text/plain`` fetch;
such a request used to pause, resume, spawn or clone a swarm. Now every state-changing request that does not
carry a bearer token must come from the server's own origin."""

from __future__ import annotations

import base64
import hashlib
import re

from .helpers import Secrets, Server, client, create_swarm, signup

EVIL = "https://evil.example"


async def test_a_cross_site_post_with_the_cookie_changes_nothing(server: Server) -> None:
    acct = await signup(server)
    async with acct.http() as h:
        running = await create_swarm(h, "Ask the user for a colour")
        draft = await create_swarm(h, "A draft", spawn=False)
    cookie = {"aga_session": acct.token}
    forged = {"Origin": EVIL, "Content-Type": "text/plain"}
    async with client(server, cookies=cookie) as c:
        for path in (f"/api/swarms/{running['id']}/pause", f"/api/swarms/{draft['id']}/spawn",
                     f"/api/swarms/{running['id']}/clone"):
            r = await c.post(path, headers=forged, content="{}")
            assert r.status_code == 403, (path, r.status_code, r.text)
            assert "cross-site" in r.json()["detail"]
        r = await c.delete(f"/api/swarms/{draft['id']}", headers={"Origin": EVIL})
        assert r.status_code == 403
        # no Origin, but the browser says the request came from another site
        r = await c.post(f"/api/swarms/{running['id']}/pause", headers={"Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 403
        r = await c.post(f"/api/swarms/{running['id']}/pause", headers={"Sec-Fetch-Site": "same-site"})
        assert r.status_code == 403  # a sibling subdomain is another site for this purpose
        r = await c.post(f"/api/swarms/{running['id']}/pause", headers={"Origin": "null"})
        assert r.status_code == 403
        # nothing changed
        assert (await c.get(f"/api/swarms/{running['id']}")).json()["status"] == "running"
        assert (await c.get(f"/api/swarms/{draft['id']}")).json()["status"] == "draft"
        assert len((await c.get("/api/swarms")).json()["items"]) == 2
        # reads are not refused: a cross-site page cannot read the answer anyway (no CORS)
        assert (await c.get("/api/me", headers={"Origin": EVIL})).status_code == 200
        # the app itself (same origin) may
        same = {"Origin": server.url, "Sec-Fetch-Site": "same-origin"}
        r = await c.post(f"/api/swarms/{running['id']}/pause", headers=same)
        assert r.status_code == 200 and r.json()["status"] == "paused"
        r = await c.post(f"/api/swarms/{running['id']}/resume", headers={"Sec-Fetch-Site": "same-origin"})
        assert r.status_code == 200
    # a bearer token cannot be sent by another site's page, so its requests are not CSRF-able
    async with client(server, acct.token) as c:
        r = await c.post(f"/api/swarms/{running['id']}/pause", headers={"Origin": EVIL})
        assert r.status_code == 200


async def test_login_and_signup_from_another_site_are_refused(server: Server) -> None:
    acct = await signup(server)
    async with client(server) as c:
        r = await c.post("/api/auth/login", json={"username": acct.username, "password": acct.password},
                         headers={"Origin": EVIL})
        assert r.status_code == 403 and "set-cookie" not in r.headers
        r = await c.post("/api/auth/signup", json={"username": "csrf_victim_1", "password": "a long password"},
                         headers={"Origin": EVIL})
        assert r.status_code == 403
        r = await c.post("/api/auth/login", json={"username": acct.username, "password": acct.password},
                         headers={"Origin": server.url})
        assert r.status_code == 200
        Secrets.tokens.add(r.json()["token"])


def _directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


async def test_security_headers_on_the_app_the_api_and_errors(server: Server) -> None:
    acct = await signup(server)
    async with acct.http() as c:
        for path in ("/", "/swarms", "/api/me", "/api/swarms/nope", "/healthz"):
            r = await c.get(path)
            csp = _directives(r.headers["content-security-policy"])
            assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"], path
            assert csp["script-src"] == ["'self'"] and csp["default-src"] == ["'self'"]
            assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["referrer-policy"] == "same-origin"
            assert r.headers["x-frame-options"] == "DENY"


async def test_the_api_docs_page_allows_only_its_own_inline_script(server: Server) -> None:
    async with client(server) as c:
        r = await c.get("/api/docs")
    assert r.status_code == 200
    scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", r.text, re.DOTALL)
    assert scripts
    script_src = _directives(r.headers["content-security-policy"])["script-src"]
    assert "'unsafe-inline'" not in script_src
    for body in scripts:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src
