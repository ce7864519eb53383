"""Every refusal has a page that says what happened and what to do, with its status."""

import re
from datetime import timedelta

import pytest

from widget.blueprints.api.base import STATUS
from widget.blueprints.pages import REASONS, error_page
from widget.extensions import db
from widget.models import Booking, OutboxMessage

from .conftest import at, book, details_page, settings, share
from .page_parts import booking_form, read_forms, text


def reason(response, status, code):
    html = text(response)
    assert response.status_code == status, html
    assert f'data-reason="{code}"' in html
    assert 'role="alert"' in html
    return html


@pytest.mark.parametrize("code", sorted(STATUS))
def test_every_reason_code_has_its_own_page_and_status(app, code):
    with app.test_request_context("/l/token"):
        page, status = error_page(code, "What happened.")
    assert code in REASONS
    assert status == STATUS[code]
    assert REASONS[code][0] in page
    assert f"<code>{code}</code>" in page


@pytest.mark.parametrize("prefix", ["/l", "/embed"])
def test_a_token_that_names_no_link_is_link_invalid(client, prefix):
    reason(client.get(f"{prefix}/nonsense"), 404, "link_invalid")
    reason(client.post(f"{prefix}/nonsense", data={"name": "V"}), 404, "link_invalid")


def test_a_revoked_link_says_so(client, api, link):
    api.delete(f"/api/v1/share-links/{link['id']}")
    reason(client.get(f"/l/{link['token']}"), 410, "link_revoked")


def test_an_expired_link_says_so(client, api, discovery, clock):
    link = share(api, discovery, expires_at=(clock.now + timedelta(hours=1)).isoformat())
    clock.advance(hours=2)
    reason(client.get(f"/l/{link['token']}"), 410, "link_expired")


def test_a_used_up_link_says_so(client, api, discovery):
    link = share(api, discovery, max_uses=1)
    assert book(client, link, discovery, at(9)).status_code == 202
    reason(client.get(f"/l/{link['token']}"), 410, "link_exhausted")


def test_a_time_taken_while_the_form_was_open_offers_another(client, link, discovery):
    late = booking_form(text(details_page(client, link, discovery, at(9))))
    assert book(client, link, discovery, at(9), email="first@example.com").status_code == 202
    data = {**late.fields, "name": "Second", "email": "second@example.com"}
    html = reason(client.post(late.action, data=data), 409, "slot_unavailable")
    assert f"type={discovery['id']}" in html and "Choose another time" in html
    assert len(db.session.scalars(db.select(Booking)).all()) == 1


def test_after_a_time_was_taken_another_is_one_click_away_with_the_details_kept(
    client, link, discovery, clock
):
    late = booking_form(text(details_page(client, link, discovery, at(9))))
    assert book(client, link, discovery, at(9), email="first@example.com").status_code == 202
    typed = {"name": "Second Visitor", "email": "second@example.com"}
    html = reason(client.post(late.action, data={**late.fields, **typed}), 409, "slot_unavailable")
    [other] = [f for f in read_forms(html)[0] if f.fields.get("pick")]
    offered = re.findall(r'name="start" value="([^"]+)"', html)
    assert at(10).isoformat() in offered
    assert at(9).isoformat() not in offered  # the time that was taken is not offered again
    assert "second@example.com" not in other.action  # the email travels in the body only
    picked = {**other.fields, "start": at(10).isoformat()}
    again = booking_form(text(client.post(other.action, data=picked)))
    assert {k: again.fields[k] for k in typed} == typed
    assert again.fields["start"] == at(10).isoformat()
    assert book_with(client, again).status_code == 202
    [hold] = db.session.scalars(db.select(Booking).where(Booking.email == "second@example.com"))
    assert hold.start_at == at(10)


def book_with(client, form):
    return client.post(form.action, data=form.fields)


@pytest.mark.parametrize(
    ("start", "code"),
    [
        ("2026-11-24T09:30:00-05:00", "too_soon"),
        ("2026-11-28T10:00:00-05:00", "outside_availability"),
        ("2027-06-01T10:00:00-04:00", "too_far_ahead"),
    ],
)
def test_a_start_outside_the_rules_is_explained(client, api, make_type, start, code):
    noticed = make_type(
        name="Noticed",
        duration_minutes=30,
        audience="new_clients",
        requires_credit=False,
        min_notice_minutes=120,
    )
    link = share(api, noticed)
    form = booking_form(text(details_page(client, link, noticed, at(9))))
    data = {**form.fields, "start": start, "name": "V", "email": "v@example.com"}
    reason(client.post(form.action, data=data), 422, code)


@pytest.fixture
def everyone_public(api):
    settings(api, public_links_new_client_only=False)


def test_a_type_dropped_from_public_links_is_refused(client, api, make_type, everyone_public):
    session = make_type(name="Session", audience="everyone")
    link = share(api, session)
    form = booking_form(text(details_page(client, link, session, at(9))))
    settings(api, public_links_new_client_only=True)
    page = client.get(f"/l/{link['token']}", query_string={"type": session["id"]})
    reason(page, 403, "type_not_public")
    data = {**form.fields, "name": "V", "email": "v@example.com"}
    reason(client.post(form.action, data=data), 403, "type_not_public")


def portal_link(api):
    """The portal's step for the slot the visitor chose, opened top level (not in the frame)."""
    slug = api.get("/api/v1/settings").get_json()["slug"]
    return re.compile(
        rf'href="/portal/{slug}/book\?type=\d+&amp;start=[^"]+" target="_blank" rel="noopener"'
    )


def test_an_existing_clients_type_points_to_the_portal_top_level(
    client, api, make_type, everyone_public
):
    settings(api, public_booking_verification="none")
    follow_up = make_type(audience="existing_clients", requires_credit=False)
    link = share(api, follow_up)
    for prefix in ("/l", "/embed"):
        html = reason(book(client, link, follow_up, at(9), prefix=prefix), 403, "login_required")
        assert portal_link(api).search(html)


def test_an_existing_client_on_a_new_client_type_is_pointed_to_the_portal(
    client, api, link, discovery
):
    settings(api, public_booking_verification="none")
    assert book(client, link, discovery, at(9), email="once@example.com").status_code == 201
    again = book(client, link, discovery, at(10), email="once@example.com")
    assert portal_link(api).search(reason(again, 403, "new_clients_only"))


def test_the_confirmation_page_points_an_existing_client_to_the_portal(
    client, api, link, discovery
):
    settings(api, public_booking_verification="none")
    book(client, link, discovery, at(9), email="once@example.com")
    settings(api, public_booking_verification="email")
    assert book(client, link, discovery, at(10), email="once@example.com").status_code == 202
    message = db.session.scalars(
        db.select(OutboxMessage)
        .where(OutboxMessage.recipient == "once@example.com")
        .order_by(OutboxMessage.id.desc())
    ).first()
    confirm = re.search(r"https?://[^/\s]+(/confirm/\S+)", message.text_body).group(1)
    html = reason(client.get(confirm), 403, "new_clients_only")
    assert portal_link(api).search(html)


def test_a_stranger_cannot_book_a_credit_type(client, api, make_type, everyone_public):
    settings(api, public_booking_verification="none")
    session = make_type(name="Session", audience="everyone", requires_credit=True)
    link = share(api, session)
    reason(book(client, link, session, at(9)), 403, "insufficient_credits")
