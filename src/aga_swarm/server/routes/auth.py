"""Accounts: signup, login, logout (here or everywhere), password change, me."""

from __future__ import annotations

import math

from fastapi import APIRouter, HTTPException, Request, Response, status

from ...store import accounts
from ...store.accounts import User
from ..auth import (
    COOKIE_NAME,
    Ctx,
    CurrentSession,
    CurrentUser,
    clear_session_cookie,
    set_session_cookie,
    token_from_headers,
)
from ..errors import invalid
from ..models import AuthResponse, LoginBody, PasswordChangeBody, SignupBody
from .common import R401, R413

router = APIRouter(prefix="/api", tags=["auth"])



def _client(request: Request) -> str:
    return request.client.host if request.client else "-"


async def _issue(ctx: Ctx, request: Request, response: Response, user: User) -> AuthResponse:
    issued = await ctx.offload(accounts.create_session, ctx.db, user, ttl_seconds=ctx.settings.session_ttl_seconds)
    set_session_cookie(response, issued.token, max_age=ctx.settings.session_ttl_seconds,
                       secure=ctx.settings.cookie_secure)
    request.state.user_id = user.id
    return AuthResponse(user=user, token=issued.token, expires_at=issued.session.expires_at)


@router.post("/auth/signup", status_code=status.HTTP_201_CREATED, response_model=AuthResponse,
             responses={409: {"description": "Username taken"},
                        429: {"description": "Too many signups from this address; see Retry-After"},
                        503: {"description": "Too many password checks waiting; see Retry-After"}, **R413})
async def signup(body: SignupBody, ctx: Ctx, request: Request, response: Response) -> AuthResponse:
    wait = ctx.signups.attempt(_client(request))  # before the (costly) password hash
    if wait > 0:
        raise HTTPException(429, "too many signups from this address; try again later",
                            headers={"Retry-After": str(max(1, math.ceil(wait)))})
    user = await ctx.hashes.run(lambda: ctx.offload(accounts.create_user, ctx.db, body.username, body.password,
                                                    rounds=ctx.settings.bcrypt_rounds))
    return await _issue(ctx, request, response, user)


@router.post("/auth/login", response_model=AuthResponse,
             responses={401: {"description": "Wrong username or password"},
                        429: {"description": "Too many failed logins from this address; see Retry-After"},
                        503: {"description": "Too many password checks waiting; see Retry-After"}, **R413})
async def login(body: LoginBody, ctx: Ctx, request: Request, response: Response) -> AuthResponse:
    key = accounts.username_key(body.username)
    client = _client(request)
    wait, mark = ctx.limiter.attempt(key, client)  # counted now, before the hash: parallel guesses count too
    if wait > 0:
        raise HTTPException(429, "too many failed logins; try again later",
                            headers={"Retry-After": str(max(1, math.ceil(wait)))})
    user = await ctx.hashes.run(lambda: ctx.offload(accounts.authenticate, ctx.db, body.username, body.password,
                                                    rounds=ctx.settings.bcrypt_rounds))
    ctx.limiter.succeeded(key, client, mark)
    return await _issue(ctx, request, response, user)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def logout(ctx: Ctx, request: Request) -> Response:
    """Revoke the caller's session (if any) and clear the cookie. Always 204."""
    token = token_from_headers(request.headers.get("authorization"), request.cookies.get(COOKIE_NAME))
    if token:
        hashed = accounts.token_hash(token)
        ctx.forget_session(hashed)
        await ctx.offload(accounts.revoke_hash, ctx.db, hashed)
        await ctx.realtime.drop_session(hashed)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response, secure=ctx.settings.cookie_secure)
    return response


@router.post("/auth/logout-all", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=R401)
async def logout_everywhere(ctx: Ctx, session: CurrentSession) -> Response:
    """End every session of the caller, this one included, on every device; their sockets are cut at once."""
    ended: list[str] = await ctx.offload(accounts.revoke_all, ctx.db, session.user.id)
    await ctx.realtime.revoke_sessions(sorted({*ended, session.token_hash}))
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response, secure=ctx.settings.cookie_secure)
    return response


@router.post("/auth/password", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
             responses={**R401, 403: {"description": "The current password is wrong"},
                        422: {"description": "The new password is too short, blank, the username, or common"},
                        429: {"description": "Too many wrong current passwords; see Retry-After"},
                        503: {"description": "Too many password checks waiting; see Retry-After"}, **R413})
async def change_password(body: PasswordChangeBody, ctx: Ctx, session: CurrentSession,
                          request: Request) -> Response:
    """Set a new password. Every other session of the user ends (their sockets are cut); this one stays."""
    user = session.user
    key, client = accounts.username_key(user.username), _client(request)
    wait, mark = ctx.limiter.attempt(key, client)  # a stolen session must not be a way to guess the password
    if wait > 0:
        raise HTTPException(429, "too many wrong passwords; try again later",
                            headers={"Retry-After": str(max(1, math.ceil(wait)))})
    try:
        ended: list[str] = await ctx.hashes.run(lambda: ctx.offload(
            accounts.change_password, ctx.db, user.id, body.current_password, body.new_password,
            keep_session=session.token_hash, rounds=ctx.settings.bcrypt_rounds))
    except accounts.BadCredentials:
        raise HTTPException(403, "the current password is wrong") from None
    except accounts.InvalidPassword as exc:
        ctx.limiter.succeeded(key, client, mark)  # the current one was right
        return invalid(str(exc), ["body", "new_password"])
    ctx.limiter.succeeded(key, client, mark)
    await ctx.realtime.revoke_sessions(ended)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=User, responses=R401)
async def me(user: CurrentUser) -> User:
    return user
