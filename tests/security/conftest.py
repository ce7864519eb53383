"""A practice whose every free-text field holds an attack, and browsers logged in to it.

Login helpers follow tests/blueprints/admin/conftest.py (dashboard) and
tests/blueprints/portal/conftest.py (magic link), kept here so this package stands alone.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from widget.extensions import db
from widget.models import OutboxMessage, Provider

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOADS = (SCRIPT, IMG)
PASSWORD = "correct horse battery"
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("America/New_York"))
WEEK = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}
CSRF = re.compile(r'name="(?:\w+-)?csrf_token"[^>]*value="([^"]+)"')
LINK = re.compile(r"https?://[^/\s]+(/(?:portal|confirm|manage|l|embed)/\S+)")


def evil(label: str) -> str:
    """A field value carrying both payloads, tagged so a page that shows it can be found."""
    return f"{label}{SCRIPT}{IMG}"


def ok(response: Any) -> Any:
    assert response.status_code in (200, 201, 202), response.get_json()
    return response.get_json()


def csrf_token(http: FlaskClient, path: str) -> str:
    g.pop("csrf_token", None)
    found = CSRF.search(http.get(path).get_data(as_text=True))
    assert found, f"no form on {path}"
    return found.group(1)


def links_in_mail(recipient: str) -> list[str]:
    db.session.rollback()
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == recipient)
    ).all()
    return [m for message in messages for m in LINK.findall(message.text_body)]


def log_in_dashboard(http: FlaskClient, email: str) -> FlaskClient:
    token = csrf_token(http, "/admin/login")
    response = http.post(
        "/admin/login", data={"csrf_token": token, "email": email, "password": PASSWORD}
    )
    assert response.status_code == 302
    return http


def log_in_portal(http: FlaskClient, slug: str, email: str) -> FlaskClient:
    path = f"/portal/{slug}/login"
    token = csrf_token(http, path)
    response = http.post(path, data={"link-csrf_token": token, "mode": "link", "link-email": email})
    assert response.status_code == 200
    magic = [p for p in links_in_mail(email) if "/login/" in p][-1]
    response = http.post(magic, data={"csrf_token": csrf_token(http, magic)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return http


@dataclass
class World:
    app: Flask
    api: Any
    provider_id: int
    provider_email: str
    slug: str
    type_id: int
    new_type_id: int
    package_id: int
    client: dict[str, Any]
    link: dict[str, Any]
    visitor_email: str
    booking_id: int
    public_booking_id: int
    paths: dict[str, list[str]] = field(default_factory=dict)

    def dashboard(self) -> FlaskClient:
        return log_in_dashboard(self.app.test_client(), self.provider_email)

    def portal(self) -> FlaskClient:
        return log_in_portal(self.app.test_client(), self.slug, self.client["email"])


@pytest.fixture
def world(app: Flask, create_provider: Any) -> World:
    """Every free-text field filled with an attack: the provider's name, a type, a package,
    a client, a credit adjustment's note, a share link's label, a public visitor's name."""
    account = create_provider(name=evil("Provider"))
    api = account.api
    provider = db.session.get(Provider, account.id)
    provider.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    db.session.commit()
    ok(api.put("/api/v1/availability", json={"weekly": WEEK}))
    slug = ok(api.get("/api/v1/settings"))["slug"]
    kind = ok(
        api.post(
            "/api/v1/appointment-types",
            json={
                "name": evil("Type"),
                "duration_minutes": 50,
                "audience": "everyone",
                "requires_credit": True,
            },
        )
    )
    new_kind = ok(
        api.post(
            "/api/v1/appointment-types",
            json={
                "name": evil("NewType"),
                "duration_minutes": 30,
                "audience": "new_clients",
                "requires_credit": False,
            },
        )
    )
    package = ok(
        api.post(
            "/api/v1/packages",
            json={
                "name": evil("Package"),
                "price_cents": 100,
                "items": [{"appointment_type_id": kind["id"], "quantity": 3}],
            },
        )
    )
    client = ok(
        api.post("/api/v1/clients", json={"email": "mia@example.com", "name": evil("Client")})
    )
    ok(api.post(f"/api/v1/clients/{client['id']}/packages", json={"package_id": package["id"]}))
    ok(
        api.post(
            f"/api/v1/clients/{client['id']}/credits/{kind['id']}/adjustments",
            json={"delta": 1, "note": evil("Note")},
        )
    )
    booking = ok(
        api.post(
            "/api/v1/bookings",
            json={
                "client_id": client["id"],
                "appointment_type_id": kind["id"],
                "start": MONDAY.isoformat(),
            },
        )
    )
    link = ok(
        api.post(
            "/api/v1/share-links",
            json={"appointment_type_ids": [new_kind["id"]], "label": evil("Label")},
        )
    )
    visitor = "visitor@example.com"
    public = app.test_client().post(
        f"/api/v1/links/{link['token']}/bookings",
        json={
            "appointment_type_id": new_kind["id"],
            "start": MONDAY.replace(hour=14).isoformat(),
            "name": evil("Visitor"),
            "email": visitor,
        },
    )
    assert public.status_code == 202, public.get_json()
    confirm = [p for p in links_in_mail(visitor) if p.startswith("/confirm/")][-1]
    assert app.test_client().get(confirm).status_code == 200
    return World(
        app=app,
        api=api,
        provider_id=account.id,
        provider_email=provider.email,
        slug=slug,
        type_id=kind["id"],
        new_type_id=new_kind["id"],
        package_id=package["id"],
        client=client,
        link=link,
        visitor_email=visitor,
        booking_id=booking["id"],
        public_booking_id=public.get_json()["booking"]["id"],
    )
