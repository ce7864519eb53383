"""The API's plumbing: the blueprint, key auth, JSON parsing and the one error mapping."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Flask, g, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from ...clock import now
from ...domain import idempotency
from ...domain.errors import DomainError, Refused, ValidationFailed
from ...domain.providers import provider_for_api_key
from ...extensions import db
from ...models import Provider

bp = Blueprint("api", __name__, url_prefix="/api/v1")

STATUS = {
    "bad_request": 400,
    "validation_error": 422,
    "unauthorized": 401,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "invalid_state": 409,
    "type_not_public": 403,
    "link_invalid": 404,
    "link_expired": 410,
    "link_revoked": 410,
    "link_exhausted": 410,
    "expired": 410,
    "booking_cancelled": 410,
    "booking_moved": 410,
    "booking_past": 410,
    "booking_closed": 410,
    "link_used": 410,
    "csrf_failed": 400,
    "new_clients_only": 403,
    "existing_clients_only": 403,
    "login_required": 403,
    "insufficient_credits": 403,
    "slot_unavailable": 409,
    "outside_availability": 422,
    "too_soon": 422,
    "too_far_ahead": 422,
    "idempotency_conflict": 409,
    "payload_too_large": 413,
    "rate_limited": 429,
    "service_unavailable": 503,
    "internal_error": 500,
}
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "rate_limited",
}

Model = TypeVar("Model", bound=BaseModel)
MAX_ID = 2**31 - 1


class IdConverter(BaseConverter):
    """Ids as the database can hold them: a number past its range names no row (id 0)."""

    regex = r"\d{1,10}"

    def to_python(self, value: str) -> int:
        number = int(value)
        return number if number <= MAX_ID else 0

    def to_url(self, value: Any) -> str:
        return str(value)


def error_body(error: DomainError) -> dict[str, Any]:
    """The error shape of API.md."""
    return {"error": {"code": error.code, "message": error.message, "details": error.details}}


def status_of(error: DomainError) -> int:
    """The HTTP status of an error; type_not_public is a bad field when a link is made."""
    if error.code == "type_not_public" and request.endpoint == "api.create_share_link":
        return 422
    return STATUS.get(error.code, 400)


def error_response(code: str, message: str, status: int | None = None):  # type: ignore[no-untyped-def]
    body = error_body(DomainError(message, code=code))
    return jsonify(body), status or STATUS.get(code, 400)


def current_provider() -> Provider:
    provider: Provider = g.provider
    return provider


def authenticate_provider() -> ResponseReturnValue | None:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    provider = None
    if scheme.lower() == "bearer" and key.strip():
        provider = provider_for_api_key(db.session, key.strip())
    if provider is None:
        return error_response(
            "unauthorized", "Send a provider API key as 'Authorization: Bearer <key>'."
        )
    g.provider = provider
    return None


bp.before_request(authenticate_provider)


def _field_message(error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return "must be a whole number"
    if kind == "bool_type":
        return "must be true or false"
    if kind in {"string_type"}:
        return "must be a string"
    if kind == "greater_than":
        return f"must be greater than {ctx.get('gt')}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "extra_forbidden":
        return "is not a field of this request"
    if kind == "timezone_aware":
        return "must carry a UTC offset, like 2026-12-01T09:00:00-05:00"
    message = str(error.get("msg", "is not valid"))
    prefix = "Value error, "
    return message[len(prefix) :] if message.startswith(prefix) else message


def validation_details(exc: ValidationError) -> dict[str, str]:
    details: dict[str, str] = {}
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "body"
        details.setdefault(field, _field_message(dict(error)))
    return details


def parse_body(model: type[Model]) -> Model:
    """The request's JSON body checked against `model`, or bad_request / validation_error."""
    if request.mimetype != "application/json":
        raise DomainError(
            "Send a JSON body with 'Content-Type: application/json'.", code="bad_request"
        )
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise DomainError("The body is not a JSON object.", code="bad_request")
    return parse_mapping(model, data)


def parse_optional_body(model: type[Model]) -> Model:
    """Like parse_body, but an empty body means every field takes its default."""
    if not request.get_data():
        return model()
    return parse_body(model)


def parse_query(model: type[Model]) -> Model:
    return parse_mapping(model, request.args.to_dict())


def parse_mapping(model: type[Model], data: dict[str, Any]) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(validation_details(exc)) from None


def register_error_handlers(app: Flask) -> None:
    """One mapping from domain errors and HTTP errors to the error shape of API.md."""

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):  # type: ignore[no-untyped-def]
        db.session.rollback()
        return jsonify(error_body(exc)), status_of(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        if not request.path.startswith("/api/"):
            return exc
        status = exc.code or 500
        code = HTTP_CODES.get(status, "bad_request" if status < 500 else "internal_error")
        message = {
            404: "No such resource.",
            405: "This method is not allowed here.",
            413: "The request body is too large.",
        }.get(status, exc.description or "Bad request.")
        response, _ = error_response(code, message, status=status)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response, status

    def failure(code: str, message: str, status: int):  # type: ignore[no-untyped-def]
        """The API's JSON error under /api/, the HTML page elsewhere."""
        if request.path.startswith("/api/"):
            return error_response(code, message, status=status)
        from ..pages import failure_page  # pages imports this module

        return failure_page(code, status), status

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError):  # type: ignore[no-untyped-def]
        """503 with `Retry-After`; the page needs no database."""
        db.session.rollback()
        app.logger.error("database unavailable: %s", exc.orig)
        response, status = failure(
            "service_unavailable", "The service is unavailable; try again soon.", 503
        )
        response.headers["Retry-After"] = "30"
        return response, status

    @app.errorhandler(DBAPIError)
    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        db.session.rollback()
        app.logger.exception("unexpected error")
        return failure("internal_error", "Something went wrong on our side.", 500)


BodyAndStatus = tuple[dict[str, Any], int]
"""What an idempotent view returns: the answer's JSON body and its status."""


def _provider_scope() -> str:
    return f"provider:{current_provider().id}"


def idempotent(
    scope_of: Callable[[], str] = _provider_scope,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Honour `Idempotency-Key` on a view that returns (body, status) and does not commit:
    every POST of the API, so a retried grant or adjustment never counts twice.

    The answer is stored in the view's own transaction; a refusal (a decision) is
    stored after its rollback; validation failures are not stored. Keys are the
    provider's (or the link's): one key on two endpoints is a conflict.
    """

    def wrap(view: Callable[..., BodyAndStatus]) -> Callable[..., Any]:
        @wraps(view)
        def run(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            key = request.headers.get("Idempotency-Key", "").strip()
            if not key:
                body, status = view(*args, **kwargs)
                db.session.commit()
                return jsonify(body), status
            if len(key) > idempotency.MAX_KEY_LENGTH:
                raise ValidationFailed({"Idempotency-Key": "must be at most 255 characters"})
            scope = scope_of()
            request_hash = idempotency.fingerprint(request.method, request.path, request.get_data())
            stored = idempotency.recall(
                db.session, scope=scope, key=key, request_hash=request_hash, now=now()
            )
            if stored is not None:
                db.session.rollback()
                return jsonify(stored.body), stored.status
            row = idempotency.claim(
                db.session, scope=scope, key=key, request_hash=request_hash, now=now()
            )
            try:
                body, status = view(*args, **kwargs)
            except Refused as refusal:
                db.session.rollback()
                answer = idempotency.Answer(status_of(refusal), error_body(refusal))
                idempotency.claim_answered(
                    db.session,
                    scope=scope,
                    key=key,
                    request_hash=request_hash,
                    now=now(),
                    answer=answer,
                )
                db.session.commit()
                return jsonify(answer.body), answer.status
            idempotency.settle(row, idempotency.Answer(status, body))
            db.session.commit()
            return jsonify(body), status

        return run

    return wrap
