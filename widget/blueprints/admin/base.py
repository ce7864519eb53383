"""The dashboard's plumbing: the blueprint, its error page, dates in the provider's zone,
and forms whose errors come from the API's schemas and the domain."""

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import Blueprint, g, render_template
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from pydantic import BaseModel
from wtforms import Field, FieldList, SelectChoice

from ...domain import appointment_types, booking, links
from ...domain.errors import DomainError, ValidationFailed
from ...domain.timezones import clock_time, zone_named
from ...extensions import db
from ...models import BookingStatus, Provider
from ..api.base import STATUS, now, parse_mapping
from ..auth import provider_required

bp = Blueprint("admin", __name__, url_prefix="/admin")

Model = TypeVar("Model", bound=BaseModel)
Changed = TypeVar("Changed")

ERROR_TITLES = {
    "not_found": "Not found",
    "invalid_state": "This cannot be done now",
    "conflict": "This already exists",
}


def current_provider() -> Provider:
    provider: Provider = g.provider
    return provider


def provider_zone() -> ZoneInfo:
    return zone_named(current_provider().timezone)


def today() -> date:
    """Today in the provider's zone, by the app's clock."""
    return now().astimezone(provider_zone()).date()


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError) -> ResponseReturnValue:
    """An object in the address that is not this provider's, or an action its state forbids."""
    db.session.rollback()
    return page(
        "admin/error.html",
        STATUS.get(exc.code, 400),
        title=ERROR_TITLES.get(exc.code, "Something went wrong"),
        message=exc.message,
        code=exc.code,
    )


# Dates and times, always in the provider's zone


def local(moment: datetime) -> datetime:
    return moment.astimezone(provider_zone())


def day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def short_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def when(moment: datetime) -> str:
    """'Mon 30 Nov 2026, 09:00' in the provider's zone."""
    seen = local(moment)
    return f"{day_label(seen.date())}, {clock_time(seen)}"


def local_clock_time(moment: datetime) -> str:
    """'09:00' in the provider's zone ('01:30 EST' in a repeated hour)."""
    return clock_time(local(moment))


def money(cents: int) -> str:
    return f"{cents // 100:,}.{cents % 100:02d}"


@bp.context_processor
def dashboard_helpers() -> dict[str, Any]:
    return {
        "local": local,
        "when": when,
        "clock_time": local_clock_time,
        "day_label": day_label,
        "short_day": short_day,
        "money": money,
    }


def page(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    """A dashboard page in the provider's layout; views answer 422 when a form came back."""
    provider = current_provider()
    return render_template(template, provider=provider, brand=provider.name, **context), status


# Forms


def sentence(message: str) -> str:
    """'must be at least 0' from a schema reads as 'Must be at least 0.' beside a field."""
    text = message.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


DAY_FORMAT = "Choose a day (YYYY-MM-DD)."


def day_of(text: str | None) -> date | None:
    """A typed day, if it is one with days around it (the calendar's first and last have not)."""
    try:
        day = date.fromisoformat(text or "")
    except ValueError:
        return None
    return day if 1 < day.year < 9999 else None


def number(text: str | None) -> int | str | None:
    """Typed digits as an int, anything else as typed (the schema then names the fault),
    nothing as None (the schema's default, or 'is required')."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def options(pairs: Iterable[tuple[object, str]], blank: str | None = None) -> list[SelectChoice]:
    """Choices of a select or radio field, as values and labels; `blank` labels choosing none."""
    first = [SelectChoice("", blank)] if blank is not None else []
    return first + [SelectChoice(str(value), label) for value, label in pairs]


def given(**values: Any) -> dict[str, Any]:
    """The values the user filled in: a blank is left out, as a JSON client would."""
    return {key: value for key, value in values.items() if value is not None and value != ""}


class Form(FlaskForm):  # type: ignore[misc]
    """A dashboard form: Flask-WTF's CSRF token, errors placed beside their fields."""

    def field_for(self, key: str) -> Field | None:
        """The field an error's key names (a schema field, or a domain detail key)."""
        field = self._fields.get(key)
        return None if key == "csrf_token" else field

    def add_errors(self, details: Mapping[str, str]) -> None:
        for key, message in details.items():
            field = self.field_for(key)
            if field is None:
                self.form_errors.append(sentence(message))
            elif not field.errors:
                field.errors = [sentence(message)]
        for field in self._fields.values():
            if isinstance(field, FieldList):
                # A list gathers its rows' errors when the form validates; an error put on
                # a row since must count too, or the form would read as valid.
                rows = [row.errors for row in field.entries]
                field.errors = rows if any(rows) else []

    def attempt(self, change: Callable[[], Changed]) -> Changed | None:
        """Make the form's domain change and commit it; a refusal is rolled back, shown
        beside the fields it names, and answered with None."""
        try:
            result = change()
        except DomainError as exc:
            db.session.rollback()
            self.refuse(exc)
            return None
        db.session.commit()
        return result

    def refuse(self, exc: DomainError) -> None:
        """A domain error as the form shows it: per field when it names fields."""
        if isinstance(exc.details, dict) and exc.details:
            self.add_errors(exc.details)
        else:
            self.form_errors.append(exc.message)

    def checked(
        self,
        schema: type[Model],
        values: dict[str, Any],
        unreadable: Mapping[str, str] | None = None,
    ) -> Model | None:
        """The submission checked by WTForms (CSRF, choices) and by the API's schema.

        `unreadable` names fields whose text could not become the schema's type (a price,
        a list of hours): their own message wins over the schema's.
        """
        valid = self.validate()
        self.add_errors(unreadable or {})
        try:
            parsed = parse_mapping(schema, values)
        except ValidationFailed as exc:
            self.add_errors(exc.details)
            return None
        return parsed if valid and not unreadable else None


# Home


@bp.get("/")
@provider_required
def home() -> ResponseReturnValue:
    provider = current_provider()
    day = today()
    found = booking.bookings_of(db.session, provider, first_day=day, last_day=day, now=now())
    agenda = [b for b in found if b.status in (BookingStatus.confirmed, BookingStatus.no_show)]
    week = booking.bookings_of(
        db.session,
        provider,
        first_day=day,
        last_day=day + timedelta(days=6),
        status=BookingStatus.confirmed,
        now=now(),
    )
    db.session.commit()  # the holds whose time ran out stay marked expired
    return page(
        "admin/home.html",
        day=day,
        agenda=agenda,
        week_count=len(week),
        has_types=bool(appointment_types.appointment_types_of(db.session, provider)),
        has_links=bool(links.links_of(db.session, provider)),
    )
