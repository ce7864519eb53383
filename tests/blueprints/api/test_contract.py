"""Points of API.md that the other API tests do not pin down.

The provider (America/New_York) works Monday to Friday 09:00-17:00. The clock starts
on Tuesday 2026-11-24T14:00Z (09:00 EST); 2026-11-30 is a Monday.
"""

from datetime import UTC, datetime

import pytest

from widget.extensions import db
from widget.models import ApiKey, Booking, BookingStatus

from .helpers import (
    at,
    created,
    expect_error,
    invalid_fields,
    link_slots,
    ok,
    post_booking,
    settings,
    share,
    submit,
)

pytestmark = pytest.mark.usefixtures("weekday_hours")


def bookings(api, **query):
    return ok(api.get("/api/v1/bookings", **query))["bookings"]


# --- Booking status `expired` (API.md: booking object) --------------------------------


def test_a_hold_past_its_time_is_listed_as_expired(client, api, discovery, clock):
    link = share(api, discovery)
    assert submit(client, link, discovery).status_code == 202
    clock.advance(minutes=16)
    [hold] = bookings(api)
    assert hold["status"] == "expired"
    db.session.expire_all()
    assert db.session.get(Booking, hold["id"]).status == BookingStatus.expired  # and stays so


def test_the_expired_status_filter_finds_a_hold_past_its_time(client, api, discovery, clock):
    link = share(api, discovery)
    assert submit(client, link, discovery).status_code == 202
    clock.advance(minutes=16)
    assert [b["status"] for b in bookings(api, status="expired")] == ["expired"]
    assert bookings(api, status="pending_verification") == []


def test_a_hold_past_its_time_cannot_be_cancelled(client, api, discovery, clock):
    link = share(api, discovery)
    booking_id = submit(client, link, discovery).get_json()["booking"]["id"]
    clock.advance(minutes=16)
    expect_error(api.post(f"/api/v1/bookings/{booking_id}/cancel"), 409, "invalid_state")


# --- Appointment type defaults ---------------------------------------------------------


def test_a_types_late_cancel_hours_defaults_to_the_providers(api):
    settings(api, late_cancel_hours=12)
    body = created(
        api.post(
            "/api/v1/appointment-types",
            json={
                "name": "Intake",
                "duration_minutes": 30,
                "audience": "everyone",
                "requires_credit": False,
            },
        )
    )
    assert body["late_cancel_hours"] == 12


def test_a_default_slot_step_follows_a_patched_duration(api):
    kind = created(
        api.post(
            "/api/v1/appointment-types",
            json={
                "name": "Intake",
                "duration_minutes": 50,
                "audience": "everyone",
                "requires_credit": False,
            },
        )
    )
    patched = ok(
        api.patch(f"/api/v1/appointment-types/{kind['id']}", json={"duration_minutes": 30})
    )
    assert patched["slot_step_minutes"] == 30
    slots = ok(
        api.get(
            "/api/v1/slots", appointment_type_id=kind["id"], start="2026-11-30", end="2026-11-30"
        )
    )["slots"]
    assert [s["start"] for s in slots[:3]] == [at(9), at(9, 30), at(10)]


# --- Auth ----------------------------------------------------------------------------


def test_a_revoked_api_key_is_unauthorized(api, provider):
    key = db.session.scalars(db.select(ApiKey).where(ApiKey.provider_id == provider.id)).one()
    key.revoked_at = datetime(2026, 11, 1, tzinfo=UTC)
    db.session.commit()
    expect_error(api.get("/api/v1/settings"), 401, "unauthorized")


# --- Public answers' offsets ---------------------------------------------------------


def test_a_public_booking_answer_carries_the_visitors_zone(client, api, discovery):
    link = share(api, discovery)
    response = submit(client, link, discovery, timezone="Europe/Berlin")
    assert response.status_code == 202
    booking = response.get_json()["booking"]
    assert booking["start"] == "2026-11-30T15:00:00+01:00"
    assert booking["end"] == "2026-11-30T15:30:00+01:00"


# --- login_required points to the portal ---------------------------------------------


def test_login_required_points_to_the_portal(client, api, make_type):
    settings(api, public_booking_verification="none", public_links_new_client_only=False)
    follow_up = make_type(audience="existing_clients", requires_credit=False)
    slug = ok(api.get("/api/v1/settings"))["slug"]
    link = share(api, follow_up)
    response = submit(client, link, follow_up)
    expect_error(response, 403, "login_required")
    portal = response.get_json()["error"]["details"]["portal_url"]
    assert portal.startswith(f"http://localhost/portal/{slug}/book?")
    assert f"type={follow_up['id']}" in portal


# --- Passing checks of points no other test pins down ---------------------------------


def test_a_personal_link_refuses_a_new_client_an_existing_clients_type(
    client, api, make_type, make_client
):
    follow_up = make_type(audience="existing_clients", requires_credit=False)
    newcomer = make_client()
    link = share(api, follow_up, client_id=newcomer["id"])
    expect_error(submit(client, link, follow_up), 403, "existing_clients_only")
    assert bookings(api) == []


def test_a_live_hold_makes_a_provider_booking_slot_unavailable(client, api, discovery, make_client):
    link = share(api, discovery)
    assert submit(client, link, discovery, start=at(10)).status_code == 202
    response = post_booking(api, make_client()["id"], discovery["id"], at(10))
    expect_error(response, 409, "slot_unavailable")


def test_idempotency_keys_are_scoped_per_link(client, api, discovery):
    first, second = share(api, discovery), share(api, discovery)
    key = {"Idempotency-Key": "retry-1"}
    assert submit(client, first, discovery, start=at(10), headers=key).status_code == 202
    other = submit(client, second, discovery, start=at(11), headers=key)
    assert other.status_code == 202
    assert other.get_json()["booking"]["start"] == at(11)


def test_a_public_validation_failure_is_not_stored_under_its_key(client, api, discovery):
    link = share(api, discovery)
    key = {"Idempotency-Key": "fix-and-retry"}
    assert invalid_fields(submit(client, link, discovery, headers=key, name="")) == {"name"}
    fixed = submit(client, link, discovery, headers=key, name="Visitor")
    assert fixed.status_code == 202


def test_link_slots_of_an_inactive_type_are_not_found(client, api, discovery):
    link = share(api, discovery)
    ok(api.patch(f"/api/v1/appointment-types/{discovery['id']}", json={"active": False}))
    expect_error(link_slots(client, link, discovery["id"]), 404, "not_found")


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ("", "application/json"),
        ("appointment_type_id=1", "application/x-www-form-urlencoded"),
    ],
)
def test_a_public_submission_that_is_not_a_json_object_is_a_bad_request(
    client, api, discovery, data, content_type
):
    link = share(api, discovery)
    response = client.post(
        f"/api/v1/links/{link['token']}/bookings", data=data, content_type=content_type
    )
    expect_error(response, 400, "bad_request")
