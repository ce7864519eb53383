"""Share links: created by the provider, read by anyone holding the token, checked every use."""

from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer

from .helpers import expect_error, link_slots, ok

LINKS = "/api/v1/share-links"
WEEK = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}


def _link(api, **fields):
    response = api.post(LINKS, json=fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_link_for_a_new_client_type_names_its_page_and_embed(api, discovery):
    link = _link(api, appointment_type_ids=[discovery["id"]], label="Website")
    assert link["url"].endswith(f"/l/{link['token']}")
    assert link["embed_url"].endswith(f"/embed/{link['token']}")
    assert f'data-widget-link="{link["token"]}"' in link["embed_snippet"]
    assert api.get(LINKS).get_json()["share_links"][0]["id"] == link["id"]


def test_anyone_with_the_token_sees_the_provider_and_the_types(client, api, discovery):
    link = _link(api, appointment_type_ids=[discovery["id"]])
    info = client.get(f"/api/v1/links/{link['token']}")
    assert info.status_code == 200
    body = info.get_json()
    assert body["provider"] == {"name": "Dr. Ada 1", "timezone": "America/New_York"}
    assert body["appointment_types"] == [
        {
            "id": discovery["id"],
            "name": "Discovery Call",
            "duration_minutes": 30,
            "audience": "new_clients",
        }
    ]


def test_a_type_for_existing_clients_cannot_go_on_a_public_link(api, make_type):
    follow_up = make_type()
    response = api.post(LINKS, json={"appointment_type_ids": [follow_up["id"]]})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "type_not_public"


def test_a_personal_link_may_carry_a_follow_up(api, make_type, make_client):
    follow_up = make_type()
    client = make_client()
    link = _link(api, appointment_type_ids=[follow_up["id"]], client_id=client["id"])
    assert link["client_id"] == client["id"]


def test_switching_the_setting_on_hides_private_types_from_existing_links(
    client, api, discovery, make_type
):
    api.patch("/api/v1/settings", json={"public_links_new_client_only": False})
    check_in = make_type(name="Check-in", audience="everyone")
    link = _link(api, appointment_type_ids=[discovery["id"], check_in["id"]])
    api.patch("/api/v1/settings", json={"public_links_new_client_only": True})
    types = client.get(f"/api/v1/links/{link['token']}").get_json()["appointment_types"]
    assert [t["id"] for t in types] == [discovery["id"]]
    slots = link_slots(client, link, check_in["id"])
    assert (slots.status_code, slots.get_json()["error"]["code"]) == (403, "type_not_public")


def test_link_slots_answer_in_the_visitors_zone(client, api, discovery):
    api.put("/api/v1/availability", json={"weekly": WEEK})
    link = _link(api, appointment_type_ids=[discovery["id"]])
    response = link_slots(client, link, discovery["id"], timezone="Europe/London")
    assert response.status_code == 200
    starts = [s["start"] for s in response.get_json()["slots"]]
    # 09:00-17:00 in New York is 14:00-22:00 in London; the London day ends at midnight.
    assert starts[0] == "2026-11-30T14:00:00+00:00"
    assert starts[-1] == "2026-11-30T21:30:00+00:00"
    assert len(starts) == 16


def test_a_tampered_token_is_invalid(client, api, discovery):
    link = _link(api, appointment_type_ids=[discovery["id"]])
    response = client.get(f"/api/v1/links/{link['token']}x")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "link_invalid"


def test_a_token_signed_for_another_purpose_is_invalid(app, client, api, discovery):
    link = _link(api, appointment_type_ids=[discovery["id"]])
    forged = URLSafeSerializer(app.config["SECRET_KEY"], salt="widget.magic-login").dumps(
        link["id"]
    )
    assert client.get(f"/api/v1/links/{forged}").get_json()["error"]["code"] == "link_invalid"


def test_a_token_signed_with_the_previous_key_still_works(app, client, api, discovery):
    link = _link(api, appointment_type_ids=[discovery["id"]])
    old = URLSafeSerializer(app.config["SECRET_KEY_FALLBACKS"][0], salt="widget.share-link")
    assert client.get(f"/api/v1/links/{old.dumps(link['id'])}").status_code == 200
    unknown = URLSafeSerializer("some-other-key", salt="widget.share-link").dumps(link["id"])
    assert client.get(f"/api/v1/links/{unknown}").status_code == 404


def test_a_revoked_link_is_gone(client, api, discovery):
    link = _link(api, appointment_type_ids=[discovery["id"]])
    revoked = api.delete(f"{LINKS}/{link['id']}")
    assert revoked.status_code == 200 and revoked.get_json()["revoked"] is True
    response = client.get(f"/api/v1/links/{link['token']}")
    assert response.status_code == 410
    assert response.get_json()["error"]["code"] == "link_revoked"


def test_an_expired_link_is_gone(client, api, clock, discovery):
    expires = (clock.now + timedelta(days=1)).isoformat()
    link = _link(api, appointment_type_ids=[discovery["id"]], expires_at=expires)
    clock.advance(days=2)
    response = client.get(f"/api/v1/links/{link['token']}")
    assert (response.status_code, response.get_json()["error"]["code"]) == (410, "link_expired")


def test_another_providers_link_cannot_be_revoked(api, create_provider, discovery):
    link = _link(api, appointment_type_ids=[discovery["id"]])
    other = create_provider()
    assert other.api.delete(f"{LINKS}/{link['id']}").status_code == 404


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"appointment_type_ids": []}, "appointment_type_ids"),
        ({"appointment_type_ids": "1"}, "appointment_type_ids"),
        ({"max_uses": 0}, "max_uses"),
    ],
)
def test_bad_link_fields_are_named(api, discovery, fields, field):
    body = {"appointment_type_ids": [discovery["id"]], **fields}
    response = api.post(LINKS, json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]


# API.md: not_found 404 is "no such object for this caller (another provider's object
# included)"; the answer names the field that referred to it.
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"appointment_type_ids": [999999]}, "appointment_type_ids"),
        ({"client_id": 999999}, "client_id"),
    ],
)
def test_a_link_to_an_unknown_type_or_client_is_not_found(api, discovery, fields, field):
    body = {"appointment_type_ids": [discovery["id"]], **fields}
    assert set(expect_error(api.post(LINKS, json=body), 404, "not_found")) == {field}
    assert ok(api.get(LINKS))["share_links"] == []


def test_a_link_for_another_providers_client_is_not_found(api, discovery, create_provider):
    theirs = (
        create_provider()
        .api.post("/api/v1/clients", json={"email": "theirs@example.com", "name": "Theirs"})
        .get_json()
    )
    body = {"appointment_type_ids": [discovery["id"]], "client_id": theirs["id"]}
    assert set(expect_error(api.post(LINKS, json=body), 404, "not_found")) == {"client_id"}
