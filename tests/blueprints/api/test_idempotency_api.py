"""Idempotency-Key on every POST of the provider API: a retry replays the first decided answer.

API.md: the first answer that reached a decision is stored for 24 hours and replayed
for the same key and body (scope: the provider key); another body is a 409
idempotency_conflict; validation failures are not stored.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest

from .helpers import created, expect_error, invalid_fields, new_type, ok

BOOKINGS = "/api/v1/bookings"
MON_10 = "2026-11-30T10:00:00-05:00"
TUE_10 = "2026-12-01T10:00:00-05:00"


def keyed(key):
    return {"Idempotency-Key": key}


pytestmark = pytest.mark.usefixtures("weekday_hours")


@pytest.fixture
def follow_up(make_type):
    return make_type(duration_minutes=60)


def body_for(client, appointment_type, start):
    return {
        "client_id": client["id"],
        "appointment_type_id": appointment_type["id"],
        "start": start,
    }


def balance(api, client_id, type_id):
    return ok(api.get(f"/api/v1/clients/{client_id}/credits/{type_id}"))["balance"]


def bookings(api):
    return ok(api.get(BOOKINGS))["bookings"]


def test_the_same_key_and_body_twice_books_once_and_replays_the_answer(api, follow_up, credited):
    client = credited(3)
    body = body_for(client, follow_up, MON_10)
    first = api.post(BOOKINGS, json=body, headers=keyed("k-1"))
    second = api.post(BOOKINGS, json=body, headers=keyed("k-1"))
    assert first.status_code == 201
    assert second.status_code == first.status_code
    assert second.get_json() == first.get_json()
    assert len(bookings(api)) == 1
    assert balance(api, client["id"], follow_up["id"]) == 2


def test_a_replay_is_the_stored_answer_even_after_the_booking_changed(api, follow_up, credited):
    client = credited(3)
    body = body_for(client, follow_up, MON_10)
    first = created(api.post(BOOKINGS, json=body, headers=keyed("k-1")))
    ok(api.post(f"{BOOKINGS}/{first['id']}/cancel", json={}))
    replay = api.post(BOOKINGS, json=body, headers=keyed("k-1"))
    assert replay.status_code == 201
    assert replay.get_json() == first
    assert [b["status"] for b in bookings(api)] == ["cancelled"]


def test_the_same_body_with_its_fields_in_another_order_is_the_same_request(
    api, follow_up, credited
):
    client = credited(3)
    body = body_for(client, follow_up, MON_10)
    first = created(api.post(BOOKINGS, json=body, headers=keyed("k-1")))
    reordered = dict(reversed(list(body.items())))
    again = api.post(BOOKINGS, json=reordered, headers=keyed("k-1"))
    assert (again.status_code, again.get_json()) == (201, first)
    assert len(bookings(api)) == 1


def test_the_same_key_with_another_body_is_an_idempotency_conflict(api, follow_up, credited):
    client = credited(3)
    created(api.post(BOOKINGS, json=body_for(client, follow_up, MON_10), headers=keyed("k-1")))
    response = api.post(BOOKINGS, json=body_for(client, follow_up, TUE_10), headers=keyed("k-1"))
    expect_error(response, 409, "idempotency_conflict")
    assert [b["start"] for b in bookings(api)] == [MON_10]
    assert balance(api, client["id"], follow_up["id"]) == 2


def test_different_keys_are_different_requests(api, follow_up, credited):
    client = credited(3)
    created(api.post(BOOKINGS, json=body_for(client, follow_up, MON_10), headers=keyed("k-1")))
    created(api.post(BOOKINGS, json=body_for(client, follow_up, TUE_10), headers=keyed("k-2")))
    assert balance(api, client["id"], follow_up["id"]) == 1


def test_a_refusal_is_replayed_for_the_same_key_and_body_after_the_slot_is_free(
    api, follow_up, credited
):
    holder, client = credited(3), credited(3)
    taken = created(api.post(BOOKINGS, json=body_for(holder, follow_up, MON_10)))
    body = body_for(client, follow_up, MON_10)
    refused = api.post(BOOKINGS, json=body, headers=keyed("k-1"))
    expect_error(refused, 409, "slot_unavailable")
    ok(api.post(f"{BOOKINGS}/{taken['id']}/cancel", json={}))

    replay = api.post(BOOKINGS, json=body, headers=keyed("k-1"))
    assert (replay.status_code, replay.get_json()) == (409, refused.get_json())
    assert balance(api, client["id"], follow_up["id"]) == 3
    created(api.post(BOOKINGS, json=body, headers=keyed("k-2")))


def test_an_insufficient_credits_refusal_is_replayed_after_credits_arrive(
    api, follow_up, make_client, make_package, buy
):
    client = make_client()
    body = body_for(client, follow_up, MON_10)
    refused = api.post(BOOKINGS, json=body, headers=keyed("k-1"))
    expect_error(refused, 403, "insufficient_credits")
    package = make_package([{"appointment_type_id": follow_up["id"], "quantity": 1}])
    buy(client["id"], package["id"])

    replay = api.post(BOOKINGS, json=body, headers=keyed("k-1"))
    assert (replay.status_code, replay.get_json()) == (403, refused.get_json())
    assert bookings(api) == []
    assert balance(api, client["id"], follow_up["id"]) == 1


def test_a_refused_key_with_another_body_is_an_idempotency_conflict(api, follow_up, make_client):
    client = make_client()
    refused = api.post(BOOKINGS, json=body_for(client, follow_up, MON_10), headers=keyed("k-1"))
    expect_error(refused, 403, "insufficient_credits")
    response = api.post(BOOKINGS, json=body_for(client, follow_up, TUE_10), headers=keyed("k-1"))
    expect_error(response, 409, "idempotency_conflict")


def test_a_validation_failure_is_not_stored_so_the_corrected_body_books(api, follow_up, credited):
    client = credited(3)
    naive = body_for(client, follow_up, "2026-11-30T10:00:00")
    assert invalid_fields(api.post(BOOKINGS, json=naive, headers=keyed("k-1"))) == {"start"}
    fixed = api.post(BOOKINGS, json=body_for(client, follow_up, MON_10), headers=keyed("k-1"))
    assert created(fixed)["start"] == MON_10
    assert balance(api, client["id"], follow_up["id"]) == 2


def test_a_repeated_validation_failure_is_answered_afresh(api, follow_up, credited):
    client = credited(3)
    naive = body_for(client, follow_up, "2026-11-30T10:00:00")
    assert invalid_fields(api.post(BOOKINGS, json=naive, headers=keyed("k-1"))) == {"start"}
    assert invalid_fields(api.post(BOOKINGS, json=naive, headers=keyed("k-1"))) == {"start"}
    assert bookings(api) == []


def test_keys_are_per_provider(api, follow_up, credited, create_provider):
    created(api.post(BOOKINGS, json=body_for(credited(3), follow_up, MON_10), headers=keyed("k-1")))
    other = create_provider()
    ok(
        other.api.put(
            "/api/v1/availability", json={"weekly": {"tue": [{"start": "09:00", "end": "17:00"}]}}
        )
    )
    their_type = new_type(other.api, duration_minutes=60, requires_credit=False)
    their_client = created(
        other.api.post("/api/v1/clients", json={"email": "t@example.com", "name": "Theirs"})
    )
    theirs = body_for(their_client, their_type, TUE_10)
    response = other.api.post(BOOKINGS, json=theirs, headers=keyed("k-1"))
    booking = created(response)
    assert booking["client_id"] == their_client["id"]
    assert len(bookings(other.api)) == 1
    assert len(bookings(api)) == 1


def test_the_same_key_and_body_from_another_provider_is_not_replayed(
    api, follow_up, credited, create_provider
):
    body = body_for(credited(3), follow_up, MON_10)
    created(api.post(BOOKINGS, json=body, headers=keyed("k-1")))
    other = create_provider()
    # The other provider knows neither this client nor this type: a fresh 404, no replay.
    expect_error(other.api.post(BOOKINGS, json=body, headers=keyed("k-1")), 404, "not_found")


def test_a_key_is_kept_for_a_day(api, clock, follow_up, credited):
    client = credited(3)
    created(api.post(BOOKINGS, json=body_for(client, follow_up, MON_10), headers=keyed("k-1")))
    clock.advance(hours=23)
    response = api.post(BOOKINGS, json=body_for(client, follow_up, TUE_10), headers=keyed("k-1"))
    expect_error(response, 409, "idempotency_conflict")


def test_after_a_day_the_key_is_forgotten_and_another_body_books(api, clock, follow_up, credited):
    client = credited(3)
    created(api.post(BOOKINGS, json=body_for(client, follow_up, MON_10), headers=keyed("k-1")))
    clock.advance(hours=25)
    response = api.post(BOOKINGS, json=body_for(client, follow_up, TUE_10), headers=keyed("k-1"))
    assert created(response)["start"] == TUE_10
    assert balance(api, client["id"], follow_up["id"]) == 1


def test_after_a_day_the_same_body_books_again(api, clock, follow_up, credited):
    client = credited(3)
    body = body_for(client, follow_up, MON_10)
    first = created(api.post(BOOKINGS, json=body, headers=keyed("k-1")))
    ok(api.post(f"{BOOKINGS}/{first['id']}/cancel", json={}))
    clock.advance(hours=25)
    again = created(api.post(BOOKINGS, json=body, headers=keyed("k-1")))
    assert again["id"] != first["id"]


def test_a_key_longer_than_255_characters_is_a_validation_error(api, follow_up, credited):
    response = api.post(
        BOOKINGS, json=body_for(credited(3), follow_up, MON_10), headers=keyed("k" * 256)
    )
    assert invalid_fields(response) == {"Idempotency-Key"}
    assert bookings(api) == []


def test_without_a_key_every_post_is_a_new_request(api, follow_up, credited):
    client = credited(3)
    created(api.post(BOOKINGS, json=body_for(client, follow_up, MON_10)))
    expect_error(
        api.post(BOOKINGS, json=body_for(client, follow_up, MON_10)), 409, "slot_unavailable"
    )


# --- flask idempotency prune ---------------------------------------------------------------


def _pruned(result):
    assert result.exit_code == 0, result.output
    match = re.search(r"(\d+)", result.output)
    assert match, result.output
    return int(match[1])


def test_prune_forgets_keys_older_than_a_day_and_keeps_fresh_ones(
    app, api, clock, follow_up, make_client
):
    # The command runs on the wall clock, so the keys are made relative to it.
    client = make_client()  # no credits: every attempt is a stored refusal
    clock.now = datetime.now(UTC) - timedelta(days=2)
    expect_error(
        api.post(BOOKINGS, json=body_for(client, follow_up, MON_10), headers=keyed("old")),
        403,
        "insufficient_credits",
    )
    clock.now = datetime.now(UTC)
    expect_error(
        api.post(BOOKINGS, json=body_for(client, follow_up, MON_10), headers=keyed("fresh")),
        403,
        "insufficient_credits",
    )

    result = app.test_cli_runner().invoke(args=["idempotency", "prune"])
    assert _pruned(result) == 1

    # The fresh key still guards its request; the old one no longer exists anywhere.
    expect_error(
        api.post(BOOKINGS, json=body_for(client, follow_up, TUE_10), headers=keyed("fresh")),
        409,
        "idempotency_conflict",
    )
    clock.now = datetime.now(UTC) - timedelta(days=2)
    response = api.post(BOOKINGS, json=body_for(client, follow_up, TUE_10), headers=keyed("old"))
    expect_error(response, 403, "insufficient_credits")


def test_prune_with_nothing_to_forget_reports_zero(app):
    result = app.test_cli_runner().invoke(args=["idempotency", "prune"])
    assert _pruned(result) == 0


# --- every provider POST ------------------------------------------------------------------
# A retried grant or adjustment must not count twice; a retried cancel answers as the first.


def _history(api, client_id, type_id):
    return ok(api.get(f"/api/v1/clients/{client_id}/credits/{type_id}"))["history"]


def test_a_retried_package_sale_grants_its_credits_once(api, follow_up, make_client, make_package):
    client = make_client()
    package = make_package([{"appointment_type_id": follow_up["id"], "quantity": 3}])
    sale = f"/api/v1/clients/{client['id']}/packages"
    first = api.post(sale, json={"package_id": package["id"]}, headers=keyed("sale-1"))
    second = api.post(sale, json={"package_id": package["id"]}, headers=keyed("sale-1"))
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert len(ok(api.get(sale))["client_packages"]) == 1
    assert balance(api, client["id"], follow_up["id"]) == 3
    assert len(_history(api, client["id"], follow_up["id"])) == 1


def test_a_retried_adjustment_moves_the_balance_once(api, follow_up, make_client):
    client = make_client()
    path = f"/api/v1/clients/{client['id']}/credits/{follow_up['id']}/adjustments"
    body = {"delta": 2, "note": "paid at the desk"}
    first = created(api.post(path, json=body, headers=keyed("adj-1")))
    assert created(api.post(path, json=body, headers=keyed("adj-1"))) == first
    assert isinstance(first["id"], int)
    assert balance(api, client["id"], follow_up["id"]) == 2
    changed = {"delta": 5, "note": "paid at the desk"}
    expect_error(api.post(path, json=changed, headers=keyed("adj-1")), 409, "idempotency_conflict")
    assert balance(api, client["id"], follow_up["id"]) == 2


def test_a_retried_cancel_replays_its_answer_instead_of_invalid_state(api, follow_up, credited):
    client = credited(3)
    booking = created(api.post(BOOKINGS, json=body_for(client, follow_up, MON_10)))
    cancel = f"{BOOKINGS}/{booking['id']}/cancel"
    first = ok(api.post(cancel, json={}, headers=keyed("cancel-1")))
    assert ok(api.post(cancel, json={}, headers=keyed("cancel-1"))) == first
    assert first["credit_refunded"] is True
    assert balance(api, client["id"], follow_up["id"]) == 3
    expect_error(api.post(cancel, json={}), 409, "invalid_state")


def test_a_retried_reschedule_and_no_show_replay_their_answers(api, clock, follow_up, credited):
    booking = created(api.post(BOOKINGS, json=body_for(credited(3), follow_up, MON_10)))
    move = f"{BOOKINGS}/{booking['id']}/reschedule"
    moved = ok(api.post(move, json={"start": TUE_10}, headers=keyed("move-1")))
    assert ok(api.post(move, json={"start": TUE_10}, headers=keyed("move-1"))) == moved
    assert moved["start"] == TUE_10
    clock.advance(days=10)  # the moved booking is past
    no_show = f"{BOOKINGS}/{booking['id']}/no-show"
    marked = ok(api.post(no_show, headers=keyed("no-show-1")))
    assert ok(api.post(no_show, headers=keyed("no-show-1"))) == marked
    assert marked["status"] == "no_show"


@pytest.mark.parametrize(
    ("path", "body", "listed"),
    [
        (
            "/api/v1/clients",
            {"email": "once@example.com", "name": "Once"},
            ("/api/v1/clients", "clients"),
        ),
        (
            "/api/v1/appointment-types",
            {
                "name": "Walk",
                "duration_minutes": 30,
                "audience": "everyone",
                "requires_credit": False,
            },
            ("/api/v1/appointment-types", "appointment_types"),
        ),
        (
            "/api/v1/packages",
            {
                "name": "Trio",
                "price_cents": 9000,
                "items": [{"appointment_type_id": 0, "quantity": 3}],
            },
            ("/api/v1/packages", "packages"),
        ),
        (
            "/api/v1/share-links",
            {"appointment_type_ids": [0], "label": "Newsletter"},
            ("/api/v1/share-links", "share_links"),
        ),
        (
            "/api/v1/webhooks",
            {"url": "https://hooks.example.com/widget", "events": ["booking.created"]},
            ("/api/v1/webhooks", "webhooks"),
        ),
    ],
)
def test_a_retried_create_makes_one_object_and_replays_it(api, discovery, path, body, listed):
    body = {**body}
    if "items" in body:
        body["items"] = [{**body["items"][0], "appointment_type_id": discovery["id"]}]
    if "appointment_type_ids" in body:
        body["appointment_type_ids"] = [discovery["id"]]
    list_path, key = listed
    before = len(ok(api.get(list_path))[key])
    first = created(api.post(path, json=body, headers=keyed("create-1")))
    assert created(api.post(path, json=body, headers=keyed("create-1"))) == first
    assert len(ok(api.get(list_path))[key]) == before + 1
    changed = {**body, "name": "Other"} if "name" in body else {**body, "label": "Other"}
    if path.endswith("webhooks"):
        changed = {**body, "url": "https://hooks.example.com/other"}
    expect_error(
        api.post(path, json=changed, headers=keyed("create-1")), 409, "idempotency_conflict"
    )


def test_one_key_on_two_endpoints_is_a_conflict(api, follow_up, make_client):
    client = make_client()
    path = f"/api/v1/clients/{client['id']}/credits/{follow_up['id']}/adjustments"
    created(api.post(path, json={"delta": 1, "note": "gift"}, headers=keyed("shared")))
    body = {"email": "late@example.com", "name": "Late"}
    expect_error(
        api.post("/api/v1/clients", json=body, headers=keyed("shared")), 409, "idempotency_conflict"
    )
    assert balance(api, client["id"], follow_up["id"]) == 1
