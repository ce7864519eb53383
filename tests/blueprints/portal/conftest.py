"""A provider open on weekdays, a client with two Follow-Up credits, and a way to log in.

Logging in goes the way a client does: ask for a magic link on the login page, read
it from the outbox, open it and press the button.
"""

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import select

from widget.extensions import db
from widget.models import OutboxMessage

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=NEW_YORK)
WEEK = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}
CSRF = re.compile(r'name="(?:\w+-)?csrf_token"[^>]*value="([^"]+)"')
LINK = re.compile(r"https?://[^/\s]+(/portal/\S+)")


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    """A start on Monday 30 November (or `day` days later), New York time."""
    return MONDAY + timedelta(days=day, hours=hour - 9, minutes=minute)


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def csrf_token(http: FlaskClient, path: str) -> str:
    """The token in the page's form. Requests share the test's app context, where
    Flask-WTF caches the token of whichever browser asked first: forget it, so each
    browser gets the token of its own session."""
    g.pop("csrf_token", None)
    found = CSRF.search(text(http.get(path)))
    assert found, f"no form on {path}"
    return found.group(1)


def last_link(recipient: str) -> str:
    """The path of the link in the newest email to `recipient`."""
    db.session.rollback()
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == recipient)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None, f"no email to {recipient}"
    found = LINK.search(message.text_body)
    assert found, message.text_body
    return found.group(1)


def ask_for_link(http: FlaskClient, slug: str, email: str, next_path: str | None = None) -> Any:
    path = f"/portal/{slug}/login" + (f"?{urlencode({'next': next_path})}" if next_path else "")
    token = csrf_token(http, path)
    return http.post(path, data={"link-csrf_token": token, "mode": "link", "link-email": email})


def open_link(http: FlaskClient, path: str) -> Any:
    """Open a magic link and press its button, as the client would."""
    token = csrf_token(http, path)
    return http.post(path, data={"csrf_token": token})


def log_in(http: FlaskClient, slug: str, email: str, next_path: str | None = None) -> Any:
    assert ask_for_link(http, slug, email, next_path).status_code == 200
    response = open_link(http, last_link(email))
    assert response.status_code == 302, text(response)
    return response


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.get_json()
    return dict(response.get_json())


@pytest.fixture
def provider(create_provider: Any) -> Any:
    """Named plainly, so the history reads as it would for a real practice."""
    return create_provider(name="Dr. Ada")


@pytest.fixture(autouse=True)
def open_week(api: Any) -> None:
    ok(api.put("/api/v1/availability", json={"weekly": WEEK}))


@pytest.fixture
def slug(api: Any) -> str:
    return str(ok(api.get("/api/v1/settings"))["slug"])


@pytest.fixture
def spring_reset(make_package: Any, follow_up: dict[str, Any]) -> dict[str, Any]:
    return dict(make_package([{"appointment_type_id": follow_up["id"], "quantity": 2}]))


@pytest.fixture
def customer(make_client: Any, buy: Any, spring_reset: dict[str, Any]) -> dict[str, Any]:
    """An existing client holding two Follow-Up credits."""
    person = dict(make_client(email="mia@example.com", name="Mia"))
    buy(person["id"], spring_reset["id"])
    return person


@pytest.fixture
def portal(client: FlaskClient, slug: str, customer: dict[str, Any]) -> FlaskClient:
    """The customer's browser, logged in to the portal."""
    log_in(client, slug, customer["email"])
    return client


def post(http: FlaskClient, path: str, data: dict[str, Any] | None = None) -> Any:
    """A portal form sent with the session's CSRF token, as the page's own form would."""
    token = csrf_token(http, f"/portal/{path.split('/')[2]}/")
    return http.post(path, data={"csrf_token": token, **(data or {})})


def balance(api: Any, client_id: int, type_id: int) -> int:
    return int(ok(api.get(f"/api/v1/clients/{client_id}/credits/{type_id}"))["balance"])


def book_as_provider(api: Any, client_id: int, type_id: int, start: datetime, **extra: Any) -> Any:
    body = {"client_id": client_id, "appointment_type_id": type_id, "start": start.isoformat()}
    response = api.post("/api/v1/bookings", json={**body, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()
