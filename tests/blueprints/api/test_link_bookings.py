"""Booking through a share link: the policy holds existing clients to their credits,
and under email verification the answer never tells whose email it was."""

import re
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from itsdangerous import URLSafeSerializer

from widget.extensions import db
from widget.models import OutboxMessage

from .helpers import (
    at,
    created,
    expect_error,
    invalid_fields,
    link_slots,
    ok,
    settings,
    share,
    submit,
)

NEW_YORK = ZoneInfo("America/New_York")

pytestmark = pytest.mark.usefixtures("weekday_hours")


@pytest.fixture
def session_type(make_type):
    """A credit-requiring type for everyone: the one public links used to leak."""
    return make_type(name="Session", duration_minutes=50, audience="everyone")


def confirm_url(email):
    """The confirmation link in the newest email to `email`."""
    message = db.session.scalars(
        db.select(OutboxMessage)
        .where(OutboxMessage.recipient == email)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None, f"no email to {email}"
    return re.search(r"https?://[^/\s]+(/confirm/\S+)", message.text_body).group(1)


def existing_client(api, make_client, make_package, buy, appointment_type, credits):
    """A client made existing by a purchase, holding `credits` for `appointment_type`."""
    client = make_client(email="known@example.com", name="Known")
    if credits:
        package = make_package(
            [{"appointment_type_id": appointment_type["id"], "quantity": credits}]
        )
    else:
        other = created(
            api.post(
                "/api/v1/appointment-types",
                json={
                    "name": "Other",
                    "duration_minutes": 30,
                    "audience": "everyone",
                    "requires_credit": True,
                },
            )
        )
        package = make_package([{"appointment_type_id": other["id"], "quantity": 1}])
    buy(client["id"], package["id"])
    return client


def balance(api, client_id, type_id):
    return ok(api.get(f"/api/v1/clients/{client_id}/credits/{type_id}"))["balance"]


def bookings(api, **query):
    return ok(api.get("/api/v1/bookings", **query))["bookings"]


def in_new_york(moment):
    """The provider's zone, whose offset answers carry when the visitor names no other."""
    return moment.astimezone(ZoneInfo("America/New_York")).isoformat()


# Email verification (the default): hold, then confirm or explain.


def test_a_visitor_gets_a_hold_and_an_email_instead_of_a_booking(client, api, discovery, clock):
    link = share(api, discovery)
    response = submit(client, link, discovery, email="New.Person@Example.com ")
    assert response.status_code == 202
    body = response.get_json()
    assert body["booking"]["status"] == "pending_verification"
    assert body["booking"]["start"] == at(9)
    assert "client_id" not in body["booking"]
    assert body["booking"]["hold_expires_at"] == in_new_york(clock.now + timedelta(minutes=15))
    assert confirm_url("new.person@example.com").startswith("/confirm/")
    assert api.get("/api/v1/clients", email="new.person@example.com").get_json()["clients"] == []


def test_a_hold_takes_its_slot_out_of_the_free_slots(client, api, discovery):
    link = share(api, discovery)
    submit(client, link, discovery)
    slots = link_slots(client, link, discovery["id"]).get_json()["slots"]
    assert at(9) not in [s["start"] for s in slots]
    assert at(9, 0).replace("09:00", "09:30") in [s["start"] for s in slots]
    again = submit(client, link, discovery, email="other@example.com")
    expect_error(again, 409, "slot_unavailable")


def test_opening_the_confirmation_link_confirms_and_makes_a_client(client, api, discovery):
    link = share(api, discovery)
    submit(client, link, discovery, email="new@example.com", name="New Person")
    page = client.get(confirm_url("new@example.com"))
    assert page.status_code == 200
    assert "confirmed" in page.get_data(as_text=True)
    [booking] = bookings(api, status="confirmed")
    [person] = api.get("/api/v1/clients", email="new@example.com").get_json()["clients"]
    assert (booking["client_id"], person["name"], person["status"]) == (
        person["id"],
        "New Person",
        "existing",
    )


def test_confirming_twice_shows_the_same_page_and_books_once(client, api, discovery):
    link = share(api, discovery)
    submit(client, link, discovery, email="new@example.com")
    url = confirm_url("new@example.com")
    first, second = client.get(url), client.get(url)
    assert first.status_code == second.status_code == 200
    assert first.get_data() == second.get_data()
    assert len(bookings(api)) == 1
    emails = db.session.scalars(db.select(OutboxMessage.subject)).all()
    assert len(emails) == 2, emails  # the confirmation link, then one confirmation


def test_a_hold_not_confirmed_in_time_expires_and_frees_its_slot(client, api, discovery, clock):
    link = share(api, discovery)
    submit(client, link, discovery, email="slow@example.com")
    clock.advance(minutes=16)
    page = client.get(confirm_url("slow@example.com"))
    assert page.status_code == 410
    assert "expired" in page.get_data(as_text=True)
    assert bookings(api)[0]["status"] == "expired"
    assert submit(client, link, discovery, email="quick@example.com").status_code == 202


def test_a_hold_cannot_be_confirmed_once_its_appointment_has_begun(client, api, discovery, clock):
    settings(api, pending_hold_minutes=60)
    link = share(api, discovery, max_uses=1)
    half_past = at(9, 30, day=-6)  # today, half an hour from the clock's now
    assert (
        submit(client, link, discovery, email="late@example.com", start=half_past).status_code
        == 202
    )
    clock.advance(minutes=40)  # the hold runs to 10:00; the appointment began at 09:30
    page = client.get(confirm_url("late@example.com"))
    assert page.status_code == 410
    assert bookings(api)[0]["status"] == "expired"
    assert ok(api.get("/api/v1/share-links"))["share_links"][0]["use_count"] == 0


# API.md: "answers carry that zone's offset": every time in the answer, the hold's end too.
def test_every_time_in_the_answer_carries_the_visitors_zone(client, api, discovery, clock):
    link = share(api, discovery)
    body = submit(client, link, discovery, timezone="Asia/Kolkata").get_json()["booking"]
    assert body["start"].endswith("+05:30")
    hold_ends = datetime.fromisoformat(body["hold_expires_at"])
    assert body["hold_expires_at"].endswith("+05:30")
    assert hold_ends == clock.now + timedelta(minutes=15)


def test_the_hold_time_follows_the_providers_setting(client, api, discovery, clock):
    settings(api, pending_hold_minutes=60)
    link = share(api, discovery)
    body = submit(client, link, discovery).get_json()
    assert body["booking"]["hold_expires_at"] == in_new_york(clock.now + timedelta(minutes=60))


def test_a_tampered_confirmation_link_is_not_found(client, api, discovery):
    link = share(api, discovery)
    submit(client, link, discovery, email="new@example.com")
    url = confirm_url("new@example.com")
    assert client.get(url[:-2] + "xx").status_code == 404
    forged = URLSafeSerializer("not-our-key", salt="widget.confirm-booking").dumps(1)
    assert client.get(f"/confirm/{forged}").status_code == 404
    share_token = link["token"]  # signed by us, but for another purpose
    assert client.get(f"/confirm/{share_token}").status_code == 404


# The loophole: an existing client on a public link is held to the portal's rules.


@pytest.fixture
def everyone_public(api):
    settings(api, public_links_new_client_only=False)


def test_an_existing_client_without_credits_is_refused_at_once_without_verification(
    client, api, session_type, everyone_public, make_client, make_package, buy
):
    settings(api, public_booking_verification="none")
    known = existing_client(api, make_client, make_package, buy, session_type, credits=0)
    link = share(api, session_type)
    response = submit(client, link, session_type, email="KNOWN@example.com")
    expect_error(response, 403, "insufficient_credits")
    assert bookings(api) == []
    assert balance(api, known["id"], session_type["id"]) == 0


def test_an_existing_client_without_credits_is_held_then_refused_at_confirmation(
    client, api, session_type, everyone_public, make_client, make_package, buy
):
    known = existing_client(api, make_client, make_package, buy, session_type, credits=0)
    link = share(api, session_type)
    assert submit(client, link, session_type, email="known@example.com").status_code == 202
    page = client.get(confirm_url("known@example.com"))
    assert page.status_code == 403
    assert "insufficient_credits" in page.get_data(as_text=True)
    [booking] = bookings(api)
    assert booking["status"] == "refused"
    assert balance(api, known["id"], session_type["id"]) == 0
    assert client.get(confirm_url("known@example.com")).status_code == 403  # never confirmed


def test_an_existing_client_with_a_credit_books_and_spends_it_without_verification(
    client, api, session_type, everyone_public, make_client, make_package, buy
):
    settings(api, public_booking_verification="none")
    known = existing_client(api, make_client, make_package, buy, session_type, credits=1)
    link = share(api, session_type)
    response = submit(client, link, session_type, email="known@example.com")
    assert response.status_code == 201
    assert response.get_json()["booking"]["status"] == "confirmed"
    assert balance(api, known["id"], session_type["id"]) == 0
    assert bookings(api)[0]["client_id"] == known["id"]


def test_an_existing_client_with_a_credit_confirms_and_spends_it(
    client, api, session_type, everyone_public, make_client, make_package, buy
):
    known = existing_client(api, make_client, make_package, buy, session_type, credits=1)
    link = share(api, session_type)
    assert submit(client, link, session_type, email="known@example.com").status_code == 202
    assert balance(api, known["id"], session_type["id"]) == 1  # nothing spent on a hold
    assert client.get(confirm_url("known@example.com")).status_code == 200
    assert balance(api, known["id"], session_type["id"]) == 0
    history = ok(api.get(f"/api/v1/clients/{known['id']}/credits/{session_type['id']}"))
    assert [e["kind"] for e in history["history"]] == ["package_grant", "booking"]


def test_a_stranger_cannot_book_a_credit_type_for_free(client, api, session_type, everyone_public):
    settings(api, public_booking_verification="none")
    link = share(api, session_type)
    expect_error(submit(client, link, session_type), 403, "insufficient_credits")


def test_an_existing_client_may_not_book_a_new_client_type_at_once(
    client, api, discovery, session_type, make_client, make_package, buy
):
    settings(api, public_booking_verification="none")
    existing_client(api, make_client, make_package, buy, session_type, credits=1)
    link = share(api, discovery)
    response = submit(client, link, discovery, email="known@example.com")
    details = expect_error(response, 403, "new_clients_only")
    slug = ok(api.get("/api/v1/settings"))["slug"]
    assert details == {"portal_url": f"http://localhost/portal/{slug}/"}
    assert "portal" in response.get_json()["error"]["message"]


def test_an_existing_client_may_not_book_a_new_client_type_at_confirmation(
    client, api, discovery, session_type, make_client, make_package, buy
):
    existing_client(api, make_client, make_package, buy, session_type, credits=1)
    link = share(api, discovery)
    assert submit(client, link, discovery, email="known@example.com").status_code == 202
    page = client.get(confirm_url("known@example.com"))
    assert page.status_code == 403
    assert "new_clients_only" in page.get_data(as_text=True)


def test_a_confirmed_discovery_call_makes_the_visitor_existing(client, api, discovery):
    settings(api, public_booking_verification="none")
    link = share(api, discovery)
    assert submit(client, link, discovery, email="once@example.com").status_code == 201
    again = submit(client, link, discovery, start=at(10), email="once@example.com")
    expect_error(again, 403, "new_clients_only")


def test_an_existing_clients_type_asks_for_a_login_without_verification(
    client, api, make_type, everyone_public
):
    settings(api, public_booking_verification="none")
    follow_up = make_type(audience="existing_clients", requires_credit=False)
    link = share(api, follow_up)
    expect_error(submit(client, link, follow_up), 403, "login_required")


def test_an_existing_clients_type_is_decided_by_the_confirmed_email(
    client, api, make_type, everyone_public, make_client, make_package, buy
):
    follow_up = make_type(audience="existing_clients", requires_credit=True)
    existing_client(api, make_client, make_package, buy, follow_up, credits=1)
    link = share(api, follow_up)
    submit(client, link, follow_up, email="known@example.com")
    submit(client, link, follow_up, start=at(9, 50), email="stranger@example.com")
    assert client.get(confirm_url("known@example.com")).status_code == 200
    stranger = client.get(confirm_url("stranger@example.com"))
    assert stranger.status_code == 403
    assert "existing_clients_only" in stranger.get_data(as_text=True)


def test_a_type_dropped_from_public_links_by_the_setting_is_refused_at_submission(
    client, api, session_type, everyone_public
):
    link = share(api, session_type)
    settings(api, public_links_new_client_only=True)
    info = ok(client.get(f"/api/v1/links/{link['token']}"))
    assert info["appointment_types"] == []
    expect_error(submit(client, link, session_type), 403, "type_not_public")


def test_a_hold_is_refused_at_confirmation_if_the_type_left_public_links_meanwhile(
    client, api, session_type, everyone_public, make_client, make_package, buy
):
    existing_client(api, make_client, make_package, buy, session_type, credits=1)
    link = share(api, session_type)
    submit(client, link, session_type, email="known@example.com")
    settings(api, public_links_new_client_only=True)
    page = client.get(confirm_url("known@example.com"))
    assert page.status_code == 403
    assert "type_not_public" in page.get_data(as_text=True)


# Privacy


def _without_ids_and_times(response):
    body = response.get_json()
    booking = {
        k: v
        for k, v in body["booking"].items()
        if k not in {"id", "start", "end", "hold_expires_at"}
    }
    return response.status_code, dict(response.headers), {**body, "booking": booking}


def test_the_answer_is_the_same_for_a_clients_email_and_a_strangers(
    client, api, session_type, everyone_public, make_client, make_package, buy
):
    existing_client(api, make_client, make_package, buy, session_type, credits=0)
    link = share(api, session_type)
    known = submit(client, link, session_type, start=at(9), email="known@example.com")
    stranger = submit(client, link, session_type, start=at(9, 50), email="nobody@example.com")
    assert _without_ids_and_times(known) == _without_ids_and_times(stranger)
    masked = [
        re.sub(rb'"(id|start|end|hold_expires_at)":\s*("[^"]*"|\d+)', b"", r.get_data())
        for r in (known, stranger)
    ]
    assert masked[0] == masked[1]


def test_a_submission_under_verification_writes_no_client(
    client, api, session_type, everyone_public
):
    link = share(api, session_type)
    submit(client, link, session_type, email="nobody@example.com")
    assert api.get("/api/v1/clients").get_json()["clients"] == []


# Checks that do not depend on the person answer at once.


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"name": ""}, {"name"}),
        ({"email": "not-an-email"}, {"email"}),
        ({"name": None, "email": None}, {"name", "email"}),
        ({"timezone": "Mars/Olympus"}, {"timezone"}),
        ({"start": "2026-11-30T09:00:00"}, {"start"}),
        ({"name": "x" * 201}, {"name"}),
        ({"email": "a" * 310 + "@example.com"}, {"email"}),
    ],
)
def test_bad_fields_are_named(client, api, discovery, fields, bad):
    link = share(api, discovery)
    body = {"name": "V", "email": "v@example.com", **fields}
    body = {k: v for k, v in body.items() if v is not None}
    response = client.post(
        f"/api/v1/links/{link['token']}/bookings",
        json={"appointment_type_id": discovery["id"], "start": at(9), **body},
    )
    assert invalid_fields(response) == bad
    assert bookings(api) == []


@pytest.mark.parametrize(
    ("start", "code", "status"),
    [
        (datetime(2026, 11, 23, 10, 0, tzinfo=NEW_YORK), "too_soon", 422),
        (datetime(2026, 11, 30, 7, 0, tzinfo=NEW_YORK), "outside_availability", 422),
        (datetime(2026, 11, 30, 9, 10, tzinfo=NEW_YORK), "outside_availability", 422),
        (datetime(2027, 6, 1, 9, 0, tzinfo=NEW_YORK), "too_far_ahead", 422),
    ],
)
def test_a_start_that_is_not_a_free_slot_is_refused_at_once(
    client, api, discovery, start, code, status
):
    link = share(api, discovery)
    expect_error(submit(client, link, discovery, start=start.isoformat()), status, code)


def test_a_type_not_on_the_link_is_not_found(client, api, discovery, make_type):
    other = make_type(name="Other intro", audience="new_clients", requires_credit=False)
    link = share(api, discovery)
    expect_error(submit(client, link, other), 404, "not_found")


def test_an_inactive_type_is_not_found(client, api, discovery):
    link = share(api, discovery)
    ok(api.patch(f"/api/v1/appointment-types/{discovery['id']}", json={"active": False}))
    expect_error(submit(client, link, discovery), 404, "not_found")


# Link records


def test_revoked_expired_and_unknown_links_refuse_submissions(client, api, discovery, clock):
    revoked = share(api, discovery)
    ok(api.delete(f"/api/v1/share-links/{revoked['id']}"))
    expect_error(submit(client, revoked, discovery), 410, "link_revoked")
    expiring = share(api, discovery, expires_at=(clock.now + timedelta(hours=1)).isoformat())
    clock.advance(hours=2)
    expect_error(submit(client, expiring, discovery), 410, "link_expired")
    tampered = {**revoked, "token": revoked["token"][:-3] + "abc"}
    expect_error(submit(client, tampered, discovery), 404, "link_invalid")
    unknown = URLSafeSerializer(["test-key-0123456789abcdef"], salt="widget.share-link").dumps(
        987654
    )
    expect_error(submit(client, {"token": unknown}, discovery), 404, "link_invalid")


def test_a_token_signed_with_a_retired_key_still_books(client, api, discovery):
    link = share(api, discovery)
    old = URLSafeSerializer(["old-test-key-0123456789"], salt="widget.share-link").dumps(link["id"])
    assert submit(client, {"token": old}, discovery).status_code == 202


def test_a_capped_link_counts_holds_and_gives_back_expired_ones(client, api, discovery, clock):
    link = share(api, discovery, max_uses=1)
    assert submit(client, link, discovery).status_code == 202
    expect_error(submit(client, link, discovery, start=at(10)), 410, "link_exhausted")
    expect_error(client.get(f"/api/v1/links/{link['token']}"), 410, "link_exhausted")
    clock.advance(minutes=16)
    assert ok(client.get(f"/api/v1/links/{link['token']}"))["appointment_types"]
    assert submit(client, link, discovery, start=at(10)).status_code == 202
    [listed] = ok(api.get("/api/v1/share-links"))["share_links"]
    assert listed["use_count"] == 1


def test_a_refused_hold_gives_its_use_back(
    client, api, session_type, everyone_public, make_client, make_package, buy
):
    existing_client(api, make_client, make_package, buy, session_type, credits=0)
    link = share(api, session_type, max_uses=1)
    submit(client, link, session_type, email="known@example.com")
    assert client.get(confirm_url("known@example.com")).status_code == 403
    again = submit(client, link, session_type, start=at(9, 50), email="x@example.com")
    assert again.status_code == 202


def test_a_cancelled_booking_keeps_its_use(client, api, discovery):
    settings(api, public_booking_verification="none")
    link = share(api, discovery, max_uses=1)
    booking = created(submit(client, link, discovery))["booking"]
    ok(api.post(f"/api/v1/bookings/{booking['id']}/cancel"))
    expect_error(submit(client, link, discovery, start=at(10)), 410, "link_exhausted")


# Personal links


def test_a_personal_link_books_its_client_and_spends_a_credit(
    client, api, follow_up, make_client, make_package, buy
):
    known = existing_client(api, make_client, make_package, buy, follow_up, credits=2)
    link = share(api, follow_up, client_id=known["id"])
    response = submit(client, link, follow_up)
    assert response.status_code == 201
    booking = response.get_json()["booking"]
    assert booking["status"] == "confirmed" and "client_id" not in booking
    assert bookings(api)[0]["client_id"] == known["id"]
    assert balance(api, known["id"], follow_up["id"]) == 1


def test_a_personal_link_without_credits_is_refused(
    client, api, follow_up, make_client, make_package, buy
):
    known = existing_client(api, make_client, make_package, buy, follow_up, credits=0)
    link = share(api, follow_up, client_id=known["id"])
    expect_error(submit(client, link, follow_up), 403, "insufficient_credits")


def test_a_personal_link_allows_the_providers_negative_limit(
    client, api, follow_up, make_client, make_package, buy
):
    settings(api, negative_credit_limit=1)
    known = existing_client(api, make_client, make_package, buy, follow_up, credits=0)
    link = share(api, follow_up, client_id=known["id"])
    assert submit(client, link, follow_up).status_code == 201
    assert balance(api, known["id"], follow_up["id"]) == -1
    expect_error(submit(client, link, follow_up, start=at(9, 50)), 403, "insufficient_credits")


def test_a_single_use_personal_link_is_used_up_by_its_booking(
    client, api, follow_up, make_client, make_package, buy
):
    known = existing_client(api, make_client, make_package, buy, follow_up, credits=2)
    link = share(api, follow_up, client_id=known["id"], max_uses=1)
    assert submit(client, link, follow_up).status_code == 201
    expect_error(submit(client, link, follow_up, start=at(9, 50)), 410, "link_exhausted")


def test_a_personal_link_for_a_new_client_type_refuses_an_existing_client(
    client, api, discovery, follow_up, make_client, make_package, buy
):
    known = existing_client(api, make_client, make_package, buy, follow_up, credits=1)
    link = share(api, discovery, client_id=known["id"])
    expect_error(submit(client, link, discovery), 403, "new_clients_only")


# Idempotency-Key on the public endpoint


def test_a_retried_submission_replays_its_answer_and_holds_once(client, api, discovery):
    link = share(api, discovery)
    first = submit(client, link, discovery, headers={"Idempotency-Key": "k1"})
    again = submit(client, link, discovery, headers={"Idempotency-Key": "k1"})
    assert (first.status_code, first.get_json()) == (again.status_code, again.get_json())
    assert len(bookings(api)) == 1
    other = submit(client, link, discovery, start=at(10), headers={"Idempotency-Key": "k1"})
    expect_error(other, 409, "idempotency_conflict")


def test_a_retry_after_the_last_use_still_replays(client, api, discovery):
    link = share(api, discovery, max_uses=1)
    first = submit(client, link, discovery, headers={"Idempotency-Key": "once"})
    again = submit(client, link, discovery, headers={"Idempotency-Key": "once"})
    assert again.status_code == first.status_code == 202


# Races


def test_racing_visitors_cannot_overrun_a_capped_link(app, client, api, discovery):
    link = share(api, discovery, max_uses=3)
    barrier = threading.Barrier(8)
    answers = []

    def visit(index):
        http = app.test_client()
        barrier.wait()
        response = http.post(
            f"/api/v1/links/{link['token']}/bookings",
            json={
                "appointment_type_id": discovery["id"],
                "start": at(9 + index),
                "name": "V",
                "email": f"v{index}@example.com",
            },
        )
        answers.append((response.status_code, (response.get_json().get("error") or {}).get("code")))

    threads = [threading.Thread(target=visit, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(answers) == [(202, None)] * 3 + [(410, "link_exhausted")] * 5
    assert len(bookings(api)) == 3
