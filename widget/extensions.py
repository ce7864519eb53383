"""Extension objects, created unbound so any module can import them without an app."""

import select
from collections.abc import Callable
from typing import Any, TypeVar

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


# Objects stay readable after commit: rendering an answer must not start a new transaction.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
# Storage and on/off come from RATELIMIT_STORAGE_URI and RATELIMIT_ENABLED (config.py).
limiter = Limiter(get_remote_address)
# Every form POST carries a CSRF token; the API (bearer keys) and the cookie-less public
# booking flow (signed form tokens) are exempted where their blueprints are registered.
csrf = CSRFProtect()

SQLITE_BUSY_TIMEOUT_SECONDS = 30
View = TypeVar("View", bound=Callable[..., Any])


def reads_only(view: View) -> View:
    """Mark a view that never writes: on PostgreSQL it runs outside a transaction.

    Under READ COMMITTED each statement has its own snapshot either way, and the BEGIN
    and ROLLBACK round trips saved are a tenth of a slot request. Never on a view that
    writes: each of its statements would commit on its own.
    """
    view.reads_only = True  # type: ignore[attr-defined]
    return view


def read_without_transaction(view: Callable[..., Any] | None) -> None:
    """Before a request: start the session in autocommit mode for a `reads_only` view."""
    if getattr(view, "reads_only", False) and db.engine.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _lower(text: str | None) -> str | None:
    return None if text is None else text.lower()


def configure_engine(engine: Engine) -> None:
    """SQLite: safe write transactions; a database server: dead pooled connections replaced."""
    if engine.dialect.name == "sqlite":
        _serialise_sqlite_writes(engine)
    else:
        _replace_dead_connections(engine)


def _replace_dead_connections(engine: Engine) -> None:
    """Check a pooled connection before a request uses it, without a round trip.

    A server that restarted, an administrator who ended the session or a proxy that cut
    it has sent something on the idle connection, or closed it, so its socket reads
    ready. Only then is it pinged, and replaced if the ping fails: the first request
    after a database restart is served. SQLAlchemy's `pool_pre_ping` pings on every
    checkout, a round trip that cost a twentieth of a booking on PostgreSQL.
    """

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, _record, _proxy):  # type: ignore[no-untyped-def]
        ready, _, _ = select.select([dbapi_connection], [], [], 0)
        if ready and not _answers_ping(engine, dbapi_connection):
            raise DisconnectionError("the server closed this pooled connection")


def _answers_ping(engine: Engine, dbapi_connection: Any) -> bool:
    try:
        return bool(engine.dialect.do_ping(dbapi_connection))
    except Exception:  # noqa: BLE001 - any failure means the connection is unusable
        return False


def _serialise_sqlite_writes(engine: Engine) -> None:
    """Make SQLite write transactions safe under concurrency.

    pysqlite's own BEGIN handling is turned off so every transaction starts with
    BEGIN IMMEDIATE: a writer takes the lock before it reads, so two bookings can
    never both read "free" and both insert, and no lock upgrade can deadlock.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # SQLite's lower() folds ASCII only: a search for "ödön" must find "Ödön" here too.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE")
