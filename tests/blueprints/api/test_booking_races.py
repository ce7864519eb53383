"""Concurrent bookings through the HTTP API, with real threads, on both engines."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=NEW_YORK)


@pytest.fixture
def open_week(api):
    hours = [{"start": "09:00", "end": "17:00"}]
    response = api.put(
        "/api/v1/availability",
        json={"weekly": {day: hours for day in ("mon", "tue", "wed", "thu", "fri")}},
    )
    assert response.status_code == 200


def _post_together(app, key, bodies):
    """Each body is posted from its own thread with its own client; a barrier starts them."""
    barrier = threading.Barrier(len(bodies))
    answers = [None] * len(bodies)

    def post(index, body):
        http = app.test_client()
        barrier.wait()
        response = http.post(
            "/api/v1/bookings", json=body, headers={"Authorization": f"Bearer {key}"}
        )
        answers[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=post, args=(i, b)) for i, b in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def _balance(api, client_id, type_id):
    return api.get(f"/api/v1/clients/{client_id}/credits/{type_id}").get_json()


def test_twenty_clients_racing_for_one_slot_leave_one_booking(
    app, provider, api, open_week, make_type, make_client, make_package, buy
):
    follow_up = make_type(duration_minutes=30)
    package = make_package([{"appointment_type_id": follow_up["id"], "quantity": 3}])
    clients = [make_client() for _ in range(20)]
    for client in clients:
        buy(client["id"], package["id"])
    start = MONDAY.isoformat()
    bodies = [
        {"client_id": c["id"], "appointment_type_id": follow_up["id"], "start": start}
        for c in clients
    ]

    answers = _post_together(app, provider.key, bodies)

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * 19, answers
    assert {body["error"]["code"] for status, body in answers if status == 409} == {
        "slot_unavailable"
    }
    winner = next(body for status, body in answers if status == 201)
    for client in clients:
        ledger = _balance(api, client["id"], follow_up["id"])
        assert ledger["balance"] == (2 if client["id"] == winner["client_id"] else 3)
    live = api.get("/api/v1/bookings", status="confirmed").get_json()["bookings"]
    assert [b["id"] for b in live] == [winner["id"]]


def test_twenty_bookings_on_five_credits_make_exactly_five(
    app, provider, api, open_week, make_type, make_client, make_package, buy
):
    follow_up = make_type(duration_minutes=30)
    package = make_package([{"appointment_type_id": follow_up["id"], "quantity": 5}])
    client = make_client()
    buy(client["id"], package["id"])
    bodies = [
        {
            "client_id": client["id"],
            "appointment_type_id": follow_up["id"],
            "start": (MONDAY + timedelta(minutes=30 * i)).isoformat(),
        }
        for i in range(16)
    ] + [
        {
            "client_id": client["id"],
            "appointment_type_id": follow_up["id"],
            "start": (MONDAY + timedelta(days=1, minutes=30 * i)).isoformat(),
        }
        for i in range(4)
    ]

    answers = _post_together(app, provider.key, bodies)

    assert sorted(status for status, _ in answers) == [201] * 5 + [403] * 15, answers
    assert {body["error"]["code"] for status, body in answers if status == 403} == {
        "insufficient_credits"
    }
    ledger = _balance(api, client["id"], follow_up["id"])
    assert ledger["balance"] == 0
    assert [e["kind"] for e in ledger["history"]].count("booking") == 5
    assert len(api.get("/api/v1/bookings").get_json()["bookings"]) == 5
