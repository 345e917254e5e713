"""Who is calling: the `aga_session` cookie or an `Authorization: Bearer` token, resolved to a live session."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from ..store.accounts import Session, User
from .context import ServerContext, get_ctx
from .tokens import COOKIE_NAME, token_from_headers

__all__ = ["COOKIE_NAME", "Ctx", "CurrentSession", "CurrentUser", "clear_session_cookie", "current_session",
           "current_user", "set_session_cookie", "token_from_headers", "unauthorized"]

bearer_scheme = HTTPBearer(auto_error=False, scheme_name="bearer",
                           description="The token from signup/login")
cookie_scheme = APIKeyCookie(name=COOKIE_NAME, auto_error=False, scheme_name="cookie",
                             description="Set by signup/login (httpOnly, SameSite=Lax)")


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def current_session(
    request: Request,
    ctx: Annotated[ServerContext, Depends(get_ctx)],
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    _cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> Session:
    token = token_from_headers(request.headers.get("authorization"), request.cookies.get(COOKIE_NAME))
    if token is None:
        raise unauthorized("not logged in")
    session = await ctx.resolve_session(token)
    if session is None:
        raise unauthorized("session expired or revoked; log in again")
    request.state.user_id = session.user.id
    return session


async def current_user(session: Annotated[Session, Depends(current_session)]) -> User:
    return session.user


CurrentUser = Annotated[User, Depends(current_user)]
CurrentSession = Annotated[Session, Depends(current_session)]
Ctx = Annotated[ServerContext, Depends(get_ctx)]


def set_session_cookie(response: Response, token: str, *, max_age: float, secure: bool) -> None:
    response.set_cookie(COOKIE_NAME, token, max_age=int(max_age), httponly=True, samesite="lax", path="/",
                        secure=secure)


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=secure)
