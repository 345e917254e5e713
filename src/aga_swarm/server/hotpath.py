"""The reply route without FastAPI's routing and dependency solving: the one request every active user sends
every few seconds.

Issue 14's load is 200 replies a second on one process. FastAPI matched each reply against the routers one by
one (five included routers, 26 route checks) and solved seven dependencies (the context, the session, the
bearer and cookie schemes of the OpenAPI document): about 40% of the event loop's CPU for a reply
(``bench/bench_scale.py``, profiled with yappi). :class:`FastReply` sits in front of the FastAPI app and
answers ``POST /api/swarms/{swarm_id}/chats/{chat_id}/messages`` with a JSON body by calling the route's own
function (``routes.chats.post_message``: the same body parsing, checks and answer), with the session resolved
here from the same cache, and errors answered by the app's own exception handlers. Everything else goes to
FastAPI untouched, and so does a reply it would answer differently: a multipart body (files), an id that is not
a valid id (FastAPI's 422), or no live session (FastAPI's 401). The route stays in FastAPI for the OpenAPI
document.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from starlette.requests import cookie_parser
from starlette.types import Receive, Scope, Send

from ..engine.errors import SwarmError
from ..store.accounts import AccountError
from .routes import chats
from .tokens import COOKIE_NAME, token_from_headers

if TYPE_CHECKING:
    from .context import ServerContext

REPLY_PATH = re.compile(r"^/api/swarms/([A-Za-z0-9._-]{1,200})/chats/([A-Za-z0-9._-]{1,200})/messages$")
"""The ids' pattern is ``models.ID_PATTERN``; a path whose ids do not match goes to FastAPI (its 422)."""


def _headers(scope: Scope) -> tuple[str | None, str | None, bool]:
    """(Authorization header, Cookie header, whether the body is multipart) from the raw headers: the first of
    each, as Starlette's ``request.headers.get`` has them."""
    authorization = cookie = content_type = None
    for name, value in scope.get("headers", ()):
        if name == b"authorization" and authorization is None:
            authorization = value.decode("latin-1")
        elif name == b"cookie" and cookie is None:
            cookie = value.decode("latin-1")
        elif name == b"content-type" and content_type is None:
            content_type = value
    return authorization, cookie, bool(content_type and content_type[:19].lower() == b"multipart/form-data")


def _cookie_token(raw: str | None) -> str | None:
    """The session cookie as ``request.cookies`` has it (Starlette's parser)."""
    if not raw or COOKIE_NAME not in raw:
        return None
    return cookie_parser(raw).get(COOKIE_NAME)


class FastReply:
    def __init__(self, api: FastAPI) -> None:
        self.api = api
        self.route = next(r for r in chats.router.routes
                          if isinstance(r, APIRoute) and r.endpoint is chats.post_message)
        self.taken = 0
        """Replies answered here (the rest went to FastAPI)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.api(scope, receive, send)
            return
        match = REPLY_PATH.match(scope.get("path", ""))
        ctx: ServerContext | None = getattr(self.api.state, "ctx", None)
        if match is None or ctx is None:
            await self.api(scope, receive, send)
            return
        authorization, cookie, multipart = _headers(scope)
        token = None if multipart else token_from_headers(authorization, _cookie_token(cookie))
        session = await ctx.resolve_session(token) if token is not None else None
        if session is None:  # files, or no live session: FastAPI answers (or refuses) as usual
            await self.api(scope, receive, send)
            return
        self.taken += 1
        scope.setdefault("state", {})["user_id"] = session.user.id  # for the request log, as the route does
        scope["route"] = self.route  # for the request's trace span name
        request = Request(scope, receive)
        try:
            response: Any = await chats.post_message(match[1], match[2], request, ctx, session.user)
        except (SwarmError, AccountError) as exc:  # what the app's handlers answer (404, 409, 413, 429, ...)
            response = await self._handled(request, exc)
        await response(scope, receive, send)

    async def _handled(self, request: Request, exc: Exception) -> Any:
        for cls in type(exc).__mro__:
            handler: Any = self.api.exception_handlers.get(cls)
            if handler is not None and cls is not Exception:
                return await handler(request, exc)
        raise exc
