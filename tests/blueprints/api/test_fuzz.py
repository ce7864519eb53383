"""Schemathesis against the app in process: no 5xx, and every answer matches the document.

Bounded for CI (a few examples per operation); a longer run is one command:

    WIDGET_FUZZ_EXAMPLES=500 python -m pytest -o addopts= tests/blueprints/api/test_fuzz.py

Runs on SQLite only (the engine matrix is covered by the route tests).
"""

import os
import shutil
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from tests.blueprints.api.helpers import invalid_fields
from tests.conftest import ProviderAccount
from widget.blueprints.api import answers
from widget.blueprints.api.openapi import PREFIX, ROUTES, build_document
from widget.extensions import db

EXAMPLES = int(os.environ.get("WIDGET_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: overrides the engine matrix of conftest for this module."""
    path = tmp_path / "widget.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def seeded(provider: ProviderAccount) -> dict[str, Any]:
    return seed(provider)


def reset(provider: ProviderAccount) -> dict[str, Any]:
    """Every row but the provider's own, then the seed again: each scenario starts alike."""
    for table in reversed(db.metadata.sorted_tables):
        if table.name not in {"providers", "api_keys"}:
            db.session.execute(table.delete())
    db.session.commit()
    return seed(provider)


def seed(provider: ProviderAccount) -> dict[str, Any]:
    """Objects with small ids, so generated ids sometimes name something real."""
    api = provider.api
    api.put(
        "/api/v1/availability",
        json={
            "weekly": {
                day: [{"start": "09:00", "end": "17:00"}]
                for day in ("mon", "tue", "wed", "thu", "fri")
            }
        },
    )
    kind = api.post(
        "/api/v1/appointment-types",
        json={
            "name": "Intro",
            "duration_minutes": 30,
            "audience": "everyone",
            "requires_credit": False,
        },
    ).get_json()
    client = api.post("/api/v1/clients", json={"email": "a@example.com", "name": "A"}).get_json()
    package = api.post(
        "/api/v1/packages",
        json={
            "name": "P",
            "price_cents": 100,
            "items": [{"appointment_type_id": kind["id"], "quantity": 3}],
        },
    ).get_json()
    api.post(f"/api/v1/clients/{client['id']}/packages", json={"package_id": package["id"]})
    booking = api.post(
        "/api/v1/bookings",
        json={
            "client_id": client["id"],
            "appointment_type_id": kind["id"],
            "start": "2026-11-30T10:00:00-05:00",
        },
    )
    assert booking.status_code == 201, booking.get_json()
    intro = api.post(
        "/api/v1/appointment-types",
        json={
            "name": "First visit",
            "duration_minutes": 30,
            "audience": "new_clients",
            "requires_credit": False,
        },
    ).get_json()
    link = api.post("/api/v1/share-links", json={"appointment_type_ids": [intro["id"]]})
    assert link.status_code == 201, link.get_json()
    api.post(
        "/api/v1/webhooks", json={"url": "https://hooks.example/x", "events": ["booking.created"]}
    )
    return {
        "token": link.get_json()["token"],
        "type_id": kind["id"],
        "booking_id": booking.get_json()["id"],
    }


OPERATIONS = [(route.method.upper(), PREFIX + route.path) for route in ROUTES]


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_api_fuzz(
    app: Flask, provider: ProviderAccount, seeded: dict[str, Any], method: str, path: str
) -> None:
    """Every operation: generated requests (valid and invalid) get no 5xx, and answers that
    match the document: a documented status, and a body of its schema."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]
    headers = {"Authorization": f"Bearer {provider.key}"}

    strategy = operation.as_strategy(GenerationMode.POSITIVE)
    if operation.body or operation.query or operation.path_parameters:
        strategy |= operation.as_strategy(GenerationMode.NEGATIVE)

    @given(case=strategy, real_token=st.booleans())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, real_token: bool) -> None:
        if real_token and "token" in (case.path_parameters or {}):
            case.path_parameters["token"] = seeded["token"]
        case.headers = {**(case.headers or {}), **headers}
        case.call_and_validate(checks=CHECKS)

    run()


STATEFUL_EXAMPLES = int(os.environ.get("WIDGET_FUZZ_STATEFUL_EXAMPLES", str(EXAMPLES)))


def test_api_stateful_through_links(
    app: Flask, provider: ProviderAccount, seeded: dict[str, Any]
) -> None:
    """Sequences that follow the document's links (create a type, then patch it; create a
    client, then sell it a package, read its credits; book, then cancel or move it...)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {provider.key}"}

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            reset(provider)

        def before_call(self, case: Any) -> None:
            case.headers = {**(case.headers or {}), **headers}

        def validate_response(self, response: Any, case: Any, *_: Any, **__: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )


# ---- the stateful sequence, each answer checked against the document -------------------


class Documented:
    """Calls the app and checks each answer: a documented status, a body of its schema."""

    def __init__(self, provider: ProviderAccount) -> None:
        self.client = provider.api.client
        self.headers = {"Authorization": f"Bearer {provider.key}"}
        self.doc = build_document()

    def call(
        self, method: str, path: str, template: str, status: int, *, auth: bool = True, **kw: Any
    ) -> dict[str, Any]:
        headers = {**(self.headers if auth else {}), **kw.pop("headers", {})}
        response = self.client.open(path, method=method, headers=headers, **kw)
        assert response.status_code == status, response.get_json()
        answers_of = self.doc["paths"][PREFIX + template][method.lower()]["responses"]
        assert str(status) in answers_of, (method, template, status)
        schema = answers_of[str(status)]["content"]["application/json"]["schema"]
        validator = jsonschema_rs.Draft202012Validator(
            {**schema, "components": self.doc["components"]}, validate_formats=True
        )
        body = response.get_json()
        errors = [str(e) for e in validator.iter_errors(body)]
        assert not errors, (method, path, errors, body)
        return dict(body)


def test_sell_book_cancel_sequence_matches_the_document(
    provider: ProviderAccount, clock: Any
) -> None:
    """Create a type, a package, a client; buy, book, cancel; every answer as documented."""
    api = Documented(provider)
    api.call(
        "PUT",
        "/api/v1/availability",
        "/availability",
        200,
        json={
            "weekly": {"mon": [{"start": "09:00", "end": "17:00"}]},
            "exceptions": [
                {"date": "2026-12-25", "closed": True},
                {"date": "2026-12-26", "hours": [{"start": "10:00", "end": "12:00"}]},
            ],
        },
    )
    kind = api.call(
        "POST",
        "/api/v1/appointment-types",
        "/appointment-types",
        201,
        json={
            "name": "Follow-Up",
            "duration_minutes": 50,
            "audience": "existing_clients",
            "requires_credit": True,
        },
    )
    package = api.call(
        "POST",
        "/api/v1/packages",
        "/packages",
        201,
        json={
            "name": "Three",
            "price_cents": 9000,
            "items": [{"appointment_type_id": kind["id"], "quantity": 3}],
        },
    )
    client = api.call(
        "POST", "/api/v1/clients", "/clients", 201, json={"email": "c@example.com", "name": "C"}
    )
    api.call(
        "POST", "/api/v1/clients", "/clients", 409, json={"email": "c@example.com", "name": "C"}
    )
    bought = api.call(
        "POST",
        f"/api/v1/clients/{client['id']}/packages",
        "/clients/{client_id}/packages",
        201,
        json={"package_id": package["id"]},
    )
    assert bought["grants"][0]["delta"] == 3
    start = "2026-11-30T10:00:00-05:00"
    booking = api.call(
        "POST",
        "/api/v1/bookings",
        "/bookings",
        201,
        json={"client_id": client["id"], "appointment_type_id": kind["id"], "start": start},
        headers={"Idempotency-Key": "k1"},
    )
    api.call(
        "POST",
        "/api/v1/bookings",
        "/bookings",
        409,
        json={"client_id": client["id"], "appointment_type_id": kind["id"], "start": start},
    )
    api.call("GET", f"/api/v1/bookings/{booking['id']}", "/bookings/{booking_id}", 200)
    api.call("GET", "/api/v1/bookings", "/bookings", 200, query_string={"status": "confirmed"})
    history = api.call(
        "GET",
        f"/api/v1/clients/{client['id']}/credits/{kind['id']}",
        "/clients/{client_id}/credits/{type_id}",
        200,
    )
    assert history["balance"] == 2
    api.call("GET", f"/api/v1/clients/{client['id']}/credits", "/clients/{client_id}/credits", 200)
    api.call(
        "POST",
        f"/api/v1/bookings/{booking['id']}/reschedule",
        "/bookings/{booking_id}/reschedule",
        200,
        json={"start": "2026-11-30T13:00:00-05:00"},
    )
    cancelled = api.call(
        "POST",
        f"/api/v1/bookings/{booking['id']}/cancel",
        "/bookings/{booking_id}/cancel",
        200,
        json={"reason": "ill"},
    )
    assert cancelled["status"] == "cancelled" and cancelled["credit_refunded"] is True
    api.call(
        "POST", f"/api/v1/bookings/{booking['id']}/cancel", "/bookings/{booking_id}/cancel", 409
    )
    api.call(
        "POST", f"/api/v1/bookings/{booking['id']}/no-show", "/bookings/{booking_id}/no-show", 409
    )
    api.call(
        "POST",
        f"/api/v1/clients/{client['id']}/credits/{kind['id']}/adjustments",
        "/clients/{client_id}/credits/{type_id}/adjustments",
        201,
        json={"delta": -1, "note": "goodwill"},
    )
    api.call(
        "POST",
        f"/api/v1/client-packages/{bought['id']}/archive",
        "/client-packages/{client_package_id}/archive",
        200,
    )
    api.call(
        "DELETE",
        f"/api/v1/client-packages/{bought['id']}",
        "/client-packages/{client_package_id}",
        200,
    )
    api.call(
        "GET", f"/api/v1/clients/{client['id']}/packages", "/clients/{client_id}/packages", 200
    )
    api.call("GET", "/api/v1/availability", "/availability", 200)
    api.call("GET", "/api/v1/settings", "/settings", 401, auth=False)


def test_public_link_sequence_matches_the_document(provider: ProviderAccount) -> None:
    api = Documented(provider)
    api.call(
        "PATCH", "/api/v1/settings", "/settings", 200, json={"public_booking_verification": "none"}
    )
    api.call(
        "PUT",
        "/api/v1/availability",
        "/availability",
        200,
        json={"weekly": {"mon": [{"start": "09:00", "end": "17:00"}]}},
    )
    intro = api.call(
        "POST",
        "/api/v1/appointment-types",
        "/appointment-types",
        201,
        json={
            "name": "Intro",
            "duration_minutes": 30,
            "audience": "new_clients",
            "requires_credit": False,
        },
    )
    link = api.call(
        "POST",
        "/api/v1/share-links",
        "/share-links",
        201,
        json={"appointment_type_ids": [intro["id"]], "max_uses": 1},
    )
    token = link["token"]
    api.call("GET", f"/api/v1/links/{token}", "/links/{token}", 200, auth=False)
    slots = api.call(
        "GET",
        f"/api/v1/links/{token}/slots",
        "/links/{token}/slots",
        200,
        auth=False,
        query_string={
            "appointment_type_id": intro["id"],
            "start": "2026-11-30",
            "end": "2026-11-30",
        },
    )
    body = {
        "appointment_type_id": intro["id"],
        "start": slots["slots"][0]["start"],
        "name": "V",
        "email": "v@example.com",
    }
    booked = api.call(
        "POST",
        f"/api/v1/links/{token}/bookings",
        "/links/{token}/bookings",
        201,
        auth=False,
        json=body,
    )
    assert "client_id" not in booked["booking"]
    api.call(
        "POST",
        f"/api/v1/links/{token}/bookings",
        "/links/{token}/bookings",
        410,
        auth=False,
        json={**body, "start": slots["slots"][1]["start"]},
    )
    api.call("GET", "/api/v1/links/nonsense", "/links/{token}", 404, auth=False)
    api.call("DELETE", f"/api/v1/share-links/{link['id']}", "/share-links/{link_id}", 200)
    api.call("GET", f"/api/v1/links/{token}", "/links/{token}", 410, auth=False)
    api.call("GET", "/api/v1/share-links", "/share-links", 200)
    hook = api.call(
        "POST",
        "/api/v1/webhooks",
        "/webhooks",
        201,
        json={"url": "https://hooks.example/in", "events": ["booking.created"]},
    )
    api.call(
        "GET",
        f"/api/v1/webhooks/{hook['id']}/deliveries",
        "/webhooks/{endpoint_id}/deliveries",
        200,
    )
    api.call("GET", "/api/v1/webhooks", "/webhooks", 200)
    api.call("DELETE", f"/api/v1/webhooks/{hook['id']}", "/webhooks/{endpoint_id}", 200)


# ---- regressions: what the fuzzer found ------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"), [("0001-01-01", "0001-01-02"), ("9999-12-30", "9999-12-31")]
)
def test_slots_at_the_edges_of_the_calendar_are_a_bad_field(
    provider: ProviderAccount, seeded: dict[str, Any], start: str, end: str
) -> None:
    """Was 500: a day before 0001-01-01 or after 9999-12-31 overflowed."""
    query = {"appointment_type_id": seeded["type_id"], "start": start, "end": end}
    assert invalid_fields(provider.api.get("/api/v1/slots", **query)) == {"start", "end"}
    link = provider.api.client.get(f"/api/v1/links/{seeded['token']}/slots", query_string=query)
    assert invalid_fields(link) == {"start", "end"}


def test_booking_list_at_the_edges_of_the_calendar_is_a_bad_field(
    provider: ProviderAccount,
) -> None:
    """Was 500: `to=9999-12-31` overflowed when the day after was computed."""
    answer = provider.api.get("/api/v1/bookings", **{"from": "0001-01-01", "to": "9999-12-31"})
    assert invalid_fields(answer) == {"from", "to"}


def test_a_booking_cannot_move_to_a_year_with_second_offsets(
    provider: ProviderAccount, seeded: dict[str, Any]
) -> None:
    """Was 200 with `"start": "1687-12-19T14:03:49-04:56:02"`: a local-mean-time offset that
    is not RFC 3339, for a time no booking system means."""
    path = f"/api/v1/bookings/{seeded['booking_id']}/reschedule"
    answer = provider.api.post(path, json={"start": "1687-12-19T18:59:51Z"})
    assert invalid_fields(answer) == {"start"}
    far = provider.api.post(path, json={"start": "9999-12-31T23:00:00-12:00"})
    assert invalid_fields(far) == {"start"}
    assert provider.api.get(f"/api/v1/bookings/{seeded['booking_id']}").get_json()["start"] == (
        "2026-11-30T10:00:00-05:00"
    )


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/api/v1/bookings",
            {"client_id": 1, "appointment_type_id": 1, "start": "0001-01-01T00:00:00+00:00"},
        ),
        (
            "/api/v1/share-links",
            {"appointment_type_ids": [1], "expires_at": "9999-12-31T23:59:59-12:00"},
        ),
        ("/api/v1/availability", {"exceptions": [{"date": "9999-12-31", "closed": True}]}),
    ],
)
def test_edge_of_calendar_times_are_bad_fields(
    provider: ProviderAccount, path: str, body: dict[str, Any]
) -> None:
    send = provider.api.put if path.endswith("availability") else provider.api.post
    answer = send(path, json=body)
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["error"]["code"] == "validation_error"


def test_uncancelled_booking_answers_null_credit_refunded(
    provider: ProviderAccount, seeded: dict[str, Any]
) -> None:
    """The document said boolean; a live booking answers null (not refunded yet)."""
    booking = provider.api.get(f"/api/v1/bookings/{seeded['booking_id']}").get_json()
    assert booking["credit_refunded"] is None
    answers.Booking.model_validate(booking)
