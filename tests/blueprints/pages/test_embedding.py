"""Embedding: only /embed/ pages may be framed, and only by the provider's sites; the frame
learns its host's origin only if the provider allows it, and carries it through the flow."""

from urllib.parse import unquote_plus

import pytest

from .conftest import at, book, details_page, settings, share
from .page_parts import booking_form, hrefs, text

CLINIC = "https://clinic.example"


def frame_ancestors(response):
    policy = response.headers.get("Content-Security-Policy", "")
    [directive] = [d.strip() for d in policy.split(";") if d.strip().startswith("frame-ancestors")]
    return directive


def forbids_framing(response):
    return (
        response.headers.get("X-Frame-Options") == "DENY"
        and frame_ancestors(response) == "frame-ancestors 'none'"
    )


def test_embed_pages_may_be_framed_by_the_providers_allowed_origins(client, api, link):
    settings(api, embed_allowed_origins=[CLINIC, "http://localhost:8000"])
    response = client.get(f"/embed/{link['token']}")
    assert response.status_code == 200
    assert frame_ancestors(response) == (f"frame-ancestors 'self' {CLINIC} http://localhost:8000")
    assert "X-Frame-Options" not in response.headers


def test_without_allowed_origins_an_embed_page_may_be_framed_by_its_own_site_only(client, link):
    response = client.get(f"/embed/{link['token']}")
    assert frame_ancestors(response) == "frame-ancestors 'self'"
    assert "X-Frame-Options" not in response.headers


def test_every_step_and_answer_of_the_embed_flow_keeps_the_providers_rule(
    client, api, link, discovery
):
    settings(api, embed_allowed_origins=[CLINIC])
    steps = [
        details_page(client, link, discovery, at(9), prefix="/embed"),
        book(client, link, discovery, at(9), prefix="/embed"),
        book(client, link, discovery, at(10), prefix="/embed", email="bad"),
        client.get(f"/embed/{link['token']}", query_string={"tz": "Nowhere/Land", "type": "1"}),
    ]
    assert [r.status_code for r in steps] == [200, 202, 422, 400]
    assert all(frame_ancestors(r) == f"frame-ancestors 'self' {CLINIC}" for r in steps)


def test_a_revoked_link_still_explains_itself_inside_the_providers_site(client, api, link):
    settings(api, embed_allowed_origins=[CLINIC])
    api.delete(f"/api/v1/share-links/{link['id']}")
    response = client.get(f"/embed/{link['token']}")
    assert response.status_code == 410
    assert frame_ancestors(response) == f"frame-ancestors 'self' {CLINIC}"


def test_an_unknown_token_may_only_be_framed_by_its_own_site(client):
    response = client.get("/embed/nonsense")
    assert response.status_code == 404
    assert frame_ancestors(response) == "frame-ancestors 'self'"


def test_every_other_page_and_answer_forbids_framing(client, api, link, discovery):
    settings(api, embed_allowed_origins=[CLINIC])
    responses = [
        client.get(f"/l/{link['token']}"),
        book(client, link, discovery, at(9)),
        client.get("/l/nonsense"),
        client.get("/confirm/nonsense"),
        api.get("/api/v1/settings"),
        client.get(f"/api/v1/links/{link['token']}"),
        client.get("/api/v1/nothing-here"),
        client.get("/static/widget.css"),
        client.get("/no-such-page"),
        client.get("/embed.js"),
    ]
    for response in responses:
        response.close()
    assert all(forbids_framing(r) for r in responses), [r.headers for r in responses]


def test_every_answer_forbids_mime_sniffing_and_full_referrers(client, api, link):
    responses = [
        client.get(f"/l/{link['token']}"),
        client.get(f"/embed/{link['token']}"),
        client.get("/confirm/nonsense"),
        api.get("/api/v1/settings"),
        client.get("/static/widget.css"),
        client.get("/admin/login"),
        client.get("/no-such-page"),
    ]
    for response in responses:
        response.close()
        assert response.headers["X-Content-Type-Options"] == "nosniff", response.request.path
        assert response.headers["Referrer-Policy"] == "same-origin", response.request.path


def test_the_full_page_keeps_scripts_and_forms_to_its_own_origin(client, link):
    policy = client.get(f"/l/{link['token']}").headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "form-action 'self'" in policy


def test_embed_js_is_served_as_a_script(client):
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    script = text(response)
    assert "data-widget-link" in script and "widget:booked" in script
    assert "postMessage" not in script  # the host never posts into the frame
    assert (
        client.get("/embed.js", headers={"If-None-Match": response.headers["ETag"]}).status_code
        == 304
    )


# The host's origin: trusted only if allowed, then carried through the flow


@pytest.mark.parametrize(
    ("allowed", "origin", "trusted"),
    [
        ([CLINIC], CLINIC, True),
        ([CLINIC], "https://CLINIC.example/", True),
        ([CLINIC], "https://evil.example", False),
        ([], CLINIC, False),
        ([], "http://localhost", True),  # the widget's own origin
    ],
)
def test_the_frame_trusts_only_an_allowed_host_origin(client, api, link, allowed, origin, trusted):
    settings(api, embed_allowed_origins=allowed)
    html = text(client.get(f"/embed/{link['token']}", query_string={"origin": origin}))
    assert ("data-host-origin=" in html) is trusted
    if trusted:
        assert f'data-host-origin="{origin.lower().rstrip("/")}"' in html


def test_the_full_page_never_talks_to_a_host(client, api, link):
    settings(api, embed_allowed_origins=[CLINIC])
    html = text(client.get(f"/l/{link['token']}", query_string={"origin": CLINIC}))
    assert "data-host-origin" not in html


def test_the_host_origin_and_prefill_travel_through_the_flow(client, api, link, discovery):
    settings(api, embed_allowed_origins=[CLINIC])
    query = {"origin": CLINIC, "name": "Ada Host", "email": "ada@host.example"}
    week = text(client.get(f"/embed/{link['token']}", query_string=query))
    slot = unquote_plus(hrefs(week, "slot")[0])
    assert slot.startswith(f"/embed/{link['token']}?")
    assert f"origin={CLINIC}" in slot and "name=Ada Host" in slot
    form = booking_form(text(client.get(hrefs(week, "slot")[0])))
    assert form.fields["name"] == "Ada Host" and form.fields["email"] == "ada@host.example"
    assert form.action.startswith(f"/embed/{link['token']}?")
    answer = client.post(form.action, data=form.fields)
    assert answer.status_code == 202
    assert f'data-host-origin="{CLINIC}"' in text(answer)


def test_prefill_chooses_the_type_and_the_zone(client, api, discovery, make_type):
    intro = make_type(
        name="Intro Walk", duration_minutes=45, audience="new_clients", requires_credit=False
    )
    link = share(api, discovery, intro)
    html = text(
        client.get(
            f"/embed/{link['token']}", query_string={"type": intro["id"], "tz": "Asia/Tokyo"}
        )
    )
    assert "<h1>Intro Walk</h1>" in html
    assert '<option value="Asia/Tokyo" selected>' in html
    assert "data-tz-auto" not in html


def test_the_embed_answer_carries_the_bookings_public_data_for_the_host(
    client, api, link, discovery
):
    settings(api, public_booking_verification="none", embed_allowed_origins=[CLINIC])
    details = details_page(client, link, discovery, at(9), prefix="/embed", origin=CLINIC)
    form = booking_form(text(details))
    answer = client.post(form.action, data={**form.fields, "name": "V", "email": "v@example.com"})
    html = text(answer)
    assert answer.status_code == 201
    booking = api.get("/api/v1/bookings").get_json()["bookings"][0]
    assert f'data-booking-id="{booking["id"]}"' in html
    assert f'data-appointment-type-id="{discovery["id"]}"' in html
    assert f'data-start="{at(9).isoformat()}"' in html
    assert 'data-status="confirmed"' in html
    assert "v@example.com" not in html.split("data-booking-id")[1].split(">")[0]


def test_pages_load_their_script_from_their_own_origin(client, link):
    for prefix in ("/l", "/embed"):
        html = text(client.get(f"{prefix}/{link['token']}"))
        assert '<script src="/static/booking.js" defer></script>' in html
        assert "<script>" not in html
