"""Cross-site request refusal and security headers, as one ASGI layer.

CSRF: the session cookie is SameSite=Lax, which still lets a cross-site ``text/plain`` POST from another
tab carry it on some browsers and on same-site subdomains. So every state-changing request (any method but
GET, HEAD and OPTIONS) that does not authenticate with ``Authorization: Bearer`` (a header another site cannot
make a browser send) must come from this origin: its ``Origin`` header, or when a browser sent none, its
``Sec-Fetch-Site`` header, must say so; otherwise 403. A request with neither header comes from no browser
and carries nothing a page could have forged. Socket.IO checks its own handshake origin.

Headers: a Content-Security-Policy without inline script (the built app has none), ``frame-ancestors 'none'``,
``X-Content-Type-Options: nosniff``, ``Referrer-Policy`` and ``X-Frame-Options`` on every response. The API
docs page (Swagger UI, from a CDN, with one inline script) gets a policy of its own that allows exactly that
script by its hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
APP_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
           "img-src 'self' data: blob: https:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
"""``style-src 'unsafe-inline'``: KaTeX and the tree position elements with style attributes (no script).
``img-src https:``: a remote image in a message loads only after a click on its placeholder."""
DOCS_PATH = "/api/docs"
DOCS_CDN = "https://cdn.jsdelivr.net"
STATIC_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def origin_allowed(origin: str, *, host: str, forwarded_host: str | None, forwarded_proto: str | None,
                   scheme: str, extra: Iterable[str] = ()) -> bool:
    """Is ``origin`` this server itself (as the browser addressed it) or one the operator listed?"""
    if origin in extra:
        return True
    shown_host = (forwarded_host or host or "").split(",")[0].strip()
    if not shown_host:
        return False
    proto = (forwarded_proto or scheme or "http").split(",")[0].strip()
    return origin in {f"{proto}://{shown_host}", f"http://{shown_host}", f"https://{shown_host}"}


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}


def is_cross_site(scope: Scope, extra_origins: Iterable[str]) -> bool:
    """A state-changing request that a page on another site could have made with the session cookie."""
    if scope.get("method", "GET") in SAFE_METHODS:
        return False
    headers = _headers(scope)
    scheme_word, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme_word.lower() == "bearer" and credentials.strip():
        return False
    origin = headers.get("origin")
    if origin is not None:
        return not origin_allowed(origin, host=headers.get("host", ""),
                                  forwarded_host=headers.get("x-forwarded-host"),
                                  forwarded_proto=headers.get("x-forwarded-proto"),
                                  scheme=str(scope.get("scheme", "http")), extra=extra_origins)
    site = headers.get("sec-fetch-site")
    return site is not None and site not in ("same-origin", "none")


def _csp_hash(script: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"


def docs_csp(body: bytes) -> str:
    """The docs page's policy: the CDN's script and styles, and its inline scripts by hash only."""
    hashes = " ".join(_csp_hash(m.group(1)) for m in _SCRIPT.finditer(body))
    return (f"default-src 'self'; script-src 'self' {DOCS_CDN} {hashes}; style-src 'self' {DOCS_CDN}; "
            f"img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; frame-ancestors 'none'")


class SecurityLayer:
    """Refuses cross-site state changes (403) and adds the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, *, extra_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.extra_origins = frozenset(extra_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if not path.startswith("/socket.io") and is_cross_site(scope, self.extra_origins):
            await _refuse(send)
            return
        if path == DOCS_PATH:
            await self._docs(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = message.get("headers", [])
                have = {name.lower() for name, _ in own}  # a route's own (stricter) header stays the only one
                message["headers"] = [*own, *((k, v) for k, v in [
                    *STATIC_HEADERS, (b"content-security-policy", APP_CSP.encode())] if k not in have)]
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Buffer the (small) docs page to hash its inline script into the policy."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def collect(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    body = b"".join(chunks)
                    start["headers"] = [*start.get("headers", []), *STATIC_HEADERS,
                                        (b"content-security-policy", docs_csp(body).encode())]
                    await send(start)
                    await send({"type": "http.response.body", "body": body})
            else:
                await send(message)

        await self.app(scope, receive, collect)


async def _refuse(send: Send) -> None:
    payload = json.dumps({"detail": "cross-site request refused: this origin may not change anything here"}
                         ).encode()
    await send({"type": "http.response.start", "status": 403, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
        *STATIC_HEADERS, (b"content-security-policy", APP_CSP.encode())]})
    await send({"type": "http.response.body", "body": payload})
