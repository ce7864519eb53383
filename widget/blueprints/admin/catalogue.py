"""What a provider offers: appointment types, weekly hours with their exceptions, and packages."""

import re
from typing import Any

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    FormField,
    SelectField,
    StringField,
)
from wtforms import Form as SubForm
from wtforms.widgets import DateInput, NumberInput

from ...domain import appointment_types, packages, schedule
from ...domain.packages import ItemSpec
from ...extensions import db
from ...models import AppointmentType
from ..api import schemas
from ..auth import provider_required
from .base import DAY_FORMAT, Form, bp, current_provider, day_of, given, number, options, page

# Appointment types

TYPE_NUMBERS = (
    "duration_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "min_notice_minutes",
    "max_days_ahead",
    "slot_step_minutes",
    "max_per_day",
    "late_cancel_hours",
)


def _minutes(label: str) -> StringField:
    return StringField(label, widget=NumberInput())


class TypeForm(Form):
    name = StringField("Name")
    duration_minutes = _minutes("Duration (minutes)")
    audience = SelectField(
        "Who may book it",
        choices=options(
            [
                ("new_clients", "New clients only"),
                ("existing_clients", "Existing clients only"),
                ("everyone", "Everyone"),
            ]
        ),
    )
    requires_credit = BooleanField("Each booking spends one credit of this type")
    buffer_before_minutes = _minutes("Buffer before (minutes)")
    buffer_after_minutes = _minutes("Buffer after (minutes)")
    min_notice_minutes = _minutes("Minimum notice (minutes)")
    max_days_ahead = _minutes("Bookable up to (days ahead)")
    slot_step_minutes = _minutes("Start times every (minutes, optional)")
    max_per_day = _minutes("At most per day (optional)")
    late_cancel_hours = _minutes("Late cancellation window (hours, optional)")

    def values(self) -> dict[str, Any]:
        return given(
            name=self.name.data,
            audience=self.audience.data,
            requires_credit=self.requires_credit.data,
            **{field: number(self[field].data) for field in TYPE_NUMBERS},
        )


def _type_form_page(form: TypeForm, editing: AppointmentType | None) -> ResponseReturnValue:
    return page("admin/type_form.html", 422 if form.errors else 200, form=form, editing=editing)


@bp.get("/types")
@provider_required
def type_list() -> ResponseReturnValue:
    found = appointment_types.appointment_types_of(db.session, current_provider())
    return page("admin/types.html", types=found)


@bp.route("/types/new", methods=["GET", "POST"])
@provider_required
def new_type() -> ResponseReturnValue:
    form = TypeForm()
    if request.method == "GET":
        form = TypeForm(
            formdata=None,
            audience="existing_clients",
            buffer_before_minutes="0",
            buffer_after_minutes="0",
            min_notice_minutes="0",
            max_days_ahead="60",
        )
        return _type_form_page(form, None)
    body = form.checked(schemas.AppointmentTypeFields, form.values())
    created = body and form.attempt(
        lambda: appointment_types.create_appointment_type(
            db.session, current_provider(), body.model_dump()
        )
    )
    if not created:
        return _type_form_page(form, None)
    flash(f"Created '{created.name}'.")
    return redirect(url_for("admin.type_list"))


@bp.route("/types/<id:type_id>", methods=["GET", "POST"])
@provider_required
def edit_type(type_id: int) -> ResponseReturnValue:
    provider = current_provider()
    found = appointment_types.appointment_type_of(db.session, provider, type_id)
    if request.method == "GET":
        form = TypeForm(formdata=None, obj=found, audience=found.audience.value)
        return _type_form_page(form, found)
    form = TypeForm()
    body = form.checked(schemas.AppointmentTypeFields, form.values())
    saved = body and form.attempt(
        lambda: appointment_types.update_appointment_type(
            db.session, provider, found.id, body.model_dump(exclude={"active"})
        )
    )
    if not saved:
        return _type_form_page(form, found)
    flash(f"Saved '{saved.name}'.")
    return redirect(url_for("admin.type_list"))


def _set_active(type_id: int, active: bool) -> ResponseReturnValue:
    changed = appointment_types.update_appointment_type(
        db.session, current_provider(), type_id, {"active": active}
    )
    db.session.commit()
    if active:
        flash(f"'{changed.name}' can be booked again.")
    else:
        flash(
            f"Deactivated '{changed.name}': it can no longer be booked. Existing bookings "
            "and credits stay."
        )
    return redirect(url_for("admin.type_list"))


@bp.post("/types/<id:type_id>/deactivate")
@provider_required
def deactivate_type(type_id: int) -> ResponseReturnValue:
    return _set_active(type_id, False)


@bp.post("/types/<id:type_id>/activate")
@provider_required
def activate_type(type_id: int) -> ResponseReturnValue:
    return _set_active(type_id, True)


# Hours

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
RANGES_FORMAT = "Write hours like 09:00-12:00, 13:00-17:00."
BLANK_EXCEPTION_ROWS = 2


def ranges_of(text: str | None) -> list[dict[str, str]] | None:
    """'09:00-12:00, 13:00-17:00' as the API's ranges; None when it cannot be read."""
    ranges = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        match = re.fullmatch(r"\s*(\d{1,2}:\d\d)\s*[-–]\s*(\d{1,2}:\d\d)\s*", part)
        if match is None:
            return None
        ranges.append({"start": match.group(1), "end": match.group(2)})
    return ranges


def text_of(ranges: list[dict[str, str]]) -> str:
    return ", ".join(f"{r['start']}-{r['end']}" for r in ranges)


class ExceptionRow(SubForm):  # type: ignore[misc]
    day = StringField("Date", widget=DateInput())
    hours = StringField("Hours that day (empty: closed)")


class HoursForm(Form):
    mon = StringField("Monday")
    tue = StringField("Tuesday")
    wed = StringField("Wednesday")
    thu = StringField("Thursday")
    fri = StringField("Friday")
    sat = StringField("Saturday")
    sun = StringField("Sunday")
    exceptions = FieldList(FormField(ExceptionRow))

    rows_sent: list[int] = []
    """For each exception sent to the schema, the row of the form it came from."""

    def field_for(self, key: str) -> Field | None:
        parts = key.split(".")
        if parts[0] == "weekly" and len(parts) > 1:
            return super().field_for(parts[1])
        if parts[0] == "exceptions" and len(parts) > 1 and parts[1].isdigit():
            row = self.exceptions[self.rows_sent[int(parts[1])]].form
            return row.day if parts[2:3] == ["date"] else row.hours
        return super().field_for(key)

    def availability(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The API's availability body, and the fields whose hours could not be read."""
        weekly: dict[str, Any] = {}
        unreadable = {}
        for day in schedule.WEEKDAYS:
            weekly[day] = ranges_of(self[day].data)
            if weekly[day] is None:
                unreadable[f"weekly.{day}"] = RANGES_FORMAT
        exceptions: list[dict[str, Any]] = []
        self.rows_sent = []
        for index, row in enumerate(self.exceptions):
            day, hours = (row.form.day.data or "").strip(), (row.form.hours.data or "").strip()
            if not day and not hours:
                continue  # a blank row
            ranges = ranges_of(hours)
            if day_of(day) is None:
                unreadable[f"exceptions.{len(exceptions)}.date"] = DAY_FORMAT
            if ranges is None:
                unreadable[f"exceptions.{len(exceptions)}.hours"] = RANGES_FORMAT
            exceptions.append(
                {"date": day, "hours": ranges} if ranges else {"date": day, "closed": True}
            )
            self.rows_sent.append(index)
        return {"weekly": weekly, "exceptions": exceptions}, unreadable


def _hours_page(form: HoursForm) -> ResponseReturnValue:
    days = [(form[d], name) for d, name in zip(schedule.WEEKDAYS, WEEKDAY_NAMES, strict=True)]
    return page("admin/hours.html", 422 if form.errors else 200, form=form, days=days)


@bp.route("/hours", methods=["GET", "POST"])
@provider_required
def hours() -> ResponseReturnValue:
    provider = current_provider()
    if request.method == "GET":
        stored = schedule.availability_of(db.session, provider)
        rows = [
            {"day": e["date"], "hours": text_of(e.get("hours", []))} for e in stored["exceptions"]
        ]
        data = {day: text_of(ranges) for day, ranges in stored["weekly"].items()}
        form = HoursForm(
            formdata=None,
            data={**data, "exceptions": rows + [{}] * BLANK_EXCEPTION_ROWS},
        )
        return _hours_page(form)
    form = HoursForm()
    values, unreadable = form.availability()
    body = form.checked(schemas.Availability, values, unreadable)
    if body is not None:
        form.attempt(
            lambda: schedule.replace_availability(
                db.session,
                provider,
                weekly={
                    day: [r.model_dump() for r in ranges] for day, ranges in body.weekly.items()
                },
                exceptions=[e.model_dump() for e in body.exceptions],
            )
        )
    if body is None or form.errors:
        for _ in range(
            BLANK_EXCEPTION_ROWS - sum(1 for r in form.exceptions if not r.form.day.data)
        ):
            form.exceptions.append_entry()
        return _hours_page(form)
    flash("Your hours are saved. Clients see the new times at once.")
    return redirect(url_for("admin.hours"))


# Packages

ITEM_ROWS = 3


# A price as people type it: 1250, 1250.5, 1,250.00, or with a decimal comma 12,50.
_PRICE = re.compile(
    r"(?P<whole>\d+|\d{1,3}(?:,\d{3})+)(?:\.(?P<fraction>\d+))?"
    r"|(?P<comma_whole>\d+),(?P<comma_fraction>\d{1,2})"
)


class ItemRow(SubForm):  # type: ignore[misc]
    appointment_type_id = SelectField("Appointment type", choices=[], default="")
    quantity = StringField("Sessions", widget=NumberInput())
    expires_after_days = StringField("Expire after (days, optional)", widget=NumberInput())


class PackageForm(Form):
    name = StringField("Name")
    price = StringField("Price")
    items = FieldList(FormField(ItemRow), min_entries=ITEM_ROWS)

    rows_sent: list[int] = []

    def field_for(self, key: str) -> Field | None:
        parts = key.split(".")
        if key == "price_cents":
            return self.price
        if parts[0] == "items":
            index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
            row = self.items[self.rows_sent[index] if index is not None else 0].form
            return row[parts[2]] if len(parts) > 2 else row.appointment_type_id
        return super().field_for(key)

    def price_cents(self) -> tuple[int | None, dict[str, str]]:
        """The price typed in money as cents, or why it cannot be read. Commas group
        thousands (1,250.00) or, followed by one or two digits only, mark the decimals
        (12,50); anything else (12,5,0, 1e2, Infinity) is refused, not guessed at."""
        text = (self.price.data or "").strip()
        if not text:
            return None, {}
        match = _PRICE.fullmatch(text)
        if match is None:
            return None, {"price_cents": "Write a price like 120 or 120.50."}
        if match["comma_whole"] is not None:
            whole, fraction = match["comma_whole"], match["comma_fraction"]
        else:
            whole, fraction = match["whole"].replace(",", ""), match["fraction"] or ""
        fraction = fraction.rstrip("0")
        if len(fraction) > 2:
            return None, {"price_cents": "Use at most two decimals."}
        cents = int(whole) * 100 + int(fraction.ljust(2, "0"))
        if cents > schemas.MAX_PRICE_CENTS:
            return None, {"price_cents": f"Must be at most {schemas.MAX_PRICE_CENTS // 100:,}.00."}
        return cents, {}

    def values(self) -> dict[str, Any]:
        items = []
        self.rows_sent = []
        for index, row in enumerate(self.items):
            fields = row.form
            typed = (fields.appointment_type_id.data, fields.quantity.data)
            if not any(typed) and not fields.expires_after_days.data:
                continue
            items.append(
                given(
                    appointment_type_id=number(fields.appointment_type_id.data),
                    quantity=number(fields.quantity.data),
                    expires_after_days=number(fields.expires_after_days.data),
                )
            )
            self.rows_sent.append(index)
        return given(name=self.name.data, price_cents=self.price_cents()[0], items=items)


def _package_form(formdata: bool = True) -> PackageForm:
    form = PackageForm() if formdata else PackageForm(formdata=None)
    choices = options(
        [
            (t.id, t.name)
            for t in appointment_types.appointment_types_of(db.session, current_provider())
        ],
        blank="Choose a type",
    )
    for row in form.items:
        row.form.appointment_type_id.choices = choices
    return form


def _packages_page(form: PackageForm) -> ResponseReturnValue:
    provider = current_provider()
    return page(
        "admin/packages.html",
        422 if form.errors else 200,
        form=form,
        found=packages.packages_of(db.session, provider),
        type_names={
            t.id: t.name for t in appointment_types.appointment_types_of(db.session, provider)
        },
    )


@bp.get("/packages")
@provider_required
def package_list() -> ResponseReturnValue:
    return _packages_page(_package_form(formdata=False))


@bp.post("/packages")
@provider_required
def create_package() -> ResponseReturnValue:
    form = _package_form()
    body = form.checked(schemas.PackageFields, form.values(), form.price_cents()[1])
    created = body and form.attempt(
        lambda: packages.create_package(
            db.session,
            current_provider(),
            name=body.name,
            price_cents=body.price_cents,
            items=[ItemSpec(**item.model_dump()) for item in body.items],
        )
    )
    if not created:
        return _packages_page(form)
    flash(f"Created the package '{created.name}'. Record a purchase from a client's page.")
    return redirect(url_for("admin.package_list"))


def _set_on_sale(package_id: int, on_sale: bool) -> ResponseReturnValue:
    changed = packages.change_package(
        db.session, current_provider(), package_id, {"active": on_sale}
    )
    db.session.commit()
    if on_sale:
        flash(f"'{changed.name}' is on sale again.")
    else:
        flash(f"'{changed.name}' is no longer sold. Clients who bought it keep their credits.")
    return redirect(url_for("admin.package_list"))


@bp.post("/packages/<id:package_id>/stop-selling")
@provider_required
def stop_selling_package(package_id: int) -> ResponseReturnValue:
    return _set_on_sale(package_id, False)


@bp.post("/packages/<id:package_id>/sell-again")
@provider_required
def sell_package_again(package_id: int) -> ResponseReturnValue:
    return _set_on_sale(package_id, True)
