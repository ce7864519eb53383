"""The settings page: every setting of API.md, each explained, saved or refused by field."""

from .conftest import field_error, value_of, words

FORM = {
    "timezone": "Europe/Berlin",
    "public_links_new_client_only": "",
    "public_booking_verification": "none",
    "pending_hold_minutes": "30",
    "negative_credit_limit": "2",
    "late_cancel_hours": "12",
    "embed_allowed_origins": "https://clinic.example\r\nhttp://localhost:8000/\r\n",
}


def test_the_page_shows_every_setting_with_its_current_value(dashboard):
    html = dashboard.page("/admin/settings")
    for field in FORM:
        assert f'name="{field}"' in html, field
    assert value_of(html, "timezone") == "America/New_York"
    assert value_of(html, "late_cancel_hours") == "24"
    assert (
        'id="public_links_new_client_only" name="public_links_new_client_only" type="checkbox"'
        in html
    )
    assert "A client who cancels less than this many hours before the start" in words(html)


def test_settings_are_saved(dashboard, api):
    page = dashboard.follow("/admin/settings", {k: v for k, v in FORM.items() if v})
    assert "Settings saved." in words(page)
    assert api.get("/api/v1/settings").get_json() == {
        **api.get("/api/v1/settings").get_json(),
        "timezone": "Europe/Berlin",
        "public_links_new_client_only": False,
        "public_booking_verification": "none",
        "pending_hold_minutes": 30,
        "negative_credit_limit": 2,
        "late_cancel_hours": 12,
        "embed_allowed_origins": ["https://clinic.example", "http://localhost:8000"],
    }


def test_a_bad_value_is_refused_beside_its_field_and_nothing_is_saved(dashboard, api):
    before = api.get("/api/v1/settings").get_json()
    response = dashboard.post("/admin/settings", {**FORM, "negative_credit_limit": "-1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "negative_credit_limit") == "Must be at least 0."
    assert value_of(html, "negative_credit_limit") == "-1"
    assert value_of(html, "late_cancel_hours") == "12"
    response = dashboard.post("/admin/settings", {**FORM, "embed_allowed_origins": "ftp://x"})
    html = response.get_data(as_text=True)
    assert "is not an origin" in field_error(html, "embed_allowed_origins")
    assert value_of(html, "embed_allowed_origins") == "ftp://x"
    response = dashboard.post("/admin/settings", {**FORM, "pending_hold_minutes": ""})
    assert field_error(response.get_data(as_text=True), "pending_hold_minutes") == "Required."
    assert api.get("/api/v1/settings").get_json() == before
