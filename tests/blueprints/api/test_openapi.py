"""The OpenAPI document: complete, generated from the schemas the code validates with."""

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from widget.blueprints.api import answers, schemas
from widget.blueprints.api.base import STATUS
from widget.blueprints.api.openapi import ROUTES, build_document, openapi_path

HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return dict(response.get_json())


def test_every_api_rule_is_in_the_document(app: Flask, client: FlaskClient) -> None:
    """A new endpoint under /api/v1 that the route table forgets fails here."""
    paths = _document(client)["paths"]
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = openapi_path(rule.rule)
        for method in sorted((rule.methods or set()) & HTTP_METHODS):
            if method.lower() not in paths.get(path, {}):
                missing.append(f"{method} {path}")
    assert not missing, missing


def test_every_documented_operation_exists(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {route.endpoint for route in ROUTES} <= endpoints
    operation_ids = [route.operation_id for route in ROUTES]
    assert len(operation_ids) == len(set(operation_ids))


def test_the_document_is_openapi_3_1_with_both_auth_schemes(client: FlaskClient) -> None:
    doc = _document(client)
    assert doc["openapi"] == "3.1.0"
    assert doc["components"]["securitySchemes"]["providerKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The provider's API key.",
    }
    settings = doc["paths"]["/api/v1/settings"]["get"]
    assert settings["security"] == [{"providerKey": []}]
    assert "401" in settings["responses"]
    link = doc["paths"]["/api/v1/links/{token}/bookings"]["post"]
    assert link["security"] == []
    assert "401" not in link["responses"]
    assert {"201", "202", "403", "404", "409", "410", "422", "429"} <= set(link["responses"])


def test_request_schemas_come_from_the_validating_models(client: FlaskClient) -> None:
    components = _document(client)["components"]["schemas"]
    fields = components["AppointmentTypeFields"]
    assert fields == schemas.AppointmentTypeFields.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    assert set(fields["required"]) == {"name", "duration_minutes", "audience", "requires_credit"}
    assert fields["properties"]["duration_minutes"]["exclusiveMinimum"] == 0
    query = _document(client)["paths"]["/api/v1/bookings"]["get"]["parameters"]
    assert [p["name"] for p in query] == ["from", "to", "status"]


def test_a_field_change_changes_the_document() -> None:
    class Changed(schemas.ClientFields):
        phone: str

    route = next(r for r in ROUTES if r.endpoint == "api.create_client")
    changed = build_document([route.__class__(**{**route.__dict__, "body": Changed})])
    assert "phone" in changed["components"]["schemas"]["Changed"]["properties"]


def test_error_answers_use_the_error_shape_and_api_md_statuses(client: FlaskClient) -> None:
    doc = _document(client)
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert set(doc["components"]["schemas"]["ErrorBody"]["required"]) == {
        "code",
        "message",
        "details",
    }
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            for status, answer in operation["responses"].items():
                if int(status) < 400:
                    continue
                schema = answer["content"]["application/json"]["schema"]
                assert schema["allOf"][0] == {"$ref": "#/components/schemas/Error"}
                codes = schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"]
                for code in codes:
                    expected = (
                        422
                        if code == "type_not_public"
                        and method == "post"
                        and (path == "/api/v1/share-links")
                        else STATUS[code]
                    )
                    assert int(status) == expected, (method, path, code)


def test_answers_are_strict_mirrors() -> None:
    assert answers.Booking.model_config.get("extra") == "forbid"


def test_docs_page_renders_without_outside_assets(client: FlaskClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "POST /api/v1/links/{token}/bookings" in page
    assert "insufficient_credits" in page
    assert 'id="schema-BookingFields"' in page
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    assert "<script" not in page
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_docs_page_escapes_text(client: FlaskClient) -> None:
    page = client.get("/api/docs").get_data(as_text=True)
    assert "<ul>" in page and "&lt;api key&gt;" in page
