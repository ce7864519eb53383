"""Fixtures: every test runs on SQLite, and on PostgreSQL too when WIDGET_TEST_POSTGRES_URL is set.

Each test gets a clean database on each engine: SQLite from a copy of a migrated
template file, PostgreSQL from a throwaway database (created for the run, migrated
once, truncated before each test). A PostgreSQL URL that cannot connect fails the
run: it never silently skips.
"""

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from widget import create_app, outbox
from widget.domain import providers
from widget.extensions import db

POSTGRES_URL = os.environ.get("WIDGET_TEST_POSTGRES_URL")
ENGINES = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


def app_config(database_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-key-0123456789abcdef",
        "SECRET_KEY_FALLBACKS": ["old-test-key-0123456789"],
        "WIDGET_DEVELOPMENT_KEY": False,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        **extra,
    }


def migrate(database_url: str) -> None:
    app = create_app(app_config(database_url))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "widget.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of its own for this run, on the server WIDGET_TEST_POSTGRES_URL names."""
    assert POSTGRES_URL, "WIDGET_TEST_POSTGRES_URL is not set"
    name = f"widget_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "widget.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = connection.execute(
            text(
                "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables "
                "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ).scalar_one()
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@dataclass
class Clock:
    """The app's idea of now, which a test may move."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 24, 14, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


class SettledClient(FlaskClient):
    """Closing a response waits for the courier, so a test sees the emails and webhook
    calls a request caused once it has closed the answer, as a server would have."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        response.call_on_close(lambda: outbox.courier.settle(timeout=30))
        return response


Flask.test_client_class = SettledClient  # every app a test builds, whichever fixture built it


@pytest.fixture(autouse=True)
def _courier_settled() -> Iterator[None]:
    """Nothing a test handed the courier is still being delivered when the next begins."""
    yield
    assert outbox.courier.settle(timeout=30)


@pytest.fixture
def app(database_url: str, clock: Clock) -> Iterator[Flask]:
    app = create_app(app_config(database_url, WIDGET_CLOCK=clock))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def engine_name(app: Flask) -> str:
    return str(db.engine.dialect.name)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Api:
    """The provider API as a caller sees it: JSON in, status and JSON out."""

    def __init__(self, client: FlaskClient, key: str | None) -> None:
        self.client = client
        self.key = key

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        base = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        return {**base, **(headers or {})}

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get(path, query_string=query, headers=self._headers(None))

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(path, json=json, headers=self._headers(headers))

    def patch(self, path: str, json: Any = None) -> Any:
        return self.client.patch(path, json=json, headers=self._headers(None))

    def put(self, path: str, json: Any = None) -> Any:
        return self.client.put(path, json=json, headers=self._headers(None))

    def delete(self, path: str) -> Any:
        return self.client.delete(path, headers=self._headers(None))


@dataclass
class ProviderAccount:
    id: int
    key: str
    api: Api


@pytest.fixture
def create_provider(client: FlaskClient) -> Callable[..., ProviderAccount]:
    counter = iter(range(1, 10_000))

    def create(**fields: Any) -> ProviderAccount:
        n = next(counter)
        values = {
            "name": f"Dr. Ada {n}",
            "email": f"ada{n}@example.com",
            "timezone": "America/New_York",
            **fields,
        }
        created = providers.create_provider(db.session, **values)
        db.session.commit()
        return ProviderAccount(created.provider.id, created.api_key, Api(client, created.api_key))

    return create


@pytest.fixture
def provider(create_provider: Callable[..., ProviderAccount]) -> ProviderAccount:
    return create_provider()


@pytest.fixture
def api(provider: ProviderAccount) -> Api:
    return provider.api


@pytest.fixture
def make_type(api: Api) -> Callable[..., dict[str, Any]]:
    def make(**fields: Any) -> dict[str, Any]:
        body = {
            "name": "Follow-Up",
            "duration_minutes": 50,
            "audience": "existing_clients",
            "requires_credit": True,
            **fields,
        }
        response = api.post("/api/v1/appointment-types", json=body)
        assert response.status_code == 201, response.get_json()
        return dict(response.get_json())

    return make


@pytest.fixture
def follow_up(make_type: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The type existing clients book with a credit: make_type's defaults (Follow-Up,
    50 minutes, existing clients, one credit)."""
    return make_type()


@pytest.fixture
def discovery(make_type: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The new-client type public links carry: 30 minutes, free."""
    return make_type(
        name="Discovery Call", duration_minutes=30, audience="new_clients", requires_credit=False
    )


@pytest.fixture
def make_client(api: Api) -> Callable[..., dict[str, Any]]:
    counter = iter(range(1, 10_000))

    def make(**fields: Any) -> dict[str, Any]:
        n = next(counter)
        body = {"email": f"client{n}@example.com", "name": f"Client {n}", **fields}
        response = api.post("/api/v1/clients", json=body)
        assert response.status_code == 201, response.get_json()
        return dict(response.get_json())

    return make


@pytest.fixture
def make_package(api: Api) -> Callable[..., dict[str, Any]]:
    def make(items: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
        body = {"name": "Spring Reset", "price_cents": 40000, "items": items, **fields}
        response = api.post("/api/v1/packages", json=body)
        assert response.status_code == 201, response.get_json()
        return dict(response.get_json())

    return make


@pytest.fixture
def buy(api: Api) -> Callable[[int, int], dict[str, Any]]:
    def purchase(client_id: int, package_id: int) -> dict[str, Any]:
        response = api.post(
            f"/api/v1/clients/{client_id}/packages", json={"package_id": package_id}
        )
        assert response.status_code == 201, response.get_json()
        return dict(response.get_json())

    return purchase
