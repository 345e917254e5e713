"""Accounts: users with bcrypt password hashes, and opaque session tokens stored only as their SHA-256.

Passwords are pre-hashed (SHA-256, base64) before bcrypt so that every byte of a long password counts
(bcrypt alone reads only the first 72 bytes, and bcrypt>=5 refuses longer input) and NUL bytes are harmless.
Usernames are unique case-insensitively through ``username_key`` (the lower-cased name).

Every function takes the :class:`Database`; none of them logs a password or a token.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bcrypt
from pydantic import Field
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..schemas.common import Model
from . import sql
from . import tables as t
from .database import Database

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
USERNAME_PATTERN = USERNAME_RE.pattern
PASSWORD_MIN = 8
PASSWORD_MAX = 256
DEFAULT_SESSION_TTL = 7 * 24 * 3600.0
DEFAULT_BCRYPT_ROUNDS = 12


class AccountError(Exception):
    """Base of the typed account errors; the message is fit to show a user."""


class UsernameTaken(AccountError):
    def __init__(self) -> None:
        super().__init__("username taken")


class BadCredentials(AccountError):
    def __init__(self) -> None:
        super().__init__("wrong username or password")


class InvalidUsername(AccountError):
    def __init__(self) -> None:
        super().__init__("a username is 3 to 32 characters: letters, digits, '_', '.' or '-'")


class InvalidPassword(AccountError):
    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or f"a password is {PASSWORD_MIN} to {PASSWORD_MAX} characters")


class WeakPassword(InvalidPassword):
    """Long enough, but among the first a guesser would try."""


class User(Model):
    id: str
    username: str
    created_at: datetime


class Session(Model):
    user: User
    token_hash: str = Field(description="SHA-256 of the token (hex); the token itself is never stored")
    expires_at: datetime


@dataclass(frozen=True)
class IssuedSession:
    """A new session: the raw token (shown once, to the client) and its stored record."""

    token: str
    session: Session


def username_key(username: str) -> str:
    return username.lower()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8", "surrogatepass")).digest())


def hash_password(password: str, *, rounds: int = DEFAULT_BCRYPT_ROUNDS) -> str:
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode("ascii")


def check_password(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(_prehash(password), hashed.encode("ascii"))
    except ValueError:
        return False


# A real hash to compare against when the username is unknown, so both paths cost the same.
_DUMMY_HASHES: dict[int, str] = {}


def _dummy_hash(rounds: int) -> str:
    h = _DUMMY_HASHES.get(rounds)
    if h is None:
        h = _DUMMY_HASHES[rounds] = hash_password(secrets.token_hex(16), rounds=rounds)
    return h


def validate_username(username: str) -> str:
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        raise InvalidUsername()
    return username


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (``common_passwords.txt``), lower case."""
    text = (Path(__file__).parent / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def validate_password(password: str, username: str | None = None) -> str:
    """Length bounds, then the rules against guessable passwords: not blank, not the username, not one of the
    common passwords."""
    if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidPassword()
    folded = password.strip().casefold()
    if username and folded == username.strip().casefold():
        raise WeakPassword("the password must not be the username")
    if not folded:
        raise WeakPassword("the password must not be only spaces")
    if folded in common_passwords():
        raise WeakPassword("that password is one of the most common ones; choose another")
    return password


def _dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def create_user(db: Database, username: str, password: str, *, rounds: int = DEFAULT_BCRYPT_ROUNDS) -> User:
    """Create a user. Raises InvalidUsername, InvalidPassword or UsernameTaken."""
    validate_username(username)
    validate_password(password, username)
    key = username_key(username)
    with db.read() as conn:
        if conn.execute(select(t.users.c.id).where(t.users.c.username_key == key)).first() is not None:
            raise UsernameTaken()
    hashed = hash_password(password, rounds=rounds)  # slow: outside any transaction
    user = User(id="u" + uuid.uuid4().hex[:16], username=username, created_at=_dt(time.time()))
    try:
        with db.tx() as conn:
            conn.execute(insert(t.users).values(id=user.id, username=username, username_key=key,
                                                password_hash=hashed, created_at=user.created_at.timestamp()))
    except IntegrityError:  # lost a race with the same name
        raise UsernameTaken() from None
    return user


def get_user(db: Database, user_id: str) -> User | None:
    with db.read() as conn:
        row = conn.execute(select(t.users.c.id, t.users.c.username, t.users.c.created_at)
                           .where(t.users.c.id == user_id)).first()
    return None if row is None else User(id=row.id, username=row.username, created_at=_dt(row.created_at))


def authenticate(db: Database, username: str, password: str, *, rounds: int = DEFAULT_BCRYPT_ROUNDS) -> User:
    """The user with these credentials, or BadCredentials (the same error for every kind of mismatch)."""
    row = None
    if isinstance(username, str) and USERNAME_RE.match(username):
        with db.read() as conn:
            row = conn.execute(select(t.users).where(t.users.c.username_key == username_key(username))).first()
    if row is None or not isinstance(password, str) or len(password) > PASSWORD_MAX:
        check_password(str(password)[:PASSWORD_MAX], _dummy_hash(rounds))  # equal timing for unknown names
        raise BadCredentials()
    if not check_password(password, row.password_hash):
        raise BadCredentials()
    return User(id=row.id, username=row.username, created_at=_dt(row.created_at))


def create_session(db: Database, user: User, *, ttl_seconds: float = DEFAULT_SESSION_TTL) -> IssuedSession:
    """Issue a random token; only its SHA-256 is stored."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    hashed = token_hash(token)
    with db.tx() as conn:
        conn.execute(insert(t.sessions).values(token_hash=hashed, user_id=user.id, created_at=now,
                                               expires_at=now + ttl_seconds))
    return IssuedSession(token=token, session=Session(user=user, token_hash=hashed,
                                                      expires_at=_dt(now + ttl_seconds)))


_SESSION_OF = sql.Q("SELECT s.expires_at, u.id, u.username, u.created_at FROM sessions AS s "
                   "JOIN users AS u ON u.id = s.user_id WHERE s.token_hash = :token_hash")


def resolve_session(db: Database, token: str) -> Session | None:
    """The live session for a token; None when unknown, revoked or expired."""
    if not isinstance(token, str) or not token or len(token) > 512:
        return None
    hashed = token_hash(token)
    with db.raw_read() as conn:  # every active user's session, once per cache period: a prepared statement
        row = sql.fetch_one(conn, _SESSION_OF, {"token_hash": hashed})
    if row is None or row.expires_at <= time.time():
        return None
    user = User(id=row.id, username=row.username, created_at=_dt(row.created_at))
    return Session(user=user, token_hash=hashed, expires_at=_dt(row.expires_at))


def change_password(db: Database, user_id: str, current: str, new: str, *, keep_session: str | None = None,
                    rounds: int = DEFAULT_BCRYPT_ROUNDS) -> list[str]:
    """Check ``current``, set ``new`` (validated), and end every other session of the user. Returns the ended
    sessions' hashes. Raises BadCredentials or InvalidPassword."""
    with db.read() as conn:
        row = conn.execute(select(t.users).where(t.users.c.id == user_id)).first()
    if row is None or not isinstance(current, str) or not check_password(current, row.password_hash):
        raise BadCredentials()
    validate_password(new, row.username)
    if check_password(new, row.password_hash):
        raise InvalidPassword("the new password is the current one")
    hashed = hash_password(new, rounds=rounds)  # slow: outside any transaction
    with db.tx() as conn:
        conn.execute(update(t.users).where(t.users.c.id == user_id).values(password_hash=hashed))
        return _end_sessions(conn, user_id, keep_session)


def revoke_all(db: Database, user_id: str, *, keep_session: str | None = None) -> list[str]:
    """End every session of the user (but ``keep_session``, a token hash). Returns the ended ones' hashes."""
    with db.tx() as conn:
        return _end_sessions(conn, user_id, keep_session)


def _end_sessions(conn: Any, user_id: str, keep_session: str | None) -> list[str]:
    q = select(t.sessions.c.token_hash).where(t.sessions.c.user_id == user_id)
    if keep_session is not None:
        q = q.where(t.sessions.c.token_hash != keep_session)
    ended = [str(h) for h in conn.execute(q).scalars()]
    if ended:
        conn.execute(delete(t.sessions).where(t.sessions.c.token_hash.in_(ended)))
    return ended


def revoke(db: Database, token: str) -> None:
    revoke_hash(db, token_hash(token))


def revoke_hash(db: Database, hashed: str) -> None:
    with db.tx() as conn:
        conn.execute(delete(t.sessions).where(t.sessions.c.token_hash == hashed))


def live_session_hashes(db: Database, hashes: set[str]) -> set[str]:
    """Which of these session hashes are still valid (for dropping sockets of ended sessions)."""
    if not hashes:
        return set()
    now = time.time()
    with db.read() as conn:
        found = conn.execute(select(t.sessions.c.token_hash).where(
            t.sessions.c.token_hash.in_(hashes), t.sessions.c.expires_at > now)).scalars().all()
    return set(found)


def purge_expired(db: Database) -> int:
    with db.tx() as conn:
        res = conn.execute(delete(t.sessions).where(t.sessions.c.expires_at <= time.time()))
    return int(res.rowcount or 0)


__all__ = [
    "PASSWORD_MAX",
    "PASSWORD_MIN",
    "USERNAME_PATTERN",
    "AccountError",
    "BadCredentials",
    "InvalidPassword",
    "InvalidUsername",
    "IssuedSession",
    "Session",
    "User",
    "UsernameTaken",
    "WeakPassword",
    "authenticate",
    "change_password",
    "common_passwords",
    "create_session",
    "create_user",
    "get_user",
    "live_session_hashes",
    "purge_expired",
    "resolve_session",
    "revoke",
    "revoke_all",
    "revoke_hash",
    "token_hash",
]
