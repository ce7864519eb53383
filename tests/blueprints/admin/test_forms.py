"""Bad input to the HTML forms and addresses (dashboard, portal, public and manage pages)
gets a clear message beside its field, with a 4xx status, and loses nothing."""

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.blueprints.portal.conftest import csrf_token as portal_csrf_token
from tests.blueprints.portal.conftest import log_in as portal_log_in
from widget.extensions import db
from widget.models import Booking, OutboxMessage, Package, Provider, ShareLink, WebhookEndpoint

from .conftest import PASSWORD, Dashboard, csrf_token, field_error

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=NEW_YORK)
WEEK = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}
WEEKDAY_HOURS = {d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}
CORRECT_THE_FIELDS = "Please correct the fields marked below."


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    """A start on Monday 30 November (or `day` days later), New York time."""
    return MONDAY + timedelta(days=day, hours=hour - 9, minutes=minute)


def count(model: Any) -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def html(response: Any) -> str:
    return str(response.get_data(as_text=True))


@pytest.fixture
def slug(api: Any) -> str:
    return str(api.get("/api/v1/settings").get_json()["slug"])


@pytest.fixture
def kim(make_client: Any, make_package: Any, buy: Any, follow_up: dict[str, Any]) -> dict[str, Any]:
    """A client with two Follow-Up credits."""
    person = dict(make_client(email="kim@example.com", name="Kim"))
    buy(person["id"], make_package([{"appointment_type_id": follow_up["id"], "quantity": 2}])["id"])
    return person


@pytest.fixture
def booked(
    client: FlaskClient, api: Any, open_week: None, follow_up: dict[str, Any], kim: dict[str, Any]
) -> dict[str, Any]:
    """Kim's Follow-Up on Monday 10:40, booked through her personal link (one credit spent)."""
    link = api.post(
        "/api/v1/share-links",
        json={"appointment_type_ids": [follow_up["id"]], "client_id": kim["id"]},
    ).get_json()
    response = client.post(
        f"/api/v1/links/{link['token']}/bookings",
        json={"appointment_type_id": follow_up["id"], "start": at(10, 40).isoformat()},
    )
    assert response.status_code == 201, response.get_json()
    return dict(response.get_json()["booking"])


def manage_path() -> str:
    db.session.rollback()
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.subject.startswith("Booked:"))
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None
    found = re.search(r"https?://[^/\s]+(/manage/\S+)", message.text_body)
    assert found, message.text_body
    return found.group(1)


def balance(api: Any, client_id: int, type_id: int) -> int:
    return int(api.get(f"/api/v1/clients/{client_id}/credits/{type_id}").get_json()["balance"])


def start_of(api: Any, booking_id: int) -> str:
    return str(api.get(f"/api/v1/bookings/{booking_id}").get_json()["start"])


# Each case below was a bug: a crash, a silent drop, a "saved" that saved nothing, or a
# message that explains nothing.


def test_a_links_last_day_at_the_end_of_the_calendar_is_refused_beside_the_field(
    dashboard: Dashboard, discovery: dict[str, Any]
) -> None:
    """links.py LinkForm.expires_at adds a day to 9999-12-31: OverflowError, a 500."""
    response = dashboard.post(
        "/admin/links", {"appointment_type_ids": str(discovery["id"]), "last_day": "9999-12-31"}
    )
    assert response.status_code == 422
    assert field_error(html(response), "last_day")
    assert count(ShareLink) == 0


@pytest.mark.parametrize(
    ("price", "message"),
    [
        # Decimal reads these: Infinity crashed int() (a 500), NaN was told "two decimals".
        ("Infinity", "Write a price like 120 or 120.50."),
        ("-Infinity", "Write a price like 120 or 120.50."),
        ("NaN", "Write a price like 120 or 120.50."),
        # The schema's limit counts cents; beside a field typed in money it read as a
        # hundred million.
        ("2000000", "Must be at most 1,000,000.00."),
        ("1000000.01", "Must be at most 1,000,000.00."),
    ],
)
def test_a_price_that_cannot_be_a_price_is_refused_beside_the_field(
    dashboard: Dashboard, follow_up: dict[str, Any], price: str, message: str
) -> None:
    response = dashboard.post(
        "/admin/packages",
        {
            "name": "Spring",
            "price": price,
            "items-0-appointment_type_id": str(follow_up["id"]),
            "items-0-quantity": "2",
        },
    )
    assert response.status_code == 422
    assert field_error(html(response), "price") == message
    assert count(Package) == 0


@pytest.mark.parametrize("week_asked", ["9999-12-31", "9999-12-25"])
def test_a_manage_page_asked_for_a_week_at_the_end_of_the_calendar_does_not_crash(
    client: FlaskClient, booked: dict[str, Any], week_asked: str
) -> None:
    """manage._page clamps the week only from below; `last + 1 day` overflows: a 500."""
    response = client.get(manage_path(), query_string={"week": week_asked})
    assert response.status_code in (200, 400)
    assert "internal_error" not in html(response)


def test_an_exception_row_with_hours_but_no_date_is_refused_not_dropped(
    dashboard: Dashboard, api: Any, open_week: None
) -> None:
    """HoursForm.availability skips a row without a date, hours and all, then says 'saved'."""
    response = dashboard.post(
        "/admin/hours",
        {**WEEKDAY_HOURS, "exceptions-0-day": "", "exceptions-0-hours": "10:00-12:00"},
    )
    assert response.status_code == 422
    assert field_error(html(response), "exceptions-0-day")


def test_two_exception_rows_for_one_date_are_refused_not_reported_saved(
    dashboard: Dashboard, api: Any, open_week: None
) -> None:
    """The domain refuses the second row ('listed twice') and rolls back, but the error sits
    on a field inside a FieldList, form.errors misses it, and the view flashes 'saved'."""
    response = dashboard.post(
        "/admin/hours",
        {
            **WEEKDAY_HOURS,
            "exceptions-0-day": "2026-12-24",
            "exceptions-0-hours": "",
            "exceptions-1-day": "2026-12-24",
            "exceptions-1-hours": "10:00-11:00",
        },
    )
    assert response.status_code == 422
    assert "listed twice" in (field_error(html(response), "exceptions-1-day") or "")


@pytest.mark.parametrize("day", ["2026-02-30", "0001-01-01", "9999-12-31", "x"])
def test_a_bad_exception_date_on_its_own_answers_422_with_the_banner(
    dashboard: Dashboard, api: Any, open_week: None, day: str
) -> None:
    """The error is shown beside the date, but the status is 200 and no banner says so."""
    response = dashboard.post(
        "/admin/hours", {**WEEKDAY_HOURS, "exceptions-0-day": day, "exceptions-0-hours": ""}
    )
    assert response.status_code == 422
    assert CORRECT_THE_FIELDS in html(response)
    assert field_error(html(response), "exceptions-0-day")
    assert api.get("/api/v1/availability").get_json()["exceptions"] == []


@pytest.mark.parametrize("day", ["2026-02-30", "x"])
def test_an_unreadable_exception_date_is_explained_like_every_other_date_field(
    dashboard: Dashboard, open_week: None, day: str
) -> None:
    """Today: pydantic's 'Input should be a valid date or datetime, day value is outside
    expected range.'; the calendar and link forms say 'Choose a day (YYYY-MM-DD).'"""
    response = dashboard.post("/admin/hours", {**WEEKDAY_HOURS, "exceptions-0-day": day})
    message = field_error(html(response), "exceptions-0-day") or ""
    assert "YYYY-MM-DD" in message and "Input should be" not in message


@pytest.mark.parametrize("hours", ["09:00:00-17:00:00", "09:00-17:00;"])
def test_weekly_hours_with_seconds_or_a_stray_character_are_explained_not_counted(
    dashboard: Dashboard, open_week: None, hours: str
) -> None:
    """HoursRange's max_length=5 answers first: 'Must be at most 5 characters.' beside Monday,
    which names no format; '9:00-17:00' or '09.00-17.00' get 'is not a time like "09:00"'."""
    response = dashboard.post("/admin/hours", {**WEEKDAY_HOURS, "mon": hours})
    assert response.status_code == 422
    message = field_error(html(response), "mon") or ""
    assert "characters" not in message and "09:00" in message


@pytest.mark.parametrize(
    "rows",
    [
        {"items-0-quantity": "3"},
        {"items-0-expires_after_days": "30"},
        {
            "items-0-appointment_type_id": "FOLLOW_UP",
            "items-0-quantity": "2",
            "items-1-appointment_type_id": "FOLLOW_UP",
            "items-1-quantity": "3",
        },
    ],
    ids=["quantity-without-type", "expiry-only", "same-type-twice"],
)
def test_a_package_item_error_on_its_own_answers_422_with_the_banner(
    dashboard: Dashboard, follow_up: dict[str, Any], rows: dict[str, str]
) -> None:
    rows = {k: v.replace("FOLLOW_UP", str(follow_up["id"])) for k, v in rows.items()}
    response = dashboard.post("/admin/packages", {"name": "Spring", "price": "10", **rows})
    assert response.status_code == 422
    assert CORRECT_THE_FIELDS in html(response)
    assert count(Package) == 0


@pytest.mark.parametrize("typed", ["09:50+05:00", "09:50Z", "09:50:30", "09:50:00.5"])
def test_the_dashboards_time_field_takes_hours_and_minutes_only_when_booking(
    dashboard: Dashboard,
    open_week: None,
    follow_up: dict[str, Any],
    kim: dict[str, Any],
    typed: str,
) -> None:
    """time.fromisoformat accepts an offset (which datetime.combine then drops: '09:50+05:00'
    books 09:50 New York) and seconds (a booking at 09:50:30, shown as 09:50)."""
    response = dashboard.post(
        "/admin/bookings/new",
        {
            "client_id": str(kim["id"]),
            "appointment_type_id": str(follow_up["id"]),
            "day": "2026-12-01",
            "time": typed,
        },
    )
    assert response.status_code == 422
    assert field_error(html(response), "time") == "Choose a time (HH:MM)."
    assert count(Booking) == 0


@pytest.mark.parametrize("typed", ["09:50+05:00", "10:00:30"])
def test_the_dashboards_time_field_takes_hours_and_minutes_only_when_moving(
    dashboard: Dashboard, api: Any, booked: dict[str, Any], typed: str
) -> None:
    response = dashboard.post(
        f"/admin/bookings/{booked['id']}/reschedule", {"day": "2026-12-01", "time": typed}
    )
    assert response.status_code == 422
    assert field_error(html(response), "time") == "Choose a time (HH:MM)."
    assert start_of(api, booked["id"]) == "2026-11-30T10:40:00-05:00"


@pytest.mark.parametrize("field", ["pending_hold_minutes", "negative_credit_limit"])
def test_a_required_setting_of_only_spaces_is_refused_as_required(
    dashboard: Dashboard, field: str
) -> None:
    """InputRequired passes ' '; number() turns it into None, given() drops it, the view
    flashes 'Settings saved.' and the old value stays."""
    data = {
        "timezone": "America/New_York",
        "public_booking_verification": "email",
        "pending_hold_minutes": "30",
        "negative_credit_limit": "0",
        "late_cancel_hours": "24",
        field: "  ",
    }
    response = dashboard.post("/admin/settings", data)
    assert response.status_code == 422
    assert field_error(html(response), field) == "Required."


@pytest.mark.parametrize("email", ["not-an-email", "kim@example.com\x00"])
def test_the_portal_login_link_form_says_when_an_email_is_malformed(
    client: FlaskClient, slug: str, kim: dict[str, Any], email: str
) -> None:
    """A typo gets 'If not-an-email belongs to a client ..., a login link is on its way' and
    the client waits for nothing. Saying an address is malformed reveals no account. (On
    PostgreSQL, the NUL reaches the email lookup, which cannot take it.)"""
    path = f"/portal/{slug}/login"
    token = portal_csrf_token(client, path)
    response = client.post(
        path, data={"link-csrf_token": token, "mode": "link", "link-email": email}
    )
    assert response.status_code == 422
    assert "on its way" not in html(response)
    assert "This is not a valid email address: " in html(response)
    assert ".." not in html(response)
    assert count(OutboxMessage) == 0


@pytest.mark.parametrize(
    "url", ["https://exa mple.com/hooks", "https://clinic.example:99999/hooks"]
)
def test_a_webhook_url_that_cannot_be_called_is_refused_beside_the_field(
    dashboard: Dashboard, url: str
) -> None:
    """webhooks.create_endpoint checks only the scheme and that urlsplit found a host."""
    response = dashboard.post("/admin/webhooks", {"url": url, "events": "booking.created"})
    assert response.status_code == 422
    assert field_error(html(response), "url")
    assert count(WebhookEndpoint) == 0


# Guarantees no other test pins down.


@pytest.mark.parametrize("target", ["/\\evil.example", "/\\/evil.example", "/\t/evil.example"])
def test_the_provider_login_never_redirects_off_site_through_backslashes(
    app: Flask, with_password: Provider, target: str
) -> None:
    """Browsers read '/\\evil.example' as '//evil.example'; it must not reach Location as is."""
    http = app.test_client()
    token = csrf_token(http.get("/admin/login").get_data(as_text=True))
    response = http.post(
        "/admin/login",
        query_string={"next": target},
        data={"csrf_token": token, "email": with_password.email, "password": PASSWORD},
    )
    location = response.headers["Location"]
    assert not location.startswith(("//", "/\\")) and not urlsplit(location).netloc


@pytest.mark.parametrize("target", ["/\\evil.example", "https://evil.example", "javascript:x"])
def test_the_portal_login_never_redirects_off_site(
    client: FlaskClient, slug: str, kim: dict[str, Any], target: str
) -> None:
    location = portal_log_in(client, slug, kim["email"], target).headers["Location"]
    assert not location.startswith(("//", "/\\")) and not urlsplit(location).netloc


@pytest.mark.parametrize(
    "start",
    [
        "",
        "T",
        "2026-12-01T09:50",
        "2026-12-01T09:50:30-05:00",
        "2026-12-01T09:50:00+05:45",
        "2026-12-01T09:50:00+23:59",
        "9000-12-31T10:00:00+14:00",
        "1900-01-01T00:00:00-12:00",
    ],
)
def test_an_odd_start_posted_in_the_portal_books_nothing_and_spends_nothing(
    client: FlaskClient,
    api: Any,
    slug: str,
    open_week: None,
    follow_up: dict[str, Any],
    kim: dict[str, Any],
    start: str,
) -> None:
    portal_log_in(client, slug, kim["email"])
    token = portal_csrf_token(client, f"/portal/{slug}/")
    response = client.post(
        f"/portal/{slug}/book",
        data={"csrf_token": token, "type": str(follow_up["id"]), "start": start},
    )
    assert 400 <= response.status_code < 500
    assert "internal_error" not in html(response)
    assert count(Booking) == 0
    assert balance(api, kim["id"], follow_up["id"]) == 2


@pytest.mark.parametrize(
    "start",
    [
        "",
        "2026-12-01T09:50",
        "2026-12-01T09:50:30-05:00",
        "2026-12-01T09:50:00+05:45",
        "9000-12-31T10:00:00+14:00",
        "1900-01-01T00:00:00-12:00",
    ],
)
def test_an_odd_start_posted_to_a_manage_link_leaves_the_booking_as_it_was(
    client: FlaskClient,
    api: Any,
    booked: dict[str, Any],
    kim: dict[str, Any],
    follow_up: dict[str, Any],
    start: str,
) -> None:
    response = client.post(f"{manage_path()}/reschedule", data={"start": start})
    assert 400 <= response.status_code < 500
    assert start_of(api, booked["id"]) == "2026-11-30T10:40:00-05:00"
    assert balance(api, kim["id"], follow_up["id"]) == 1
