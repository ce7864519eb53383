"""The share link's booking page without JavaScript: types, free times in the visitor's zone,
the form, and the answer, with every input checked and every refusal explained."""

import re
import time
from urllib.parse import unquote

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from widget.domain import tokens
from widget.extensions import db
from widget.models import Booking, OutboxMessage

from .conftest import at, book, details_page, settings, share
from .page_parts import booking_form, hrefs, read_forms, text


def bookings_made():
    return db.session.scalars(db.select(Booking)).all()


def emails_sent():
    return db.session.scalars(db.select(OutboxMessage)).all()


# Choosing a type and a time


def test_the_page_lists_the_links_appointment_types(client, api, discovery, make_type):
    intro = make_type(
        name="Intro Walk", duration_minutes=45, audience="new_clients", requires_credit=False
    )
    link = share(api, discovery, intro)
    page = client.get(f"/l/{link['token']}")
    assert page.status_code == 200
    html = text(page)
    assert "Discovery Call" in html and "Intro Walk" in html and "45 minutes" in html
    targets = hrefs(html, "type")
    assert [t.split("type=")[1] for t in targets] == [str(discovery["id"]), str(intro["id"])]


def test_a_link_with_one_type_opens_straight_on_its_free_times(client, link):
    html = text(client.get(f"/l/{link['token']}"))
    assert "Discovery Call" in html
    times = hrefs(html, "slot")
    assert times, html
    # Tuesday 24 November from 09:00 New York (the clock's now), in the provider's zone
    assert "start=2026-11-24T09:00:00-05:00" in unquote(times[0])


def test_free_times_are_shown_in_the_visitors_zone(client, link, discovery):
    page = client.get(
        f"/l/{link['token']}",
        query_string={"type": discovery["id"], "tz": "Europe/Berlin", "week": "2026-11-30"},
    )
    html = text(page)
    assert page.status_code == 200
    assert '<time datetime="2026-11-30T15:00:00+01:00">15:00</time>' in html  # 09:00 in New York
    assert "Monday 30 November" in html
    assert '<option value="Europe/Berlin" selected>' in html


def test_without_a_chosen_zone_the_page_shows_the_providers_and_lets_the_browser_choose(
    client, link
):
    html = text(client.get(f"/l/{link['token']}"))
    assert '<select id="tz" name="tz" data-tz-auto>' in html
    assert '<option value="America/New_York" selected>' in html
    assert '<label for="tz">' in html


def test_the_week_moves_forward_and_never_into_the_past(client, link, discovery):
    html = text(client.get(f"/l/{link['token']}", query_string={"type": discovery["id"]}))
    assert 'rel="prev"' not in html
    [later] = re.findall(r'rel="next" href="([^"]+)"', html)
    assert "week=2026-12-01" in later
    past = client.get(
        f"/l/{link['token']}", query_string={"type": discovery["id"], "week": "2020-01-06"}
    )
    assert "Tue 24 Nov" in text(past) and "Mon 30 Nov" in text(past)
    assert '<h3 id="day-2026-11-24">Tuesday 24 November</h3>' in text(past)


def test_choosing_a_time_asks_for_name_and_email_with_labels(client, link, discovery):
    html = text(details_page(client, link, discovery, at(9)))
    forms, labels = read_forms(html)
    form = booking_form(html)
    visible = [i for i in form.inputs if i.get("type") != "hidden" and i["name"] != "website"]
    assert {i["name"] for i in visible} == {"name", "email"}
    assert all(i["id"] in labels for i in visible)
    assert form.fields["start"] == "2026-11-30T09:00:00-05:00"
    assert form.fields["type"] == str(discovery["id"])
    assert form.action == f"/l/{link['token']}"
    [email] = [i for i in visible if i["name"] == "email"]
    assert (email["type"], email["autocomplete"]) == ("email", "email")


def test_the_honeypot_is_hidden_from_people_and_keyboards(client, link, discovery):
    html = text(details_page(client, link, discovery, at(9)))
    [trap] = [i for i in booking_form(html).inputs if i["name"] == "website"]
    assert (trap["tabindex"], trap["autocomplete"]) == ("-1", "off")
    assert re.search(r'<div class="hp" aria-hidden="true">\s*<label for="website">', html)


def test_pages_declare_language_and_a_phone_sized_viewport(client, link):
    html = text(client.get(f"/l/{link['token']}"))
    assert '<html lang="en">' in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html


def test_a_time_taken_meanwhile_shows_the_week_again_with_a_notice(client, link, discovery):
    details = details_page(client, link, discovery, at(9))
    assert book(client, link, discovery, at(9)).status_code == 202
    again = client.get(
        f"/l/{link['token']}",
        query_string={
            "type": discovery["id"],
            "tz": "America/New_York",
            "start": at(9).isoformat(),
        },
    )
    assert again.status_code == 409
    assert 'role="alert"' in text(again)
    assert "no longer free" in text(again)
    assert details.status_code == 200


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"tz": "Mars/Olympus"}, 400),
        ({"tz": "localtime"}, 400),
        ({"week": "2026-13-01"}, 400),
        ({"week": "9999-12-31"}, 200),
        ({"start": "yesterday"}, 400),
        ({"start": "2026-11-30T09:00:00"}, 400),
        ({"start": "9999-12-31T23:00:00-05:00"}, 400),
        ({"start": "2026-11-30T09:07:00-05:00"}, 409),
        ({"type": "abc"}, 404),
        ({"type": "²"}, 404),
        ({"type": "99999999999"}, 404),
        ({"type": "0"}, 404),
    ],
)
def test_bad_addresses_get_a_clear_page_never_a_crash(client, link, discovery, query, status):
    response = client.get(f"/l/{link['token']}", query_string={"type": discovery["id"], **query})
    assert response.status_code == status, text(response)
    assert "<h1>" in text(response)


def test_another_providers_type_is_not_found(client, link, create_provider):
    other = create_provider()
    foreign = other.api.post(
        "/api/v1/appointment-types",
        json={
            "name": "X",
            "duration_minutes": 30,
            "audience": "new_clients",
            "requires_credit": False,
        },
    ).get_json()
    response = client.get(f"/l/{link['token']}", query_string={"type": foreign["id"]})
    assert response.status_code == 404
    assert 'data-reason="not_found"' in text(response)


# Booking


def test_the_form_holds_the_time_and_says_check_your_email(client, api, link, discovery):
    response = book(client, link, discovery, at(9), email="New.Person@Example.com")
    assert response.status_code == 202
    html = text(response)
    assert "Check your email" in html
    assert 'data-status="pending_verification"' in html
    [booking] = bookings_made()
    assert (booking.status.value, booking.email, booking.name) == (
        "pending_verification",
        "new.person@example.com",
        "Visitor",
    )
    [email] = emails_sent()
    assert email.recipient == "new.person@example.com"
    assert "/confirm/" in email.text_body


def test_without_verification_the_form_confirms_at_once(client, api, link, discovery):
    settings(api, public_booking_verification="none")
    response = book(client, link, discovery, at(10, day=1), tz="America/New_York")
    assert response.status_code == 201
    html = text(response)
    assert "Your booking is confirmed" in html
    [booking] = bookings_made()
    assert booking.status.value == "confirmed"
    assert f'data-booking-id="{booking.id}"' in html
    assert 'data-start="2026-12-01T10:00:00-05:00"' in html
    assert len(emails_sent()) == 1


def test_the_booking_keeps_the_visitors_zone(client, api, link, discovery):
    settings(api, public_booking_verification="none")
    form = booking_form(text(details_page(client, link, discovery, at(9), tz="Europe/Berlin")))
    assert form.fields["tz"] == "Europe/Berlin"
    data = {**form.fields, "name": "V", "email": "v@example.com"}
    response = client.post(form.action, data=data)
    assert response.status_code == 201
    assert "15:00 to 15:30" in text(response)
    assert bookings_made()[0].timezone == "Europe/Berlin"


def test_a_personal_link_books_as_its_client_without_asking_who(
    client, api, discovery, make_client
):
    person = make_client()
    link = share(api, discovery, client_id=person["id"])
    form = booking_form(text(details_page(client, link, discovery, at(9))))
    assert "name" not in form.fields and "email" not in form.fields
    response = client.post(form.action, data=form.fields)
    assert response.status_code == 201
    assert bookings_made()[0].client_id == person["id"]


def test_a_personal_link_says_up_front_that_its_client_has_no_credit_left(
    client, api, follow_up, make_client, make_package, buy
):
    # Under the portal's rules, as the portal does: not a week of times refused at the end.
    person = make_client()
    buy(person["id"], make_package([{"appointment_type_id": follow_up["id"], "quantity": 1}])["id"])
    booked = {"client_id": person["id"], "appointment_type_id": follow_up["id"]}
    booked["start"] = at(9).isoformat()  # spends the one credit
    assert api.post("/api/v1/bookings", json=booked).status_code == 201
    link = share(api, follow_up, client_id=person["id"])
    page = client.get(f"/l/{link['token']}", query_string={"type": follow_up["id"]})
    assert page.status_code == 403
    assert "No credit is left" in text(page)
    assert hrefs(text(page), "slot") == []


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"name": "  "}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "x"}, "email"),
        ({"name": "x" * 201}, "name"),
        ({"name": "nul\x00name"}, "name"),
    ],
)
def test_bad_details_come_back_on_the_form_with_the_input_kept(
    client, link, discovery, fields, bad
):
    response = book(client, link, discovery, at(9), **{"email": "kept@example.com", **fields})
    assert response.status_code == 422
    html = text(response)
    assert 'role="alert"' in html
    assert f'id="{bad}-error"' in html
    assert re.search(rf'id="{bad}" name="{bad}"[^>]*aria-invalid="true"', html)
    if bad != "email":
        assert 'value="kept@example.com"' in html
    assert "must not be empty" not in html or not fields.get(bad, "").strip()
    assert bookings_made() == []


def test_a_filled_honeypot_answers_like_a_booking_and_makes_nothing(client, link, discovery):
    response = book(client, link, discovery, at(9), website="http://spam.example")
    assert response.status_code == 202
    assert "Check your email" in text(response)
    assert "data-booking-id" not in text(response)
    assert bookings_made() == []
    assert emails_sent() == []


# The form's protection without cookies


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"},
    ],
)
def test_a_form_sent_from_another_site_is_refused(client, link, discovery, headers):
    response = book(client, link, discovery, at(9), headers=headers)
    assert response.status_code == 403
    assert 'data-reason="cross_site"' in text(response)
    assert bookings_made() == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
        {},
    ],
)
def test_a_form_sent_from_its_own_page_is_accepted(client, link, discovery, headers):
    assert book(client, link, discovery, at(9), headers=headers).status_code == 202


def _old_form_token(link_id):
    class Yesterday(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - 3 * 60 * 60

    keys = ["old-test-key-0123456789", "test-key-0123456789abcdef"]
    serializer = URLSafeTimedSerializer(keys, salt=tokens.BOOKING_FORM, signer=Yesterday)
    return serializer.dumps({"link": link_id})


@pytest.mark.parametrize("kind", ["tampered", "expired", "another link", "missing"])
def test_a_bad_form_token_shows_the_form_again_with_the_input_kept(
    client, api, link, discovery, kind
):
    other = share(api, discovery)
    form = booking_form(text(details_page(client, link, discovery, at(9))))
    token = {
        "tampered": form.fields["form_token"][:-2] + "xx",
        "expired": _old_form_token(link["id"]),
        "another link": tokens.sign_timed(
            {"link": other["id"]}, ["test-key-0123456789abcdef"], tokens.BOOKING_FORM
        ),
        "missing": "",
    }[kind]
    data = {**form.fields, "form_token": token, "name": "Kept Name", "email": "kept@example.com"}
    response = client.post(form.action, data=data)
    assert response.status_code == 400
    html = text(response)
    assert 'role="alert"' in html and "send it again" in html
    assert 'value="Kept Name"' in html and 'value="kept@example.com"' in html
    assert bookings_made() == []
    retry = booking_form(html)
    assert retry.fields["form_token"] != token
    assert client.post(retry.action, data=retry.fields).status_code == 202


def test_a_fresh_form_token_from_the_other_signing_key_still_works(client, link, discovery):
    form = booking_form(text(details_page(client, link, discovery, at(9))))
    older = tokens.sign_timed(
        {"link": link["id"]}, ["old-test-key-0123456789"], tokens.BOOKING_FORM
    )
    data = {**form.fields, "form_token": older, "name": "V", "email": "v@example.com"}
    assert client.post(form.action, data=data).status_code == 202


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        ("start", "not a time", 400),
        ("tz", "Mars/Olympus", 400),
        ("type", "abc", 404),
    ],
)
def test_tampered_hidden_fields_get_a_clear_page(client, link, discovery, field, value, status):
    form = booking_form(text(details_page(client, link, discovery, at(9))))
    data = {**form.fields, field: value, "name": "V", "email": "v@example.com"}
    response = client.post(form.action, data=data)
    assert response.status_code == status, text(response)
    assert bookings_made() == []


def test_no_page_of_the_flow_sets_a_cookie(client, api, link, discovery):
    responses = []
    for prefix, hour in (("/l", 9), ("/embed", 10)):
        responses.append(client.get(f"{prefix}/{link['token']}"))
        responses.append(details_page(client, link, discovery, at(hour), prefix=prefix))
        responses.append(book(client, link, discovery, at(hour), prefix=prefix))
        responses.append(book(client, link, discovery, at(hour + 1), prefix=prefix, website="x"))
        responses.append(
            book(client, link, discovery, at(hour + 2), prefix=prefix, form_token="forged")
        )
        responses.append(client.get(f"{prefix}/not-a-token"))
    responses.append(client.get("/embed.js"))
    assert {r.status_code for r in responses} == {200, 202, 400, 404}
    assert [r.headers.get_all("Set-Cookie") for r in responses] == [[]] * len(responses)


def test_the_result_page_links_back_to_book_again(client, link, discovery):
    html = text(book(client, link, discovery, at(9)))
    assert f'href="/l/{link["token"]}' in html


def test_the_hold_is_shown_with_its_end_in_the_visitors_zone(client, link, discovery):
    html = text(book(client, link, discovery, at(9)))
    assert "by 09:15" in html  # held for 15 minutes from 09:00 New York (the clock)
    assert f'datetime="{at(9).isoformat()}"' in html
