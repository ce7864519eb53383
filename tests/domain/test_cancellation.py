"""A client's own cancellation: refunded before the late-cancel window, forfeited inside it."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from widget.domain import booking
from widget.domain.errors import InvalidState
from widget.extensions import db
from widget.models import Booking, Channel, Provider

START = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("America/New_York"))


@pytest.fixture
def booked(api, provider, make_type, make_client, make_package, buy):
    week = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}
    api.put("/api/v1/availability", json={"weekly": week})
    follow_up = make_type(late_cancel_hours=48)
    client = make_client()
    buy(client["id"], make_package([{"appointment_type_id": follow_up["id"], "quantity": 1}])["id"])
    made = api.post(
        "/api/v1/bookings",
        json={
            "client_id": client["id"],
            "appointment_type_id": follow_up["id"],
            "start": START.isoformat(),
        },
    )
    assert made.status_code == 201
    return made.get_json(), client, follow_up


def _cancel_as_client(booking_id, provider_id, now):
    provider = db.session.get(Provider, provider_id)
    found = db.session.get(Booking, booking_id)
    result = booking.cancel(db.session, provider, found, by=Channel.portal, now=now)
    db.session.commit()
    return result


def _balance(api, client, follow_up):
    return api.get(f"/api/v1/clients/{client['id']}/credits/{follow_up['id']}").get_json()


def test_a_client_cancelling_before_the_types_window_gets_the_credit_back(api, provider, booked):
    made, client, follow_up = booked
    result = _cancel_as_client(made["id"], provider.id, START - timedelta(hours=49))
    assert result.credit_refunded is True
    assert _balance(api, client, follow_up)["balance"] == 1


def test_a_client_cancelling_inside_the_types_window_forfeits_the_credit(api, provider, booked):
    made, client, follow_up = booked
    result = _cancel_as_client(made["id"], provider.id, START - timedelta(hours=47))
    assert result.credit_refunded is False
    ledger = _balance(api, client, follow_up)
    assert ledger["balance"] == 0
    assert ledger["history"][-1]["kind"] == "late_cancellation"


def test_a_client_cannot_cancel_an_appointment_that_has_started(api, provider, booked):
    made, _, _ = booked
    with pytest.raises(InvalidState):
        _cancel_as_client(made["id"], provider.id, START + timedelta(minutes=1))
