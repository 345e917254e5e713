"""Where a caller's session token comes from: the `aga_session` cookie or an `Authorization: Bearer` header
(shared by the HTTP routes and the socket handshake)."""

from __future__ import annotations

COOKIE_NAME = "aga_session"


def token_from_headers(authorization: str | None, cookie_token: str | None) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return cookie_token or None
