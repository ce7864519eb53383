"""Who sees what: a stranger is sent to the login page and back, a client sees only their
own provider's portal and their own bookings, and every form needs its CSRF token."""

from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import at, book_as_provider, log_in, post, text

PAGES = [
    "/",
    "/credits/1",
    "/book",
    "/book?type=1&start=2026-11-30T09:00:00-05:00",
    "/bookings",
    "/bookings/1/cancel",
    "/bookings/1/move",
]


@pytest.mark.parametrize("page", PAGES)
def test_a_stranger_is_sent_to_the_login_page_and_back_afterwards(client, slug, page):
    response = client.get(f"/portal/{slug}{page}")
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == f"/portal/{slug}/login"
    assert parse_qs(target.query)["next"] == [f"/portal/{slug}{page}"]


def test_after_the_login_the_client_lands_on_the_page_they_asked_for(client, slug, customer):
    response = log_in(client, slug, customer["email"], next_path=f"/portal/{slug}/bookings")
    assert response.headers["Location"] == f"/portal/{slug}/bookings"
    assert client.get(f"/portal/{slug}/bookings").status_code == 200


def test_an_unknown_portal_is_not_found(client):
    response = client.get("/portal/nobody/")
    assert response.status_code == 404
    assert 'data-reason="not_found"' in text(response)


def test_a_client_of_one_provider_is_a_stranger_in_another_providers_portal(
    portal, create_provider
):
    other = create_provider(name="Dr. Bo")
    other_slug = other.api.get("/api/v1/settings").get_json()["slug"]
    response = portal.get(f"/portal/{other_slug}/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/portal/{other_slug}/login")


def test_another_providers_appointment_type_is_not_found(portal, slug, create_provider):
    other = create_provider(name="Dr. Bo")
    theirs = other.api.post(
        "/api/v1/appointment-types",
        json={
            "name": "Their Session",
            "duration_minutes": 50,
            "audience": "everyone",
            "requires_credit": False,
        },
    ).get_json()
    assert portal.get(f"/portal/{slug}/credits/{theirs['id']}").status_code == 404
    assert portal.get(f"/portal/{slug}/book?type={theirs['id']}").status_code == 404
    start = at(9).isoformat()
    response = post(portal, f"/portal/{slug}/book", {"type": theirs["id"], "start": start})
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/cancel", "/move"])
def test_another_clients_booking_is_not_found_and_stays_as_it_was(
    portal, slug, api, make_client, follow_up, buy, spring_reset, path
):
    someone = make_client(email="noor@example.com", name="Noor")
    buy(someone["id"], spring_reset["id"])
    theirs = book_as_provider(api, someone["id"], follow_up["id"], at(9))
    url = f"/portal/{slug}/bookings/{theirs['id']}{path}"
    assert portal.get(url).status_code == 404
    assert post(portal, url, {"start": at(11, 30).isoformat()}).status_code == 404
    [booking] = api.get("/api/v1/bookings").get_json()["bookings"]
    assert (booking["status"], booking["start"]) == ("confirmed", at(9).isoformat())


def test_an_id_too_large_for_the_database_is_simply_not_found(portal, slug):
    assert portal.get(f"/portal/{slug}/book?type=99999999999").status_code == 404
    assert portal.get(f"/portal/{slug}/book?type=abc").status_code == 404


@pytest.mark.parametrize(
    "form", ["/book", "/bookings/{id}/cancel", "/bookings/{id}/move", "/password", "/logout"]
)
def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    portal, slug, api, follow_up, customer, form
):
    booked = book_as_provider(api, customer["id"], follow_up["id"], at(9))
    response = portal.post(
        f"/portal/{slug}" + form.format(id=booked["id"]),
        data={"type": follow_up["id"], "start": at(11, 30).isoformat()},
    )
    assert response.status_code == 400
    assert 'data-reason="csrf_failed"' in text(response)
    [booking] = api.get("/api/v1/bookings").get_json()["bookings"]
    assert (booking["status"], booking["start"]) == ("confirmed", at(9).isoformat())
    assert portal.get(f"/portal/{slug}/").status_code == 200  # still logged in


def test_logging_out_ends_the_portal_session(portal, slug):
    assert post(portal, f"/portal/{slug}/logout").status_code == 302
    assert portal.get(f"/portal/{slug}/").status_code == 302


def test_every_portal_page_shares_the_one_layout_and_stylesheet(portal, slug, follow_up):
    for page in ["/", f"/credits/{follow_up['id']}", "/book", "/bookings"]:
        html = text(portal.get(f"/portal/{slug}{page}"))
        assert 'class="app-header"' in html and "widget.css" in html
        assert '<nav class="app-nav portal-nav" aria-label="Portal">' in html
