"""Time zones and clock changes, driven through the API, the portal and the dashboard.

Scenarios: days where the clock springs forward or falls back (New York, London,
Adelaide), zones with 30/45-minute offsets, bookings that span a transition, the same
instant written with different offsets, notice and per-day caps across a change, a
provider that changes zone, and what the client is told (email text, calendar invite).
"""

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from tests.blueprints.admin.conftest import csrf_token
from tests.blueprints.admin.conftest import log_in as admin_log_in
from tests.blueprints.api.helpers import created, expect_error, new_type, ok, post_booking, slots
from tests.blueprints.portal.conftest import log_in, post, text
from widget.extensions import db
from widget.models import OutboxMessage, Provider

NEW_YORK = ZoneInfo("America/New_York")

FALL_BACK = "2026-11-01"  # New York: 01:00-02:00 happens twice
SPRING_FORWARD = "2027-03-14"  # New York: 02:00-03:00 does not exist


def hours_on(api: Any, day: str, *ranges: tuple[str, str], weekly: Any = None) -> None:
    body = {
        "weekly": weekly or {},
        "exceptions": [{"date": day, "hours": [{"start": s, "end": e} for s, e in ranges]}],
    }
    ok(api.put("/api/v1/availability", json=body))


def free_type(make_type: Any, minutes: int, **fields: Any) -> dict[str, Any]:
    values = {
        "name": f"Session {minutes}",
        "duration_minutes": minutes,
        "audience": "everyone",
        "requires_credit": False,
        "max_days_ahead": 365,
        **fields,
    }
    return dict(make_type(**values))


def length(booking: dict[str, Any]) -> timedelta:
    return datetime.fromisoformat(booking["end"]) - datetime.fromisoformat(booking["start"])


def only_booking(api: Any) -> dict[str, Any]:
    [booking] = ok(api.get("/api/v1/bookings"))["bookings"]
    return dict(booking)


# --- bookings made in the portal span a clock change -----------------------------------


@pytest.mark.parametrize(
    ("day", "hours", "start", "expected_end"),
    [
        pytest.param(
            FALL_BACK,
            ("00:00", "04:00"),
            "2026-11-01T00:30:00-04:00",
            "2026-11-01T01:30:00-05:00",
            id="new-york-fall-back",
        ),
        pytest.param(
            SPRING_FORWARD,
            ("00:00", "06:00"),
            "2027-03-14T01:30:00-05:00",
            "2027-03-14T04:30:00-04:00",
            id="new-york-spring-forward",
        ),
    ],
)
def test_a_portal_booking_across_a_clock_change_lasts_its_duration(
    client, api, make_type, make_client, clock, day, hours, start, expected_end
):
    """A 2-hour appointment booked in the portal lasts 2 hours of real time, like the
    same booking made through the API."""
    clock.now = datetime(2026, 10, 25, 12, tzinfo=UTC)
    session = free_type(make_type, 120, slot_step_minutes=30)
    hours_on(api, day, hours)
    mia = make_client(email="mia@example.com", name="Mia")
    slug = ok(api.get("/api/v1/settings"))["slug"]
    log_in(client, slug, mia["email"])

    response = post(client, f"/portal/{slug}/book", {"type": session["id"], "start": start})

    assert response.status_code == 302, text(response)
    booking = only_booking(api)
    assert booking["start"] == start
    assert (booking["end"], length(booking)) == (expected_end, timedelta(hours=2))


def test_a_portal_booking_over_the_missing_hour_keeps_the_next_hour_taken(
    client, api, make_type, make_client, clock
):
    """01:30 EST + 2 h ends 04:30 EDT: nobody else may be booked at 03:30 EDT."""
    clock.now = datetime(2026, 10, 25, 12, tzinfo=UTC)
    session = free_type(make_type, 120, slot_step_minutes=60)
    hour = free_type(make_type, 60)
    hours_on(api, SPRING_FORWARD, ("00:00", "06:00"))
    mia = make_client(email="mia@example.com", name="Mia")
    other = make_client(email="other@example.com", name="Other")
    slug = ok(api.get("/api/v1/settings"))["slug"]
    log_in(client, slug, mia["email"])
    booked = post(
        client,
        f"/portal/{slug}/book",
        {"type": session["id"], "start": "2027-03-14T01:00:00-05:00"},
    )
    assert booked.status_code == 302, text(booked)

    offered = [s["start"] for s in slots(api, hour["id"], SPRING_FORWARD, SPRING_FORWARD)]
    assert "2027-03-14T03:00:00-04:00" not in offered  # 01:00 EST + 2 h = 04:00 EDT
    second = post_booking(api, other["id"], hour["id"], "2027-03-14T03:00:00-04:00")
    expect_error(second, 409, "slot_unavailable")


def _portal_confirm_step(client, api, make_client, appointment_type, start: str) -> Any:
    """A logged-in client's portal step that confirms `start` for `appointment_type`."""
    mia = make_client(email="mia@example.com", name="Mia")
    slug = ok(api.get("/api/v1/settings"))["slug"]
    log_in(client, slug, mia["email"])
    return client.get(
        f"/portal/{slug}/book", query_string={"type": appointment_type["id"], "start": start}
    )


def test_the_portal_confirmation_step_shows_the_real_end_time(
    client, api, make_type, make_client, clock
):
    """The confirm page for 00:30 EDT + 2 h on fall-back night says it ends at 01:30
    (the second one), not at 02:30."""
    clock.now = datetime(2026, 10, 25, 12, tzinfo=UTC)
    session = free_type(make_type, 120, slot_step_minutes=30)
    hours_on(api, FALL_BACK, ("00:00", "04:00"))
    page = _portal_confirm_step(client, api, make_client, session, "2026-11-01T00:30:00-04:00")

    assert page.status_code == 200, text(page)
    assert "00:30&ndash;01:30" in text(page)


# --- weekly hours on the clock-change days ------------------------------------------------


def test_hours_ending_at_one_on_fall_back_night_end_at_the_first_one_oclock(api, make_type, clock):
    """Open 00:00-01:00: when the clock first reads 01:00 the day's hours are over. A slot
    starting at 01:00 (EDT), at closing time, must not be offered."""
    clock.now = datetime(2026, 10, 25, 12, tzinfo=UTC)
    hour = free_type(make_type, 60)
    hours_on(api, FALL_BACK, ("00:00", "01:00"))

    assert slots(api, hour["id"], FALL_BACK, FALL_BACK) == [
        {"start": "2026-11-01T00:00:00-04:00", "end": "2026-11-01T01:00:00-04:00"}
    ]


# --- bookings spanning a change through the API -----------------------------------------


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        pytest.param(
            FALL_BACK, "2026-11-01T00:30:00-04:00", "2026-11-01T01:30:00-05:00", id="fall"
        ),
        pytest.param(
            SPRING_FORWARD,
            "2027-03-14T01:30:00-05:00",
            "2027-03-14T04:30:00-04:00",
            id="spring",
        ),
    ],
)
def test_an_api_booking_across_a_clock_change_ends_duration_later_and_blocks_that_long(
    api, make_type, make_client, clock, day, start, end
):
    clock.now = datetime(2026, 10, 25, 12, tzinfo=UTC)
    session = free_type(make_type, 120, slot_step_minutes=30)
    half = free_type(make_type, 30)
    hours_on(api, day, ("00:00", "06:00"))
    mia = make_client()

    booking = created(post_booking(api, mia["id"], session["id"], start))

    assert (booking["end"], length(booking)) == (end, timedelta(hours=2))
    taken_until = datetime.fromisoformat(end)
    for slot in slots(api, half["id"], day, day):
        slot_start = datetime.fromisoformat(slot["start"])
        assert not (datetime.fromisoformat(start) <= slot_start < taken_until), (
            f"{slot['start']} is inside the booking"
        )


# --- the same instant, however it is written ------------------------------------------


@pytest.mark.parametrize(
    "again",
    ["2026-11-01T06:30:00Z", "2026-11-01T06:30:00+00:00", "2026-11-01T07:30:00+01:00"],
)
def test_the_second_one_thirty_written_another_way_is_the_same_slot(
    api, make_type, make_client, clock, again
):
    """01:30 EST on fall-back night booked with -05:00, then the same instant in UTC or
    another offset: taken. The first 01:30 (EDT) stays free."""
    clock.now = datetime(2026, 10, 25, 12, tzinfo=UTC)
    half = free_type(make_type, 30)
    hours_on(api, FALL_BACK, ("00:00", "03:00"))
    mia, other = make_client(), make_client()
    created(post_booking(api, mia["id"], half["id"], "2026-11-01T01:30:00-05:00"))

    expect_error(post_booking(api, other["id"], half["id"], again), 409, "slot_unavailable")
    first = created(post_booking(api, other["id"], half["id"], "2026-11-01T01:30:00-04:00"))
    assert first["start"] == "2026-11-01T01:30:00-04:00"


def test_a_public_booking_sent_in_utc_takes_the_slot_of_the_same_instant(api, make_type, clock):
    clock.now = datetime(2026, 10, 25, 12, tzinfo=UTC)
    ok(api.patch("/api/v1/settings", json={"public_booking_verification": "none"}))
    half = free_type(make_type, 30, audience="new_clients")
    hours_on(api, FALL_BACK, ("00:00", "03:00"))
    token = created(api.post("/api/v1/share-links", json={"appointment_type_ids": [half["id"]]}))[
        "token"
    ]

    def book(start: str, email: str, zone: str | None = None) -> Any:
        body = {"appointment_type_id": half["id"], "start": start, "name": "X", "email": email}
        if zone:
            body["timezone"] = zone
        return api.client.post(f"/api/v1/links/{token}/bookings", json=body)

    made = book("2026-11-01T06:30:00Z", "a@example.com", "Asia/Kathmandu")
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["booking"]["start"] == "2026-11-01T12:15:00+05:45"
    again = book("2026-11-01T01:30:00-05:00", "b@example.com")
    expect_error(again, 409, "slot_unavailable")


# --- notice, caps and horizon across a change ---------------------------------------------


def test_minimum_notice_at_the_first_one_thirty_reaches_into_the_repeated_hour(
    api, make_type, clock
):
    """Now is 01:30 EDT; 60 minutes' notice means the first offer is 01:30 EST."""
    clock.now = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    half = free_type(make_type, 30, min_notice_minutes=60)
    hours_on(api, FALL_BACK, ("00:00", "03:00"))

    found = slots(api, half["id"], FALL_BACK, FALL_BACK)

    assert found[0]["start"] == "2026-11-01T01:30:00-05:00"
    assert len(found) == 3


def test_max_per_day_counts_the_providers_local_day_on_fall_back_night(
    api, make_type, make_client, clock
):
    """23:30 EDT on 31 October and 00:00 EDT on 1 November are on two local days (both
    on the UTC day 1 November): a cap of 1 per day allows both, and closes both local
    days, the 25-hour one to its end."""
    clock.now = datetime(2026, 10, 25, 12, tzinfo=UTC)
    capped = free_type(make_type, 30, max_per_day=1)
    week = {d: [{"start": "00:00", "end": "24:00"}] for d in ("sat", "sun")}
    ok(api.put("/api/v1/availability", json={"weekly": week, "exceptions": []}))
    mia, other = make_client(), make_client()

    created(post_booking(api, mia["id"], capped["id"], "2026-10-31T23:30:00-04:00"))
    created(post_booking(api, other["id"], capped["id"], "2026-11-01T00:00:00-04:00"))
    assert slots(api, capped["id"], "2026-10-31", "2026-11-01") == []


def test_the_horizon_counts_local_days_across_spring_forward(api, make_type, clock):
    """Now is Saturday 13 March 23:30 EST; max_days_ahead 1: Sunday 14 March (a 23-hour
    day) is bookable to its end, Monday is not."""
    clock.now = datetime(2027, 3, 14, 4, 30, tzinfo=UTC)
    hour = free_type(make_type, 60, max_days_ahead=1)
    week = {d: [{"start": "00:00", "end": "24:00"}] for d in ("sun", "mon")}
    ok(api.put("/api/v1/availability", json={"weekly": week, "exceptions": []}))

    found = slots(api, hour["id"], "2027-03-14", "2027-03-15")

    assert len(found) == 23
    assert found[-1]["start"] == "2027-03-14T23:00:00-04:00"


# --- 30/45-minute offsets and the southern hemisphere -----------------------------------


def _free_hour(api: Any, **fields: Any) -> dict[str, Any]:
    """A free one-hour type open to everyone at the provider `api` speaks for."""
    return new_type(
        api, name="Hour", duration_minutes=60, audience="everyone", requires_credit=False, **fields
    )


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        pytest.param(
            "Asia/Kathmandu",
            "2027-03-29",
            ["2027-03-29T09:00:00+05:45", "2027-03-29T10:00:00+05:45"],
            id="kathmandu",
        ),
        pytest.param(
            "Asia/Kolkata",
            "2027-03-29",
            ["2027-03-29T09:00:00+05:30", "2027-03-29T10:00:00+05:30"],
            id="kolkata",
        ),
        # Adelaide falls back on Sunday 4 April 2027 (03:00 ACDT -> 02:00 ACST).
        pytest.param(
            "Australia/Adelaide",
            "2027-04-04",
            ["2027-04-04T09:00:00+09:30", "2027-04-04T10:00:00+09:30"],
            id="adelaide-fall-back",
        ),
        # Adelaide springs forward on Sunday 3 October 2027 (02:00 ACST -> 03:00 ACDT).
        pytest.param(
            "Australia/Adelaide",
            "2027-10-03",
            ["2027-10-03T09:00:00+10:30", "2027-10-03T10:00:00+10:30"],
            id="adelaide-spring-forward",
        ),
    ],
)
def test_nine_to_eleven_stays_local_in_half_and_three_quarter_hour_zones(
    create_provider, clock, zone, day, expected
):
    clock.now = datetime(2027, 3, 20, 0, tzinfo=UTC)
    there = create_provider(timezone=zone).api
    hour = _free_hour(there, max_days_ahead=365)
    hours_on(there, day, ("09:00", "11:00"))

    assert [s["start"] for s in slots(there, hour["id"], day, day)] == expected


def test_adelaides_repeated_hour_is_offered_twice_to_a_viewer_in_new_york(create_provider, clock):
    """Adelaide's 02:00-03:00 happens twice on 4 April 2027; seen from New York (EDT)
    those are 11:30 and 12:30 on 3 April: both offered, each once."""
    clock.now = datetime(2027, 3, 20, 0, tzinfo=UTC)
    adelaide = create_provider(timezone="Australia/Adelaide").api
    hour = _free_hour(adelaide)
    hours_on(adelaide, "2027-04-04", ("02:00", "03:00"))

    found = slots(adelaide, hour["id"], "2027-04-03", "2027-04-03", timezone="America/New_York")

    assert found == [
        {"start": "2027-04-03T11:30:00-04:00", "end": "2027-04-03T12:30:00-04:00"},
        {"start": "2027-04-03T12:30:00-04:00", "end": "2027-04-03T13:30:00-04:00"},
    ]


# --- a provider that moves ------------------------------------------------------------------


def test_after_a_change_of_zone_the_weekly_hours_are_read_in_the_new_zone(
    api, make_type, make_client, clock
):
    """Hours are wall-clock times of the provider's own zone: after moving from New York to
    Berlin, 09:00 means 09:00 in Berlin. Bookings already made keep their instant."""
    clock.now = datetime(2026, 11, 24, 14, tzinfo=UTC)
    hour = free_type(make_type, 60)
    ok(
        api.put(
            "/api/v1/availability",
            json={"weekly": {"mon": [{"start": "09:00", "end": "10:00"}]}, "exceptions": []},
        )
    )
    mia = make_client()
    booking = created(post_booking(api, mia["id"], hour["id"], "2026-12-07T09:00:00-05:00"))

    ok(api.patch("/api/v1/settings", json={"timezone": "Europe/Berlin"}))

    assert slots(api, hour["id"], "2026-11-30", "2026-11-30") == [
        {"start": "2026-11-30T09:00:00+01:00", "end": "2026-11-30T10:00:00+01:00"}
    ]
    [listed] = ok(api.get("/api/v1/bookings"))["bookings"]
    assert listed["id"] == booking["id"]
    assert datetime.fromisoformat(listed["start"]) == datetime(2026, 12, 7, 14, tzinfo=UTC)
    assert listed["start"] == "2026-12-07T15:00:00+01:00"


# --- what the client is told ------------------------------------------------------------------


def booking_mail(booking_id: int) -> OutboxMessage:
    db.session.rollback()
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.booking_id == booking_id, OutboxMessage.subject.startswith("Booked"))
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None
    return message


def test_the_invite_of_a_booking_across_fall_back_is_its_real_start_and_end(
    api, make_type, make_client, clock
):
    clock.now = datetime(2026, 10, 25, 12, tzinfo=UTC)
    session = free_type(make_type, 120, slot_step_minutes=30)
    hours_on(api, FALL_BACK, ("00:00", "04:00"))
    mia = make_client()

    booking = created(
        post_booking(api, mia["id"], session["id"], "2026-11-01T00:30:00-04:00", notify_client=True)
    )

    event = icalendar.Calendar.from_ical(booking_mail(booking["id"]).ics).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2026, 11, 1, 4, 30, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)


def test_the_emails_for_the_two_one_thirties_of_fall_back_night_tell_them_apart(
    api, make_type, make_client, clock
):
    """Two clients booked at 01:30 EDT and 01:30 EST must not receive the same words:
    'Sunday 01 November 2026, 01:30 (America/New_York)' names neither instant."""
    clock.now = datetime(2026, 10, 25, 12, tzinfo=UTC)
    half = free_type(make_type, 30)
    hours_on(api, FALL_BACK, ("00:00", "03:00"))
    first = created(
        post_booking(
            api, make_client()["id"], half["id"], "2026-11-01T01:30:00-04:00", notify_client=True
        )
    )
    second = created(
        post_booking(
            api, make_client()["id"], half["id"], "2026-11-01T01:30:00-05:00", notify_client=True
        )
    )

    first_text = booking_mail(first["id"]).text_body
    second_text = booking_mail(second["id"]).text_body

    assert "01:30" in first_text and "01:30" in second_text
    assert (
        first_text.split("confirmed for")[1].split("\n")[0]
        != second_text.split("confirmed for")[1].split("\n")[0]
    )


# --- pages: what the client and provider see and do --------------------------------------


def public_link(api: Any, type_id: int) -> str:
    body = {"appointment_type_ids": [type_id]}
    return str(created(api.post("/api/v1/share-links", json=body))["token"])


def test_the_public_details_page_shows_the_real_end_time_over_the_missing_hour(
    client, api, make_type, clock
):
    """01:30 EST + 60 minutes on spring-forward night ends at 03:30 EDT; 02:30 never exists."""
    clock.now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    hour = free_type(make_type, 60, audience="new_clients", slot_step_minutes=30)
    hours_on(api, SPRING_FORWARD, ("00:00", "06:00"))
    token = public_link(api, hour["id"])

    page = client.get(
        f"/l/{token}", query_string={"type": hour["id"], "start": "2027-03-14T01:30:00-05:00"}
    )

    assert page.status_code == 200, text(page)
    html = text(page)
    assert "01:30 to 03:30" in html, html[html.find("<time") : html.find("<time") + 120]


def test_the_public_week_page_tells_the_two_one_thirties_apart(client, api, make_type, clock):
    """On fall-back night the visitor sees two 01:30 buttons; their visible labels must
    differ (an offset or EDT/EST), not only their machine-readable datetime."""
    clock.now = datetime(2026, 10, 30, 12, tzinfo=UTC)
    half = free_type(make_type, 30, audience="new_clients")
    hours_on(api, FALL_BACK, ("01:00", "02:00"))
    token = public_link(api, half["id"])

    html = text(client.get(f"/l/{token}", query_string={"type": half["id"], "week": FALL_BACK}))

    labels = re.findall(r'<time datetime="2026-11-01T01:30:00-0[45]:00">([^<]+)</time>', html)
    assert len(labels) == 2
    assert labels[0] != labels[1], labels


def test_the_portal_does_not_offer_a_taken_second_one_thirty_for_confirmation(
    client, api, make_type, make_client, clock
):
    """01:30 EST is taken, 01:30 EDT is free: choosing 01:30 EST must say 'no longer free'
    (409), not open the confirmation step."""
    clock.now = datetime(2026, 10, 25, 12, tzinfo=UTC)
    half = free_type(make_type, 30)
    hours_on(api, FALL_BACK, ("00:00", "03:00"))
    created(post_booking(api, make_client()["id"], half["id"], "2026-11-01T01:30:00-05:00"))
    page = _portal_confirm_step(client, api, make_client, half, "2026-11-01T01:30:00-05:00")

    assert page.status_code == 409, text(page)


def _dashboard_booking(app, provider, client_id: int, type_id: int, day: str, at: str) -> Any:
    """The provider books `client_id` on the dashboard at `day`, `at` on their own clock."""
    account = db.session.get(Provider, provider.id)
    account.password_hash = generate_password_hash("pw-123456789", method="pbkdf2:sha256:1000")
    db.session.commit()
    http = app.test_client()
    assert admin_log_in(http, account.email, "pw-123456789").status_code == 302
    token = csrf_token(http.get("/admin/").get_data(as_text=True))
    return http.post(
        "/admin/bookings/new",
        data={
            "csrf_token": token,
            "client_id": client_id,
            "appointment_type_id": type_id,
            "day": day,
            "time": at,
        },
    )


def test_a_dashboard_booking_across_fall_back_lasts_its_duration(
    app, provider, api, make_type, make_client, clock
):
    """The provider types 1 November, 00:30 for a 2-hour session: it ends at 01:30 EST."""
    clock.now = datetime(2026, 10, 25, 12, tzinfo=UTC)
    session = free_type(make_type, 120, slot_step_minutes=30)
    hours_on(api, FALL_BACK, ("00:00", "04:00"))

    response = _dashboard_booking(
        app, provider, make_client()["id"], session["id"], FALL_BACK, "00:30"
    )

    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    booking = only_booking(api)
    assert booking["start"] == "2026-11-01T00:30:00-04:00"
    assert (booking["end"], length(booking)) == ("2026-11-01T01:30:00-05:00", timedelta(hours=2))


def test_the_dashboard_refuses_a_time_the_clocks_skip(
    app, provider, api, make_type, make_client, clock
):
    """02:30 does not exist on spring-forward day: the form says so and books nothing,
    rather than booking 03:30 behind the provider's back."""
    clock.now = datetime(2027, 3, 7, 12, tzinfo=UTC)
    session = free_type(make_type, 30)
    hours_on(api, SPRING_FORWARD, ("00:00", "06:00"))

    response = _dashboard_booking(
        app, provider, make_client()["id"], session["id"], SPRING_FORWARD, "02:30"
    )

    assert response.status_code == 422
    assert "There is no 02:30 on 14 March" in response.get_data(as_text=True)
    assert ok(api.get("/api/v1/bookings"))["bookings"] == []


def test_a_client_can_book_the_second_one_thirty_in_the_portal(
    client, api, make_type, make_client, clock
):
    """Both 01:30s of fall-back night are offered; the client picks the second (EST)."""
    clock.now = datetime(2026, 10, 25, 12, tzinfo=UTC)
    half = free_type(make_type, 30)
    hours_on(api, FALL_BACK, ("00:00", "03:00"))
    mia = make_client(email="mia@example.com", name="Mia")
    slug = ok(api.get("/api/v1/settings"))["slug"]
    log_in(client, slug, mia["email"])
    offered = [s["start"] for s in slots(api, half["id"], FALL_BACK, FALL_BACK)]
    assert "2026-11-01T01:30:00-05:00" in offered

    response = post(
        client, f"/portal/{slug}/book", {"type": half["id"], "start": "2026-11-01T01:30:00-05:00"}
    )

    html = text(response)
    notice = html[html.find("<main") :][:600]
    assert response.status_code == 302, notice
    booking = only_booking(api)
    assert (booking["start"], booking["end"]) == (
        "2026-11-01T01:30:00-05:00",
        "2026-11-01T02:00:00-05:00",
    )
