"""Pages during a database outage, on every engine: the HTML 503 page, rendered without SQL.

Every statement the app sends fails as an unreachable server would (`OperationalError`),
so a page whose rendering queried the database could not answer 503. The PostgreSQL-only
`test_database_outage` cuts a real connection; this one needs no proxy.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from tests.conftest import Api, ProviderAccount
from widget.blueprints.pages import REASONS, failure_page
from widget.extensions import db
from widget.models import Provider

SENTENCE = "Booking is unavailable for a moment; please try again in a minute."
LEAKS = ("Traceback", 'File "', "psycopg", "sqlalchemy", "OperationalError", "SELECT", "sqlite")


class Outage:
    """Fails every statement while `down`; counts the statements tried."""

    def __init__(self) -> None:
        self.down = False
        self.tried: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.tried.append(statement)
        if self.down:
            raise OperationalError(statement, {}, Exception("server closed the connection"))


@pytest.fixture
def outage(app: Flask) -> Iterator[Outage]:
    watcher = Outage()
    event.listen(db.engine, "before_cursor_execute", watcher)
    yield watcher
    event.remove(db.engine, "before_cursor_execute", watcher)


@pytest.fixture
def quiet(app: Flask) -> Flask:
    """Exceptions handled, as in production."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def _link(api: Api, make_type: Any) -> dict[str, Any]:
    kind = make_type(
        name="Intro", duration_minutes=30, audience="new_clients", requires_credit=False
    )
    response = api.post("/api/v1/share-links", json={"appointment_type_ids": [kind["id"]]})
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json())


def _assert_page(response: Any) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code == 503, text
    assert response.mimetype == "text/html"
    assert not response.is_json and '"error"' not in text
    assert SENTENCE in text
    assert 'data-reason="service_unavailable"' in text
    for leak in LEAKS:
        assert leak not in text, leak
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_answer_html_and_the_api_json_while_no_statement_succeeds(
    quiet: Flask,
    client: FlaskClient,
    api: Api,
    provider: ProviderAccount,
    make_type: Any,
    outage: Outage,
) -> None:
    link = _link(api, make_type)
    slug = db.session.get(Provider, provider.id).slug  # type: ignore[union-attr]
    db.session.remove()
    pages = [f"/l/{link['token']}", f"/embed/{link['token']}", f"/portal/{slug}/login"]
    for page in pages:
        assert client.get(page).status_code == 200, page

    outage.down = True
    outage.tried.clear()
    for page in pages:
        _assert_page(client.get(page))
    _assert_page(client.post(f"/l/{link['token']}", data={"name": "Mia"}))
    assert outage.tried, "the pages did try the database"
    answer = api.get("/api/v1/settings")
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "service_unavailable"
    assert int(answer.headers["Retry-After"]) > 0
    assert SENTENCE not in answer.get_data(as_text=True)

    outage.down = False
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert SENTENCE not in response.get_data(as_text=True)
    assert api.get("/api/v1/settings").status_code == 200


def test_the_outage_page_renders_without_the_database(app: Flask, outage: Outage) -> None:
    with app.test_request_context("/l/some-token"):
        response = failure_page("service_unavailable", 503)
    assert outage.tried == []
    assert response.status_code == 503
    assert REASONS["service_unavailable"][1] == SENTENCE
    assert SENTENCE in response.get_data(as_text=True)


def test_an_unexpected_error_on_a_page_is_the_html_error_page_and_json_on_the_api(
    quiet: Flask, client: FlaskClient, api: Api, make_type: Any, monkeypatch: Any
) -> None:
    link = _link(api, make_type)

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("a bug with a secret in it")

    monkeypatch.setattr("widget.blueprints.link_flow.open_link", broken)
    page = client.get(f"/l/{link['token']}")
    text = page.get_data(as_text=True)
    assert page.status_code == 500 and page.mimetype == "text/html", text
    assert REASONS["internal_error"][0] in text and "secret" not in text
    for leak in LEAKS:
        assert leak not in text, leak
    answer = client.get(f"/api/v1/links/{link['token']}")
    assert answer.status_code == 500
    assert answer.get_json()["error"]["code"] == "internal_error"
    assert "secret" not in answer.get_data(as_text=True)
