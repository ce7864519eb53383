"""The OpenAPI 3.1 description of /api/v1, built from the schemas the code validates with.

One route table names, for each path and method, its request body and query schemas
(schemas.py, the models the views parse with), its answers (answers.py) and the reason
codes it may answer with; statuses come from base.STATUS. Changing a field in a schema
changes the document. `GET /api/v1/openapi.json` serves it, `GET /api/docs` renders it.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from flask import Flask, current_app, jsonify, render_template
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..pages.framing import PAGE_POLICY
from . import answers, schemas
from .base import MAX_ID, STATUS
from .links import public_bp
from .webhooks import WebhookFields

REF = "#/components/schemas/{model}"
Auth = Literal["provider", "link", "none"]

LINK_ERRORS = ("link_invalid", "link_expired", "link_revoked", "link_exhausted")
BOOKING_REFUSALS = (
    "insufficient_credits",
    "slot_unavailable",
    "outside_availability",
    "invalid_state",
)
PUBLIC_REFUSALS = (
    "type_not_public",
    "new_clients_only",
    "existing_clients_only",
    "login_required",
    "too_soon",
    "too_far_ahead",
)


@dataclass(frozen=True)
class Route:
    """One operation: what it reads, what it answers, which reason codes it may give."""

    method: str
    path: str
    endpoint: str
    summary: str
    tag: str
    answers: Mapping[int, type[BaseModel]]
    errors: tuple[str, ...] = ()
    body: type[BaseModel] | None = None
    body_optional: bool = False
    query: type[BaseModel] | None = None
    auth: Auth = "provider"
    links: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Response links: name -> (operationId, path parameter) filled from the answer's `id`."""

    @property
    def idempotent(self) -> bool:
        """Every POST honours `Idempotency-Key` (base.idempotent)."""
        return self.method == "post"

    @property
    def operation_id(self) -> str:
        return self.endpoint.rpartition(".")[2]


A = answers
S = schemas

ROUTES: tuple[Route, ...] = (
    Route("get", "/settings", "api.get_settings", "The provider's settings", "Settings",
          {200: A.Settings}),
    Route("patch", "/settings", "api.patch_settings", "Change settings", "Settings",
          {200: A.Settings}, body=S.SettingsPatch),
    Route("post", "/appointment-types", "api.create_appointment_type",
          "Create an appointment type", "Appointment types", {201: A.AppointmentType},
          body=S.AppointmentTypeFields,
          links={"GetAppointmentType": ("get_appointment_type", "type_id"),
                 "PatchAppointmentType": ("patch_appointment_type", "type_id")}),
    Route("get", "/appointment-types", "api.list_appointment_types", "List appointment types",
          "Appointment types", {200: A.AppointmentTypeList}),
    Route("get", "/appointment-types/{type_id}", "api.get_appointment_type",
          "One appointment type", "Appointment types", {200: A.AppointmentType}),
    Route("patch", "/appointment-types/{type_id}", "api.patch_appointment_type",
          "Change an appointment type", "Appointment types", {200: A.AppointmentType},
          body=S.AppointmentTypePatch),
    Route("put", "/availability", "api.put_availability", "Replace working hours",
          "Availability", {200: A.AvailabilityView}, body=S.Availability),
    Route("get", "/availability", "api.get_availability", "Working hours", "Availability",
          {200: A.AvailabilityView}),
    Route("get", "/slots", "api.slots", "Free slots of a type on local days", "Availability",
          {200: A.Slots}, ("not_found",), query=S.SlotQuery),
    Route("post", "/packages", "api.create_package", "Create a package", "Packages",
          {201: A.Package}, ("not_found",), body=S.PackageFields,
          links={"GetPackage": ("get_package", "package_id"),
                 "PatchPackage": ("patch_package", "package_id")}),
    Route("get", "/packages", "api.list_packages", "List packages", "Packages",
          {200: A.PackageList}),
    Route("get", "/packages/{package_id}", "api.get_package", "One package", "Packages",
          {200: A.Package}),
    Route("patch", "/packages/{package_id}", "api.patch_package",
          "Rename, reprice, or stop selling a package", "Packages", {200: A.Package},
          body=S.PackagePatch),
    Route("post", "/clients", "api.create_client", "Create a client", "Clients",
          {201: A.Client}, ("conflict",), body=S.ClientFields,
          links={"GetClient": ("get_client", "client_id"),
                 "BuyPackage": ("buy_package", "client_id"),
                 "ListCredits": ("list_credits", "client_id"),
                 "ListClientPackages": ("list_client_packages", "client_id")}),
    Route("get", "/clients", "api.list_clients", "List clients, or find one by email",
          "Clients", {200: A.ClientList}, query=S.ClientQuery),
    Route("get", "/clients/{client_id}", "api.get_client", "One client", "Clients",
          {200: A.Client}),
    Route("post", "/clients/{client_id}/packages", "api.buy_package",
          "Sell a package to a client: grants its credits", "Credits",
          {201: A.ClientPackage}, body=S.Purchase,
          links={"ArchiveClientPackage": ("archive_client_package", "client_package_id"),
                 "DeleteClientPackage": ("delete_client_package", "client_package_id")}),
    Route("get", "/clients/{client_id}/packages", "api.list_client_packages",
          "A client's packages", "Credits", {200: A.ClientPackageList}),
    Route("post", "/client-packages/{client_package_id}/archive",
          "api.archive_client_package", "Archive a client package (credits unchanged)",
          "Credits", {200: A.ClientPackage}, ("invalid_state",)),
    Route("delete", "/client-packages/{client_package_id}", "api.delete_client_package",
          "Delete a client package (credits unchanged)", "Credits", {200: A.ClientPackage}),
    Route("get", "/clients/{client_id}/credits", "api.list_credits",
          "A client's balances, one per type", "Credits", {200: A.Credits}),
    Route("get", "/clients/{client_id}/credits/{type_id}", "api.credit_history",
          "Balance and ledger of one type, oldest first", "Credits", {200: A.CreditHistory}),
    Route("post", "/clients/{client_id}/credits/{type_id}/adjustments", "api.adjust_credits",
          "Adjust a balance by hand", "Credits", {201: A.Entry}, body=S.Adjustment),
    Route("post", "/share-links", "api.create_share_link", "Create a share link",
          "Share links", {201: A.ShareLink}, ("not_found", "type_not_public"),
          body=S.ShareLinkFields,
          links={"RevokeShareLink": ("revoke_share_link", "link_id")}),
    Route("get", "/share-links", "api.list_share_links", "List share links", "Share links",
          {200: A.ShareLinkList}),
    Route("delete", "/share-links/{link_id}", "api.revoke_share_link", "Revoke a share link",
          "Share links", {200: A.ShareLink}),
    Route("get", "/bookings", "api.list_bookings", "List bookings", "Bookings",
          {200: A.BookingList}, query=S.BookingQuery),
    Route("post", "/bookings", "api.create_booking", "Book for a client", "Bookings",
          {201: A.Booking}, ("not_found", *BOOKING_REFUSALS),
          body=S.BookingFields,
          links={"GetBooking": ("get_booking", "booking_id"),
                 "CancelBooking": ("cancel_booking", "booking_id"),
                 "RescheduleBooking": ("reschedule_booking", "booking_id"),
                 "NoShow": ("no_show", "booking_id")}),
    Route("get", "/bookings/{booking_id}", "api.get_booking", "One booking", "Bookings",
          {200: A.Booking}),
    Route("post", "/bookings/{booking_id}/cancel", "api.cancel_booking",
          "Cancel a booking (refunds unless late)", "Bookings", {200: A.Booking},
          ("invalid_state",), body=S.CancelFields, body_optional=True),
    Route("post", "/bookings/{booking_id}/reschedule", "api.reschedule_booking",
          "Move a booking (credit untouched)", "Bookings", {200: A.Booking},
          BOOKING_REFUSALS, body=S.RescheduleFields),
    Route("post", "/bookings/{booking_id}/no-show", "api.no_show", "Mark a no-show",
          "Bookings", {200: A.Booking}, ("invalid_state",)),
    Route("post", "/webhooks", "api.create_webhook", "Register a webhook endpoint",
          "Webhooks", {201: A.Webhook}, body=WebhookFields,
          links={"ListDeliveries": ("webhook_deliveries", "endpoint_id"),
                 "DeleteWebhook": ("delete_webhook", "endpoint_id")}),
    Route("get", "/webhooks", "api.list_webhooks", "List webhook endpoints", "Webhooks",
          {200: A.WebhookList}),
    Route("delete", "/webhooks/{endpoint_id}", "api.delete_webhook",
          "Remove a webhook endpoint", "Webhooks", {200: A.Webhook}),
    Route("get", "/webhooks/{endpoint_id}/deliveries", "api.webhook_deliveries",
          "Delivery log of an endpoint", "Webhooks", {200: A.DeliveryList}),
    Route("get", "/links/{token}", "public_api.link_info", "What a share link offers",
          "Public links", {200: A.LinkInfo}, LINK_ERRORS, auth="link"),
    Route("get", "/links/{token}/slots", "public_api.link_slots",
          "Free slots through a share link", "Public links", {200: A.Slots}, LINK_ERRORS,
          query=S.SlotQuery, auth="link"),
    Route("post", "/links/{token}/bookings", "public_api.link_booking",
          "Book through a share link: 201 confirmed, 202 held pending email verification",
          "Public links", {201: A.PublicBookingAnswer, 202: A.PublicBookingAnswer},
          (*LINK_ERRORS, *BOOKING_REFUSALS, *PUBLIC_REFUSALS),
          body=S.LinkBookingFields, auth="link"),
    Route("get", "/openapi.json", "public_api.openapi_document", "This document", "Meta",
          {}, auth="none"),
)  # fmt: skip

PREFIX = "/api/v1"
_PATH_PARAM = re.compile(r"{(\w+)}")
_RULE_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: `<id:type_id>` -> `{type_id}`."""
    return _RULE_PARAM.sub(r"{\1}", rule)


def status_of(code: str, endpoint: str) -> int:
    """The status a reason code answers with on an endpoint (as base.status_of decides)."""
    if code == "type_not_public" and endpoint == "api.create_share_link":
        return 422
    return STATUS[code]


def reason_codes(route: Route) -> dict[int, list[str]]:
    """Every reason code the route may answer with, by status."""
    codes: list[str] = ["service_unavailable"]
    if route.auth == "provider":
        codes.append("unauthorized")
    if route.auth == "link":
        codes.append("rate_limited")
    if route.body is not None:
        codes += ["bad_request", "validation_error", "payload_too_large"]
    if route.query is not None or route.idempotent:
        codes.append("validation_error")
    if route.idempotent:
        codes.append("idempotency_conflict")
    if "{" in route.path:
        codes.append("not_found")
    codes += route.errors
    by_status: dict[int, list[str]] = {}
    for code in dict.fromkeys(codes):
        by_status.setdefault(status_of(code, route.endpoint), []).append(code)
    return dict(sorted(by_status.items()))


def _models(routes: Iterable[Route]) -> tuple[list[type[BaseModel]], list[type[BaseModel]]]:
    inputs: list[type[BaseModel]] = []
    outputs: list[type[BaseModel]] = [answers.Error]
    for route in routes:
        inputs += [route.body] if route.body is not None else []
        outputs += list(route.answers.values())
    return list(dict.fromkeys(inputs)), list(dict.fromkeys(outputs))


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a string: drop the `null` branch of `X | None`."""
    branches = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if len(branches) == 1:
        rest = {k: v for k, v in schema.items() if k not in {"anyOf", "default"}}
        return {**rest, **branches[0]}
    return {k: v for k, v in schema.items() if k != "default"}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _without_null(prop),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _path_parameters(path: str) -> list[dict[str, Any]]:
    parameters = []
    for name in _PATH_PARAM.findall(path):
        if name == "token":
            schema: dict[str, Any] = {"type": "string", "minLength": 1, "pattern": r"^[^/]+$"}
            description = "The share link's signed token: the only credential."
        else:
            schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
            description = "An id of the caller's own object."
        parameters.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": schema,
                "description": description,
            }
        )
    return parameters


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _error_response(codes: list[str]) -> dict[str, Any]:
    schema = {
        "allOf": [
            _ref(answers.Error),
            {"properties": {"error": {"properties": {"code": {"enum": codes}}}}},
        ]
    }
    return {"description": "Error: " + ", ".join(f"`{c}`" for c in codes), "content": _json(schema)}


def _operation(route: Route) -> dict[str, Any]:
    parameters = _path_parameters(route.path)
    if route.query is not None:
        parameters += _query_parameters(route.query)
    if route.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 255},
                "description": "A retry with the same key and body replays the first answer.",
            }
        )
    responses: dict[str, Any] = {}
    for status, model in route.answers.items():
        response: dict[str, Any] = {
            "description": model.__doc__ or "OK",
            "content": _json(_ref(model)),
        }
        if route.links:
            response["links"] = {
                name: {
                    "operationId": operation_id,
                    "parameters": {parameter: "$response.body#/id"},
                }
                for name, (operation_id, parameter) in route.links.items()
            }
        responses[str(status)] = response
    if not route.answers:
        responses["200"] = {
            "description": "OK",
            "content": _json({"type": "object"}),
        }
    for status, codes in reason_codes(route).items():
        responses[str(status)] = _error_response(codes)
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.tag],
        "security": [{"providerKey": []}] if route.auth == "provider" else [],
        "responses": responses,
    }
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {
            "required": not route.body_optional,
            "content": _json(_ref(route.body)),
        }
    return operation


def build_document(routes: Iterable[Route] = ROUTES) -> dict[str, Any]:
    routes = list(routes)
    inputs, outputs = _models(routes)
    _, definitions = models_json_schema(
        [(m, "validation") for m in inputs] + [(m, "serialization") for m in outputs],
        ref_template=REF,
    )
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(PREFIX + route.path, {})[route.method] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Widget API",
            "version": "1",
            "description": (
                "Provider API (`Authorization: Bearer <api key>`) and the public share-link "
                "API (the token in the path is the only credential). Every error answer is "
                '`{"error": {"code", "message", "details"}}` with a stable reason code.'
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "providerKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The provider's API key.",
                }
            },
        },
    }


@cache
def document() -> dict[str, Any]:
    return build_document()


@public_bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    return jsonify(document())


# ---- the rendered reference page ------------------------------------------------------


def type_label(schema: Mapping[str, Any]) -> str:
    """A short human label for a JSON schema: `integer ≥ 1`, `list of Entry`, `Slot | null`."""
    if "$ref" in schema:
        return str(schema["$ref"]).rpartition("/")[2]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(type_label(s) for s in schema[key])
    if "allOf" in schema:
        return " & ".join(type_label(s) for s in schema["allOf"])
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {type_label(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        return f"map of {type_label(extra)}" if isinstance(extra, dict) else "object"
    label = str(kind)
    if "format" in schema:
        label += f" ({schema['format']})"
    limits = [
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("minLength", "length ≥"),
        ("maxLength", "length ≤"),
        ("minItems", "items ≥"),
        ("maxItems", "items ≤"),
    ]
    bounds = [f"{sign} {schema[key]}" for key, sign in limits if key in schema]
    return label + (f", {', '.join(bounds)}" if bounds else "")


def _schema_rows(schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "type": type_label(prop),
            "required": name in required,
            "default": prop.get("default"),
            "has_default": "default" in prop,
            "description": prop.get("description", ""),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _page(doc: Mapping[str, Any]) -> dict[str, Any]:
    operations = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json")
            responses = []
            for status, answer in op["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
                codes: list[str] = []
                for part in schema.get("allOf", []):
                    codes += (
                        part.get("properties", {})
                        .get("error", {})
                        .get("properties", {})
                        .get("code", {})
                        .get("enum", [])
                    )
                responses.append(
                    {
                        "status": status,
                        "type": "Error" if codes else type_label(schema),
                        "codes": codes,
                        "links": sorted((answer.get("links") or {}).keys()),
                    }
                )
            operations.append(
                {
                    "id": op["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "tag": op["tags"][0],
                    "auth": "Bearer provider key" if op["security"] else "none",
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": type_label(p["schema"]),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "body": type_label(body["schema"]) if body else None,
                    "body_required": bool(op.get("requestBody", {}).get("required")),
                    "responses": responses,
                }
            )
    tags = list(dict.fromkeys(op["tag"] for op in operations))
    models = [
        {"name": name, "doc": schema.get("description", ""), "rows": _schema_rows(schema),
         "label": "" if "properties" in schema else type_label(schema)}
        for name, schema in sorted(doc["components"]["schemas"].items())
    ]  # fmt: skip
    return {"info": doc["info"], "tags": tags, "operations": operations, "models": models}


def docs_page() -> ResponseReturnValue:
    response = current_app.make_response(render_template("api/docs.html", **_page(document())))
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


@public_bp.record_once
def _register_docs(state: Any) -> None:
    """The page lives at /api/docs, outside the blueprint's /api/v1 prefix."""
    app: Flask = state.app
    app.add_url_rule("/api/docs", "api_docs", docs_page, methods=["GET"])
