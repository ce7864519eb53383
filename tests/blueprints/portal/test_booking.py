"""Booking in the portal: the types the policy lets this client book, free times in the
client's zone, a confirmation step, and every refusal explained on the page."""

import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy import select

from widget.extensions import db
from widget.models import OutboxMessage

from ..pages.page_parts import booking_form, read_forms
from .conftest import at, balance, book_as_provider, log_in, ok, post, text


def slot_links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'<a class="slot" href="([^"]+)"', html)]


def choose(portal: Any, slug: str, type_id: int, start: Any, **query: str) -> Any:
    """The confirmation step for a start, reached as a client would: by its slot link."""
    week = portal.get(
        f"/portal/{slug}/book",
        query_string={"type": type_id, "week": start.date().isoformat(), **query},
    )
    assert week.status_code == 200, text(week)
    wanted = start.isoformat() if not query.get("tz") else None
    [link] = [h for h in slot_links(text(week)) if wanted is None or wanted in unquote(h)][:1]
    return portal.get(link)


def confirm(portal: Any, page: Any) -> Any:
    [form] = [f for f in read_forms(text(page))[0] if f.method == "post" and "book" in f.action]
    return portal.post(form.action, data=form.fields)


def bookings(api: Any) -> list[dict[str, Any]]:
    return list(api.get("/api/v1/bookings").get_json()["bookings"])


def test_the_book_page_offers_what_the_policy_lets_this_client_book(
    portal, slug, make_type, follow_up
):
    make_type(name="Discovery Call", audience="new_clients", requires_credit=False)
    make_type(name="Group Class", audience="everyone", requires_credit=False)
    make_type(name="Massage", requires_credit=True)
    make_type(name="Retired Session", requires_credit=False, active=False)
    html = text(portal.get(f"/portal/{slug}/book"))
    offered = re.findall(r'data-bookable="(true|false)">\s*<div>\s*<h2>([^<]+)</h2>', html)
    assert [(name, flag) for flag, name in offered] == [
        ("Follow-Up", "true"),
        ("Group Class", "true"),
        ("Massage", "false"),
    ]
    assert 'data-reason="insufficient_credits"' in html
    assert "Uses 1 credit · you have 2" in html


def test_a_client_books_a_follow_up_with_a_credit(portal, slug, api, follow_up, customer):
    page = choose(portal, slug, follow_up["id"], at(9))
    assert page.status_code == 200
    assert "Uses 1 of your 2 Follow-Up credits: 1 left after." in text(page)
    response = confirm(portal, page)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/portal/{slug}/"
    home = text(portal.get(f"/portal/{slug}/"))
    assert "Booked: Follow-Up, Monday 30 November at 09:00." in home
    assert 'data-balance="1"' in home
    [booking] = bookings(api)
    assert (booking["status"], booking["channel"], booking["start"]) == (
        "confirmed",
        "portal",
        at(9).isoformat(),
    )
    assert balance(api, customer["id"], follow_up["id"]) == 1
    [mail] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.subject.startswith("Booked:"))
    ).all()
    assert mail.recipient == customer["email"] and "/manage/" in mail.text_body


def test_free_times_are_shown_in_the_zone_the_client_chose(portal, slug, follow_up):
    week = portal.get(
        f"/portal/{slug}/book",
        query_string={"type": follow_up["id"], "week": "2026-11-30", "tz": "Europe/Berlin"},
    )
    assert '<time datetime="2026-11-30T15:00:00+01:00">15:00</time>' in text(week)
    later = text(portal.get(f"/portal/{slug}/book?type={follow_up['id']}&week=2026-11-30"))
    assert '<option value="Europe/Berlin" selected>' in later  # kept for the visit


def test_an_unknown_zone_is_explained_next_to_its_field(portal, slug, follow_up):
    page = portal.get(f"/portal/{slug}/book?type={follow_up['id']}&tz=Mars/Olympus")
    html = text(page)
    assert page.status_code == 200
    assert re.search(r'aria-invalid="true" aria-describedby="tz-error"', html)
    assert "&#39;Mars/Olympus&#39; is not a time zone we know" in html


def test_a_new_client_is_told_a_type_is_for_existing_clients(client, slug, make_client, follow_up):
    newcomer = make_client(email="new@example.com", name="New")
    log_in(client, slug, newcomer["email"])
    page = client.get(f"/portal/{slug}/book?type={follow_up['id']}")
    assert page.status_code == 403
    assert 'data-reason="existing_clients_only"' in text(page)


def test_an_existing_client_is_told_a_type_is_for_new_clients_and_offered_the_same_time(
    portal, slug, make_type, follow_up
):
    discovery = make_type(name="Discovery Call", audience="new_clients", requires_credit=False)
    start = at(9).isoformat()
    page = portal.get(
        f"/portal/{slug}/book", query_string={"type": discovery["id"], "start": start}
    )
    html = text(page)
    assert page.status_code == 403
    assert 'data-reason="new_clients_only"' in html
    assert "You can book instead at 09:00 on Monday 30 November" in html
    [other] = re.findall(r'<a class="type" href="([^"]+)"', html)
    assert parse_qs(urlsplit(unescape(other)).query) == {
        "type": [str(follow_up["id"])],
        "start": [start],
    }


def test_a_refused_booking_posted_anyway_shows_the_reason_and_books_nothing(
    portal, slug, api, make_type
):
    discovery = make_type(name="Discovery Call", audience="new_clients", requires_credit=False)
    response = post(
        portal, f"/portal/{slug}/book", {"type": discovery["id"], "start": at(9).isoformat()}
    )
    assert response.status_code == 403
    assert "This appointment is for new clients" in text(response)
    assert bookings(api) == []


@pytest.fixture
def no_credits(client, slug, make_client, make_type, make_package, buy):
    """An existing client (they bought something else) with no Follow-Up credit."""
    massage = make_type(name="Massage")
    person = make_client(email="zoe@example.com", name="Zoe")
    buy(person["id"], make_package([{"appointment_type_id": massage["id"], "quantity": 1}])["id"])
    log_in(client, slug, person["email"])
    return person


def test_without_credits_booking_is_refused_with_the_reason(
    client, slug, api, follow_up, no_credits
):
    start = at(9).isoformat()
    page = client.get(
        f"/portal/{slug}/book", query_string={"type": follow_up["id"], "start": start}
    )
    assert page.status_code == 403
    assert 'data-reason="insufficient_credits"' in text(page)
    response = post(client, f"/portal/{slug}/book", {"type": follow_up["id"], "start": start})
    assert response.status_code == 403
    assert "No credit is left for this appointment type." in text(response)
    assert bookings(api) == []


def test_the_negative_limit_lets_a_client_book_without_credits_down_to_it(
    client, slug, api, follow_up, no_credits
):
    ok(api.patch("/api/v1/settings", json={"negative_credit_limit": 1}))
    page = choose(client, slug, follow_up["id"], at(9))
    assert "your balance will be -1" in text(page)
    assert confirm(client, page).status_code == 302
    assert balance(api, no_credits["id"], follow_up["id"]) == -1
    again = post(
        client, f"/portal/{slug}/book", {"type": follow_up["id"], "start": at(11, 30).isoformat()}
    )
    assert again.status_code == 403
    assert "No credit is left for this appointment type." in text(again)


def test_a_time_taken_meanwhile_shows_the_week_again_with_the_reason(
    portal, slug, api, make_client, buy, spring_reset, follow_up, customer
):
    page = choose(portal, slug, follow_up["id"], at(9))
    someone = make_client(email="noor@example.com", name="Noor")
    buy(someone["id"], spring_reset["id"])
    book_as_provider(api, someone["id"], follow_up["id"], at(9))
    response = confirm(portal, page)
    assert response.status_code == 409
    assert "This time has just been taken." in text(response)
    assert slot_links(text(response))  # other times to choose from
    assert len(bookings(api)) == 1
    assert balance(api, customer["id"], follow_up["id"]) == 2


def test_a_time_no_longer_free_is_not_offered_for_confirmation(
    portal, slug, api, make_client, buy, spring_reset, follow_up
):
    someone = make_client(email="noor@example.com", name="Noor")
    buy(someone["id"], spring_reset["id"])
    book_as_provider(api, someone["id"], follow_up["id"], at(9))
    start = at(9).isoformat()
    page = portal.get(
        f"/portal/{slug}/book", query_string={"type": follow_up["id"], "start": start}
    )
    assert page.status_code == 409
    assert "That time is no longer free. Please choose another." in text(page)


@pytest.mark.parametrize("start", ["tomorrow", "2026-11-30T09:00:00"])
def test_a_malformed_start_is_a_bad_request_page(portal, slug, follow_up, start):
    page = portal.get(
        f"/portal/{slug}/book", query_string={"type": follow_up["id"], "start": start}
    )
    assert page.status_code == 400
    assert 'data-reason="bad_request"' in text(page)


def test_a_public_link_that_needs_a_login_brings_the_client_back_to_their_slot(
    client, slug, api, follow_up, customer
):
    ok(
        api.patch(
            "/api/v1/settings",
            json={
                "public_links_new_client_only": False,
                "public_booking_verification": "none",
            },
        )
    )
    link = api.post("/api/v1/share-links", json={"appointment_type_ids": [follow_up["id"]]})
    token = link.get_json()["token"]
    start = at(9).isoformat()
    details = client.get(f"/l/{token}", query_string={"type": follow_up["id"], "start": start})
    form = booking_form(text(details))
    refused = client.post(
        form.action, data={**form.fields, "name": "Mia", "email": customer["email"]}
    )
    assert refused.status_code == 403
    [portal_link] = re.findall(r'<a class="button" href="([^"]+)"', text(refused))
    portal_link = unescape(portal_link)
    assert parse_qs(urlsplit(portal_link).query) == {
        "type": [str(follow_up["id"])],
        "start": [start],
        "tz": ["America/New_York"],
    }
    to_login = client.get(portal_link)
    next_path = parse_qs(urlsplit(to_login.headers["Location"]).query)["next"][0]
    assert next_path == portal_link
    back = log_in(client, slug, customer["email"], next_path=next_path)
    assert back.headers["Location"] == portal_link
    page = client.get(portal_link)
    assert page.status_code == 200
    assert "Confirm your booking" in text(page)
    assert f'name="start" value="{start}"' in text(page)


def test_a_refused_confirmation_link_points_to_the_portal_at_the_same_time(
    client, slug, api, make_type, customer
):
    discovery = make_type(name="Discovery Call", audience="new_clients", requires_credit=False)
    token = api.post(
        "/api/v1/share-links", json={"appointment_type_ids": [discovery["id"]]}
    ).get_json()["token"]
    start = at(9).isoformat()
    held = client.post(
        f"/api/v1/links/{token}/bookings",
        json={
            "appointment_type_id": discovery["id"],
            "start": start,
            "name": "Mia",
            "email": customer["email"],
        },
    )
    assert held.status_code == 202
    mail = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == customer["email"])
        .order_by(OutboxMessage.id.desc())
    ).first()
    confirm_path = re.search(r"https?://[^/\s]+(/confirm/\S+)", mail.text_body).group(1)
    refused = client.get(confirm_path)
    assert refused.status_code == 403
    [portal_link] = re.findall(r'<a class="button" href="([^"]+)"', text(refused))
    query = parse_qs(urlsplit(unescape(portal_link)).query)
    assert (query["type"], query["start"]) == ([str(discovery["id"])], [start])
