"""Extension objects, created unbound so any module can import them without an app."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, event
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


def configure_engine(engine: Engine) -> None:
    """Make SQLite write transactions safe under concurrency.

    pysqlite's own BEGIN handling is turned off so every transaction starts with
    BEGIN IMMEDIATE: a writer takes the lock before it reads, so two bookings can
    never both read "free" and both insert, and no lock upgrade can deadlock.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE")
