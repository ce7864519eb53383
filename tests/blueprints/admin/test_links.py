"""Share links in the dashboard: made for some types, shown with URL and snippet, revoked."""

import re

from .conftest import field_error, value_of, words


def test_a_new_link_shows_its_address_and_embed_snippet_with_a_preview(dashboard, discovery, api):
    page = dashboard.follow(
        "/admin/links", {"appointment_type_ids": [str(discovery["id"])], "label": "Website"}
    )
    [link] = api.get("/api/v1/share-links").get_json()["share_links"]
    assert link["label"] == "Website"
    assert value_of(page, "link-url") == link["url"] == f"http://localhost/l/{link['token']}"
    assert value_of(page, "snippet") == link["embed_snippet"]
    assert 'data-copy="link-url"' in page and 'data-copy="snippet"' in page
    preview = re.search(r'<div class="preview">(.*?)</div>\s*</section>', page, re.S).group(1)
    assert link["embed_snippet"] in preview
    listed = dashboard.page("/admin/links")
    assert "Website" in words(listed) and "Live" in words(listed)


def test_a_link_needs_an_appointment_type_and_keeps_the_rest(dashboard, discovery, api):
    response = dashboard.post("/admin/links", {"label": "Newsletter", "max_uses": "0"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-describedby="appointment_type_ids-error"' in html
    assert 'id="appointment_type_ids-error">Choose at least one appointment type.<' in html
    assert field_error(html, "max_uses") == "Must be greater than 0."
    assert value_of(html, "label") == "Newsletter"
    assert api.get("/api/v1/share-links").get_json()["share_links"] == []


def test_a_public_link_refuses_a_type_that_is_not_for_new_clients(dashboard, follow_up, grace):
    response = dashboard.post("/admin/links", {"appointment_type_ids": [str(follow_up["id"])]})
    assert response.status_code == 422
    assert "not for new clients" in words(response.get_data(as_text=True))
    personal = dashboard.post(
        "/admin/links",
        {"appointment_type_ids": [str(follow_up["id"])], "client_id": str(grace["id"])},
    )
    assert personal.status_code == 302
    assert "personal link for Grace Hopper" in words(dashboard.page(personal.headers["Location"]))


def test_a_link_expires_after_its_last_day_on_the_providers_clock(dashboard, discovery, api):
    dashboard.follow(
        "/admin/links", {"appointment_type_ids": [str(discovery["id"])], "last_day": "2026-12-31"}
    )
    [link] = api.get("/api/v1/share-links").get_json()["share_links"]
    assert link["expires_at"] == "2027-01-01T05:00:00+00:00"


def test_revoking_a_link_stops_it_at_once(dashboard, discovery, api, client):
    created = api.post(
        "/api/v1/share-links", json={"appointment_type_ids": [discovery["id"]]}
    ).get_json()
    page = dashboard.follow(f"/admin/links/{created['id']}/revoke")
    assert "It no longer opens" in words(page) and "Revoked" in words(page)
    assert "nothing to preview" in words(page)
    assert client.get(f"/l/{created['token']}").status_code == 410
