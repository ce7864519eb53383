import json

import pytest

from .helpers import expect_error, invalid_fields, ok


def test_settings_start_with_the_documented_defaults(api):
    response = api.get("/api/v1/settings")
    assert response.status_code == 200
    body = response.get_json()
    assert body["timezone"] == "America/New_York"
    assert body["slug"] == "dr-ada-1"
    assert body["public_links_new_client_only"] is True
    assert body["negative_credit_limit"] == 0
    assert body["public_booking_verification"] == "email"
    assert body["pending_hold_minutes"] == 15
    assert body["late_cancel_hours"] == 24
    assert body["embed_allowed_origins"] == []


def test_settings_need_a_valid_key(client, api):
    assert client.get("/api/v1/settings").status_code == 401
    wrong = client.get("/api/v1/settings", headers={"Authorization": "Bearer wk_nope"})
    assert wrong.status_code == 401
    assert wrong.get_json()["error"]["code"] == "unauthorized"


def test_settings_are_per_provider(api, create_provider):
    other = create_provider(timezone="Europe/Berlin")
    assert ok(other.api.get("/api/v1/settings"))["timezone"] == "Europe/Berlin"
    assert ok(api.get("/api/v1/settings"))["timezone"] == "America/New_York"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Europe/Berlin"),
        ("public_links_new_client_only", False),
        ("negative_credit_limit", 3),
        ("public_booking_verification", "none"),
        ("pending_hold_minutes", 30),
        ("late_cancel_hours", 48),
        ("late_cancel_hours", 0),
        ("embed_allowed_origins", ["https://clinic.example", "http://localhost:8000"]),
    ],
)
def test_patching_a_setting_changes_only_that_setting(api, field, value):
    before = ok(api.get("/api/v1/settings"))
    answer = ok(api.patch("/api/v1/settings", json={field: value}))
    assert answer == {**before, field: value}
    assert ok(api.get("/api/v1/settings")) == answer


def test_patching_several_settings_at_once_applies_them_all(api):
    answer = ok(
        api.patch(
            "/api/v1/settings",
            json={"negative_credit_limit": 2, "public_booking_verification": "none"},
        )
    )
    assert answer["negative_credit_limit"] == 2
    assert answer["public_booking_verification"] == "none"


def test_the_slug_cannot_be_patched(api):
    api.patch("/api/v1/settings", json={"slug": "someone-else"})
    assert ok(api.get("/api/v1/settings"))["slug"] == "dr-ada-1"


def test_an_unknown_time_zone_is_a_validation_error_on_timezone(api):
    response = api.patch("/api/v1/settings", json={"timezone": "Mars/Olympus_Mons"})
    assert invalid_fields(response) == {"timezone"}


@pytest.mark.parametrize("zone", ["", "localtime", "../../etc/passwd", "America/New York"])
def test_a_time_zone_that_is_not_an_iana_name_is_refused(api, zone):
    assert "timezone" in invalid_fields(api.patch("/api/v1/settings", json={"timezone": zone}))


def test_a_negative_credit_limit_below_zero_is_refused(api):
    response = api.patch("/api/v1/settings", json={"negative_credit_limit": -1})
    assert invalid_fields(response) == {"negative_credit_limit"}


@pytest.mark.parametrize("verification", ["sms", "EMAIL", "", None, True])
def test_verification_must_be_email_or_none(api, verification):
    response = api.patch("/api/v1/settings", json={"public_booking_verification": verification})
    assert invalid_fields(response) == {"public_booking_verification"}


@pytest.mark.parametrize(
    "origin",
    [
        "clinic.example",
        "https://clinic.example/booking",
        "https://clinic.example/page?x=1",
        "*",
        "ftp://clinic.example",
        "https://",
        "javascript:alert(1)",
        "",
    ],
)
def test_embed_origins_that_are_not_origins_are_refused(api, origin):
    response = api.patch(
        "/api/v1/settings", json={"embed_allowed_origins": ["https://ok.example", origin]}
    )
    assert invalid_fields(response) == {"embed_allowed_origins"}


def test_embed_origins_must_be_a_list_of_strings(api):
    not_a_list = api.patch("/api/v1/settings", json={"embed_allowed_origins": "https://a.example"})
    assert invalid_fields(not_a_list) == {"embed_allowed_origins"}
    not_strings = api.patch("/api/v1/settings", json={"embed_allowed_origins": [42]})
    assert all(f.startswith("embed_allowed_origins") for f in invalid_fields(not_strings))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("public_links_new_client_only", "true"),
        ("public_links_new_client_only", 1),
        ("negative_credit_limit", "2"),
        ("negative_credit_limit", 1.5),
        ("negative_credit_limit", True),
        ("pending_hold_minutes", "15"),
        ("late_cancel_hours", [24]),
        ("timezone", 5),
    ],
)
def test_a_setting_of_the_wrong_json_type_is_a_validation_error(api, field, value):
    assert invalid_fields(api.patch("/api/v1/settings", json={field: value})) == {field}


@pytest.mark.parametrize(
    "field",
    [
        "timezone",
        "public_links_new_client_only",
        "negative_credit_limit",
        "public_booking_verification",
        "pending_hold_minutes",
        "late_cancel_hours",
        "embed_allowed_origins",
    ],
)
def test_a_setting_cannot_be_set_to_null(api, field):
    assert invalid_fields(api.patch("/api/v1/settings", json={field: None})) == {field}


@pytest.mark.parametrize(
    ("field", "value"), [("pending_hold_minutes", 0), ("late_cancel_hours", -1)]
)
def test_out_of_range_durations_are_refused(api, field, value):
    assert invalid_fields(api.patch("/api/v1/settings", json={field: value})) == {field}


def test_a_refused_patch_changes_nothing(api):
    before = ok(api.get("/api/v1/settings"))
    response = api.patch(
        "/api/v1/settings", json={"timezone": "Europe/Paris", "negative_credit_limit": -5}
    )
    assert invalid_fields(response) == {"negative_credit_limit"}
    assert ok(api.get("/api/v1/settings")) == before


def test_every_bad_field_of_a_patch_is_reported(api):
    response = api.patch(
        "/api/v1/settings",
        json={"timezone": "Nowhere/Land", "negative_credit_limit": -1, "pending_hold_minutes": 0},
    )
    assert {"negative_credit_limit", "pending_hold_minutes"} <= invalid_fields(response)


def test_a_patch_body_that_is_not_json_is_a_bad_request(client, provider):
    response = client.patch(
        "/api/v1/settings",
        data="timezone=UTC",
        content_type="application/json",
        headers={"Authorization": f"Bearer {provider.key}"},
    )
    expect_error(response, 400, "bad_request")


def test_a_patch_with_the_wrong_content_type_is_a_bad_request(client, provider):
    response = client.patch(
        "/api/v1/settings",
        data='{"timezone": "UTC"}',
        content_type="text/plain",
        headers={"Authorization": f"Bearer {provider.key}"},
    )
    expect_error(response, 400, "bad_request")
    assert ok(provider.api.get("/api/v1/settings"))["timezone"] == "America/New_York"


@pytest.mark.parametrize("body", [["timezone", "UTC"], "UTC", 5, None])
def test_a_patch_body_that_is_not_a_json_object_is_a_bad_request(client, provider, body):
    response = client.patch(
        "/api/v1/settings",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {provider.key}"},
    )
    expect_error(response, 400, "bad_request")


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wk_nope", "Bearer ", "Basic d2s6eA==", "wk_nope"]
)
def test_patching_settings_needs_a_valid_key(client, provider, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.patch("/api/v1/settings", json={"timezone": "UTC"}, headers=headers)
    expect_error(response, 401, "unauthorized")
    assert ok(provider.api.get("/api/v1/settings"))["timezone"] == "America/New_York"


def test_the_key_is_checked_before_the_body(client):
    response = client.patch("/api/v1/settings", data="nonsense", content_type="text/plain")
    expect_error(response, 401, "unauthorized")
