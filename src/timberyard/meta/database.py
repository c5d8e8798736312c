"""`MetaDB`: the metadata database (SQLite file by default, PostgreSQL when clustered).

Opening it migrates the schema to the newest revision. Each public method is one short
transaction and returns frozen snapshots (see `info.py`), never ORM objects, so callers on
any thread or event loop can hold them freely.

SQLite is shared by the server and the CLI, so every connection runs in WAL mode (readers
never block the writer) with a 5 s busy timeout, and writes start with `BEGIN IMMEDIATE`:
they queue for the write lock up front instead of failing when a read turns into a write.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from timberyard.auth import password_policy, passwords
from timberyard.meta import accounts, api_keys, sessions, users
from timberyard.meta.info import (
    AccountInfo,
    InitResult,
    KeyInfo,
    NewAccount,
    RotatedKey,
    UserInfo,
)
from timberyard.meta.migrations import upgrade
from timberyard.meta.models import utcnow

BUSY_TIMEOUT_MS = 5000
T = TypeVar("T")
_WRITE = "timberyard_write"


class MetaDB:
    """Accounts, users and API keys. Thread-safe: sessions come from a connection pool."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        writer = engine.execution_options(**{_WRITE: True})
        self._read_session = sessionmaker(engine, expire_on_commit=False)
        self._write_session = sessionmaker(writer, expire_on_commit=False)

    @classmethod
    def open(cls, url: str) -> Self:
        """Connect to the database at `url`, creating and migrating it as needed."""
        engine = _create_engine(url)
        try:
            with engine.execution_options(**{_WRITE: True}).begin() as connection:
                upgrade(connection)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # accounts

    def is_initialised(self) -> bool:
        with self.reading() as session:
            return accounts.is_initialised(session)

    def initialise(
        self,
        account_name: str = "default",
        owner_email: str = "owner@localhost",
        retention_days: int = accounts.DEFAULT_RETENTION_DAYS,
    ) -> InitResult:
        """Create the first account with an owner and one key of each type.

        The owner's password is generated here and, like the key secrets, exists only in
        the returned result.
        """
        email = users.normalise_email(owner_email)
        password = secrets.token_urlsafe(18)
        password_hash = passwords.hash_password(password)
        with self.writing() as session:
            return accounts.initialise(session, account_name, email, password, password_hash, retention_days)

    def create_account(self, name: str, retention_days: int = accounts.DEFAULT_RETENTION_DAYS) -> AccountInfo:
        with self.writing() as session:
            return accounts.create_account(session, name, retention_days)

    def create_account_with_keys(self, name: str, retention_days: int = accounts.DEFAULT_RETENTION_DAYS) -> NewAccount:
        with self.writing() as session:
            return accounts.create_account_with_keys(session, name, retention_days)

    def get_account(self, account_id: str) -> AccountInfo | None:
        with self.reading() as session:
            return accounts.get_account(session, account_id)

    def list_accounts(self) -> list[AccountInfo]:
        with self.reading() as session:
            return accounts.list_accounts(session)

    # keys

    def create_key(
        self, account_id: str, type: str, name: str | None = None, role: str | None = None
    ) -> tuple[KeyInfo, str]:
        """Mint a key; the returned secret is shown once and never stored."""
        with self.writing() as session:
            return api_keys.create_key(session, account_id, type, name=name, role=role)

    def list_keys(self, account_id: str, include_revoked: bool = True) -> list[KeyInfo]:
        with self.reading() as session:
            return api_keys.list_keys(session, account_id, include_revoked)

    def revoke_key(self, account_id: str, key_id: str) -> KeyInfo:
        with self.writing() as session:
            return api_keys.revoke_key(session, account_id, key_id)

    def rotate_key(
        self,
        account_id: str,
        key_id: str,
        grace_s: int = api_keys.DEFAULT_ROTATION_GRACE_S,
        now: datetime | None = None,
    ) -> RotatedKey:
        """A successor for the key; the old secret works `grace_s` more seconds (from `now`)."""
        with self.writing() as session:
            return api_keys.rotate_key(session, account_id, key_id, grace_s, now)

    def find_key_by_secret(self, secret: str) -> KeyInfo | None:
        with self.reading() as session:
            return api_keys.find_key_by_secret(session, secret)

    def record_key_use(self, uses: Mapping[str, datetime]) -> None:
        with self.writing() as session:
            api_keys.record_key_use(session, uses)

    # users

    def add_user(self, account_id: str, email: str, password: str, role: str) -> UserInfo:
        email = users.normalise_email(email)
        users.check_role(role)
        password_policy.check_password(password, email)
        password_hash = passwords.hash_password(password)
        with self.writing() as session:
            return users.add_user(session, account_id, email, password_hash, role)

    def get_user(self, account_id: str, user_id: str) -> users.UserDetail:
        with self.reading() as session:
            return users.get_user(session, account_id, user_id)

    def user_by_email(self, email: str) -> UserInfo:
        with self.reading() as session:
            return users.user_by_email(session, users.normalise_email(email))

    def list_users(self, account_id: str | None = None) -> list[users.UserDetail]:
        with self.reading() as session:
            return users.list_users(session, account_id)

    def update_user(
        self, account_id: str, user_id: str, role: str | None = None, disabled: bool | None = None
    ) -> tuple[UserInfo, UserInfo]:
        """Change role and/or disabled; a changed user is signed out everywhere at once."""
        with self.writing() as session:
            before, after = users.update_user(session, account_id, user_id, role, disabled)
            if (before.role, before.disabled) != (after.role, after.disabled):
                sessions.end_user_sessions(session, user_id, utcnow())
            return before, after

    def transfer_owner(self, account_id: str, user_id: str) -> tuple[UserInfo | None, UserInfo]:
        """Make `user_id` the owner, the old owner an admin; both are signed out everywhere."""
        with self.writing() as session:
            old, new = users.transfer_owner(session, account_id, user_id)
            for changed in (old, new):
                if changed is not None:
                    sessions.end_user_sessions(session, changed.id, utcnow())
            return old, new

    def change_password(self, user_id: str, email: str, password: str, keep_session: str | None = None) -> None:
        """Set a new password (checked by the policy) and sign out the user's other sessions."""
        password_policy.check_password(password, email)
        password_hash = passwords.hash_password(password)
        with self.writing() as session:
            users.set_password_hash(session, user_id, password_hash)
            sessions.end_user_sessions(session, user_id, utcnow(), keep=keep_session)

    def set_totp_secret(self, user_id: str, secret: str | None) -> None:
        with self.writing() as session:
            users.set_totp_secret(session, user_id, secret)

    def set_require_two_factor(self, account_id: str, required: bool) -> bool:
        """Set the account's two-factor rule; the previous value."""
        with self.writing() as session:
            return users.set_require_two_factor(session, account_id, required)

    def verify_password(self, email: str, password: str) -> UserInfo | None:
        """The user these credentials sign in, or None (unknown email, wrong password or
        disabled user: deliberately indistinguishable to the caller)."""
        with self.reading() as session:
            found = users.find_user(session, email.strip().lower())
        if found is None:
            passwords.verify_nobody(password)
            return None
        user, password_hash = found
        if not passwords.verify_password(password_hash, password) or user.disabled:
            return None
        if passwords.needs_rehash(password_hash):
            with self.writing() as session:
                users.set_password_hash(session, user.id, passwords.hash_password(password))
        return user

    def transact(self, work: Callable[..., T], *args: Any, write: bool) -> T:
        """`work(session, *args)` in one transaction: for repositories (meta/*.py) called from
        a worker thread, e.g. `run_in_threadpool(db.transact, groups.get_group, ..., write=False)`."""
        with self.writing() if write else self.reading() as session:
            return work(session, *args)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read transaction, for the repositories (meta/*.py) this class does not wrap."""
        with self._read_session() as session, session.begin():
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE on SQLite): one per logical change."""
        with self._write_session() as session, session.begin():
            yield session


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    if parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed)
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: object) -> None:
    # Take BEGIN away from the sqlite3 module (it skips it before SELECT and DDL);
    # `_begin_sqlite` issues it for every transaction instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    # Switching a new file to WAL can fail with SQLITE_BUSY without waiting for the busy
    # timeout while another connection does the same; so wait here, up to that timeout.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _begin_sqlite(connection: Connection) -> None:
    write = connection.get_execution_options().get(_WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
