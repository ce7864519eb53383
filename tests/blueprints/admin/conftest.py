"""A provider logged in to the dashboard through its login form, and ways to read its pages."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from widget.extensions import db
from widget.models import Provider

PASSWORD = "correct horse battery"
NEW_YORK = ZoneInfo("America/New_York")
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=NEW_YORK)
WEEK = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def words(html: str) -> str:
    """The page's text as a reader sees it: no tags, single spaces."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def field_error(html: str, field_id: str) -> str | None:
    """The error shown beside a field, which the field points to with aria-describedby."""
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', html)
    if match is None:
        return None
    tag = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{re.escape(field_id)}"[^>]*>', html)
    assert tag and f'aria-describedby="{field_id}-error"' in tag.group(0)
    return unescape(match.group(1))


def value_of(html: str, field_id: str) -> str:
    """What a field shows: an input's value, a textarea's text, a select's chosen option."""
    tag = re.search(rf'<(input|select|textarea)\b[^>]*\bid="{re.escape(field_id)}"[^>]*>', html)
    assert tag, f"no field {field_id}"
    kind = tag.group(1)
    rest = html[tag.end() :]
    if kind == "textarea":
        return unescape(rest[: rest.index("</textarea>")]).strip("\r\n")
    if kind == "select":
        options = rest[: rest.index("</select>")]
        chosen = re.search(r'<option selected value="([^"]*)"', options)
        return unescape(chosen.group(1)) if chosen else ""
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return unescape(value.group(1)) if value else ""


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    """A start on Monday 30 November (or `day` days later), New York time."""
    return MONDAY + timedelta(days=day, hours=hour - 9, minutes=minute)


@dataclass
class Dashboard:
    """A browser logged in as the provider: GETs, and POSTs that carry the CSRF token."""

    http: FlaskClient
    token: str

    def get(self, path: str, **query: Any) -> TestResponse:
        return self.http.get(path, query_string=query or None)

    def page(self, path: str, **query: Any) -> str:
        response = self.get(path, **query)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)

    def post(self, path: str, data: dict[str, Any] | None = None) -> TestResponse:
        return self.http.post(path, data={"csrf_token": self.token, **(data or {})})

    def follow(self, path: str, data: dict[str, Any] | None = None) -> str:
        """POST, expect a redirect, and return the page it leads to (with its flash)."""
        response = self.post(path, data)
        assert response.status_code == 302, (response.status_code, words(response.get_data(True)))
        return self.page(response.headers["Location"])


def log_in(http: FlaskClient, email: str, password: str) -> TestResponse:
    token = csrf_token(http.get("/admin/login").get_data(as_text=True))
    return http.post(
        "/admin/login", data={"csrf_token": token, "email": email, "password": password}
    )


@pytest.fixture
def with_password(provider: Any) -> Provider:
    """A cheap hash: the login is under test elsewhere, speed matters here."""
    account = db.session.get(Provider, provider.id)
    account.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    db.session.commit()
    return account


@pytest.fixture
def dashboard(app: Flask, with_password: Provider) -> Dashboard:
    http = app.test_client()
    assert log_in(http, with_password.email, PASSWORD).status_code == 302
    return Dashboard(http, csrf_token(http.get("/admin/").get_data(as_text=True)))


@pytest.fixture
def open_week(api: Any) -> None:
    assert api.put("/api/v1/availability", json={"weekly": WEEK}).status_code == 200


@pytest.fixture
def grace(make_client: Any) -> dict[str, Any]:
    return dict(make_client(name="Grace Hopper", email="grace@example.com"))


@pytest.fixture
def spring(make_package: Any, follow_up: dict[str, Any]) -> dict[str, Any]:
    return dict(make_package([{"appointment_type_id": follow_up["id"], "quantity": 4}]))
