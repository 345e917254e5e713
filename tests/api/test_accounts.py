"""aga_swarm.store.accounts directly: hashing, sessions stored only as hashes, expiry, revocation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from aga_swarm.store import accounts
from aga_swarm.store import tables as t
from aga_swarm.store.database import Database, sqlite_url


@pytest.fixture
def db(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Database]:
    """The accounts tables on SQLite, and on a PostgreSQL database of this test's own."""
    database = Database(request.getfixturevalue("pg_url") if backend == "postgres" else sqlite_url(tmp_path))
    yield database
    database.dispose()


def test_users_and_passwords(db: Database) -> None:
    long_pw = "é" * 200  # > 72 bytes: every byte still counts
    user = accounts.create_user(db, "Ada.L-1", long_pw, rounds=4)
    assert user.username == "Ada.L-1"
    with pytest.raises(accounts.UsernameTaken):
        accounts.create_user(db, "ada.l-1", "another password", rounds=4)
    assert accounts.authenticate(db, "ADA.L-1", long_pw, rounds=4).id == user.id
    for name, pw in (("Ada.L-1", long_pw[:-1] + "e"), ("nobody", long_pw), ("bad name!", long_pw),
                     ("Ada.L-1", "x" * 300)):
        with pytest.raises(accounts.BadCredentials):
            accounts.authenticate(db, name, pw, rounds=4)
    for name in ("ab", "x" * 33, "spa ce", "ünï"):
        with pytest.raises(accounts.InvalidUsername):
            accounts.create_user(db, name, "long enough", rounds=4)
    for pw in ("short", "p" * 257):
        with pytest.raises(accounts.InvalidPassword):
            accounts.create_user(db, "okname", pw, rounds=4)
    with db.read() as conn:
        stored = conn.execute(select(t.users.c.password_hash)).scalar_one()
    assert stored.startswith("$2b$04$") and long_pw not in stored


def test_sessions(db: Database) -> None:
    user = accounts.create_user(db, "grace", "grace's own long one", rounds=4)
    issued = accounts.create_session(db, user, ttl_seconds=60)
    with db.read() as conn:
        hashes = conn.execute(select(t.sessions.c.token_hash)).scalars().all()
    assert hashes == [accounts.token_hash(issued.token)] and issued.token not in hashes
    session = accounts.resolve_session(db, issued.token)
    assert session is not None and session.user == user
    assert accounts.resolve_session(db, issued.token + "x") is None
    assert accounts.resolve_session(db, "") is None
    assert accounts.live_session_hashes(db, {session.token_hash, "f" * 64}) == {session.token_hash}
    accounts.revoke(db, issued.token)
    assert accounts.resolve_session(db, issued.token) is None

    short = accounts.create_session(db, user, ttl_seconds=0.2)
    assert accounts.resolve_session(db, short.token) is not None
    time.sleep(0.3)
    assert accounts.resolve_session(db, short.token) is None
    assert accounts.purge_expired(db) == 1


@pytest.mark.parametrize("password, why", [
    ("password", "most common"), ("12345678", "most common"), ("Password1", "most common"),
    ("iloveyou", "most common"), (" " * 8, "only spaces"), ("\t" * 9, "only spaces"),
    ("Margaret_7", "username"), ("margaret_7", "username"),
])
def test_guessable_passwords_are_refused(db: Database, password: str, why: str) -> None:
    """The app used to accept `password`, `12345678`, eight spaces and the username itself."""
    with pytest.raises(accounts.WeakPassword) as info:
        accounts.create_user(db, "Margaret_7", password, rounds=4)
    assert why in str(info.value)
    assert password.strip() == "" or password == "password" or password not in str(info.value)  # not echoed


def test_the_common_password_list_ships_with_the_package() -> None:
    common = accounts.common_passwords()
    assert len(common) > 10_000 and {"password", "12345678", "qwertyuiop"} <= common
    assert all(len(p) >= accounts.PASSWORD_MIN and p == p.lower() for p in common)


def test_changing_the_password_ends_the_other_sessions(db: Database) -> None:
    user = accounts.create_user(db, "hopper", "first: a long password", rounds=4)
    here, there, elsewhere = (accounts.create_session(db, user, ttl_seconds=60) for _ in range(3))
    with pytest.raises(accounts.BadCredentials):
        accounts.change_password(db, user.id, "not it", "second: a long password", rounds=4)
    with pytest.raises(accounts.WeakPassword):
        accounts.change_password(db, user.id, "first: a long password", "password1", rounds=4)
    ended = accounts.change_password(db, user.id, "first: a long password", "second: a long password",
                                     keep_session=here.session.token_hash, rounds=4)
    assert sorted(ended) == sorted([there.session.token_hash, elsewhere.session.token_hash])
    assert accounts.resolve_session(db, here.token) is not None
    assert accounts.resolve_session(db, there.token) is None
    with pytest.raises(accounts.BadCredentials):
        accounts.authenticate(db, "hopper", "first: a long password", rounds=4)
    assert accounts.authenticate(db, "hopper", "second: a long password", rounds=4).id == user.id
    assert accounts.revoke_all(db, user.id) == [here.session.token_hash]
    assert accounts.resolve_session(db, here.token) is None
