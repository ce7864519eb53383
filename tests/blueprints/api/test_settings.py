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
