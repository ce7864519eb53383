"""Request schemas: the one description of what each endpoint accepts."""

import datetime as dt
import re
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
)

from ...domain.errors import ValidationFailed

MAX_ID = 2**31 - 1

Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
Minutes = Annotated[StrictInt, Field(ge=0, le=525_600)]
PositiveMinutes = Annotated[StrictInt, Field(gt=0, le=1440)]
Name = Annotated[StrictStr, Field(min_length=1, max_length=200)]
Email = Annotated[
    StrictStr, Field(min_length=3, max_length=320, json_schema_extra={"format": "email"})
]
Zone = Annotated[StrictStr, Field(min_length=1, max_length=64)]
Note = Annotated[StrictStr, Field(min_length=1, max_length=2000)]
AudienceName = Literal["new_clients", "existing_clients", "everyone"]

FIRST_YEAR, LAST_YEAR = 2000, 2199


def _in_calendar_range(value: dt.datetime) -> dt.datetime:
    """A booking system's times: far-past or far-future instants are typos, and near the
    edges of the calendar a zone's offset has seconds or the arithmetic overflows."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must be between the years {FIRST_YEAR} and {LAST_YEAR}")
    return value


def _day_in_calendar_range(value: dt.date) -> dt.date:
    """Dates near 0001-01-01 or 9999-12-31 overflow once a day is added or a zone applied."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must be between the years {FIRST_YEAR} and {LAST_YEAR}")
    return value


# Pydantic's lax mode reads a JSON number, or a string of digits, as seconds since 1970,
# and takes a date-time where a date is asked for; the API takes the ISO forms only.
_ISO_DAY = re.compile(r"\d{4}-\d\d-\d\d")
_ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d")


def _written_as_iso_day(value: object) -> object:
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DAY.fullmatch(value)):
        return value
    raise ValueError("must be a date written YYYY-MM-DD, like 2026-12-01")


def _written_as_iso_moment(value: object) -> object:
    if isinstance(value, dt.datetime) or (isinstance(value, str) and _ISO_MOMENT.match(value)):
        return value
    raise ValueError("must be an ISO 8601 time with a UTC offset, like 2026-12-01T09:00:00-05:00")


Day = Annotated[
    dt.date,
    BeforeValidator(_written_as_iso_day),
    AfterValidator(_day_in_calendar_range),
    Field(description=f"YYYY-MM-DD, years {FIRST_YEAR} to {LAST_YEAR}"),
]
Moment = Annotated[
    AwareDatetime,
    BeforeValidator(_written_as_iso_moment),
    AfterValidator(_in_calendar_range),
    Field(description=f"ISO 8601 with a UTC offset, years {FIRST_YEAR} to {LAST_YEAR}"),
]


def _on_a_whole_minute(value: dt.datetime) -> dt.datetime:
    """Appointments start on a minute: a start with seconds would move every slot after it."""
    if value.second or value.microsecond:
        raise ValueError("must be on a whole minute, like 2026-12-01T09:30:00-05:00")
    return value


Start = Annotated[Moment, AfterValidator(_on_a_whole_minute)]
"""A provider's booking or move; a link's start must be one of its slots anyway."""


MAX_PRICE_CENTS = 100_000_000
"""A package's price at most: 1,000,000.00 in the provider's currency."""


class Schema(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: object) -> object:
        """PostgreSQL cannot store NUL in text; refuse it as bad input, not a crash."""
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("must not contain NUL characters")
        return value


def changes_of(patch: Schema, nullable: frozenset[str] = frozenset()) -> dict[str, object]:
    """The fields a PATCH sent; null only where null means something (clear a limit)."""
    changes = patch.model_dump(exclude_unset=True)
    nulls = {f: "must not be null" for f, v in changes.items() if v is None and f not in nullable}
    if nulls:
        raise ValidationFailed(nulls)
    return changes


class SettingsPatch(Schema):
    timezone: Zone | None = None
    public_links_new_client_only: StrictBool | None = None
    negative_credit_limit: Annotated[StrictInt, Field(ge=0, le=10_000)] | None = None
    public_booking_verification: Literal["email", "none"] | None = None
    pending_hold_minutes: Annotated[StrictInt, Field(gt=0, le=1440)] | None = None
    late_cancel_hours: Annotated[StrictInt, Field(ge=0, le=8760)] | None = None
    embed_allowed_origins: list[Annotated[StrictStr, Field(max_length=200)]] | None = None


class AppointmentTypeFields(Schema):
    name: Name
    duration_minutes: PositiveMinutes
    audience: AudienceName
    requires_credit: StrictBool
    buffer_before_minutes: Annotated[StrictInt, Field(ge=0, le=1440)] = 0
    buffer_after_minutes: Annotated[StrictInt, Field(ge=0, le=1440)] = 0
    min_notice_minutes: Minutes = 0
    max_days_ahead: Annotated[StrictInt, Field(ge=0, le=3650)] = 60
    slot_step_minutes: PositiveMinutes | None = None
    max_per_day: Annotated[StrictInt, Field(gt=0, le=1000)] | None = None
    late_cancel_hours: Annotated[StrictInt, Field(ge=0, le=8760)] | None = None
    active: StrictBool = True


class AppointmentTypePatch(Schema):
    name: Name | None = None
    duration_minutes: PositiveMinutes | None = None
    audience: AudienceName | None = None
    requires_credit: StrictBool | None = None
    buffer_before_minutes: Annotated[StrictInt, Field(ge=0, le=1440)] | None = None
    buffer_after_minutes: Annotated[StrictInt, Field(ge=0, le=1440)] | None = None
    min_notice_minutes: Minutes | None = None
    max_days_ahead: Annotated[StrictInt, Field(ge=0, le=3650)] | None = None
    slot_step_minutes: PositiveMinutes | None = None
    max_per_day: Annotated[StrictInt, Field(gt=0, le=1000)] | None = None
    late_cancel_hours: Annotated[StrictInt, Field(ge=0, le=8760)] | None = None
    active: StrictBool | None = None

    NULLABLE: ClassVar[frozenset[str]] = frozenset(
        {"slot_step_minutes", "max_per_day", "late_cancel_hours"}
    )


class HoursRange(Schema):
    start: Annotated[StrictStr, Field(max_length=5)]
    end: Annotated[StrictStr, Field(max_length=5)]


class AvailabilityException(Schema):
    date: Day
    closed: StrictBool | None = None
    hours: list[HoursRange] | None = None


class Availability(Schema):
    weekly: dict[StrictStr, list[HoursRange]] = {}
    exceptions: Annotated[list[AvailabilityException], Field(max_length=1000)] = []


class PackageItemFields(Schema):
    appointment_type_id: Id
    quantity: Annotated[StrictInt, Field(gt=0, le=10_000)]
    expires_after_days: Annotated[StrictInt, Field(gt=0, le=3650)] | None = None


class PackageFields(Schema):
    name: Name
    price_cents: Annotated[StrictInt, Field(ge=0, le=MAX_PRICE_CENTS)]
    items: Annotated[list[PackageItemFields], Field(min_length=1, max_length=50)]


class PackagePatch(Schema):
    # A package's items stay what buyers got: sending them is an error, not ignored.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name | None = None
    price_cents: Annotated[StrictInt, Field(ge=0, le=MAX_PRICE_CENTS)] | None = None
    active: Annotated[
        StrictBool | None,
        Field(description="false: no longer sold (what clients bought stays theirs)"),
    ] = None


class ClientFields(Schema):
    email: Email
    name: Name


class ClientQuery(Schema):
    email: Annotated[StrictStr, Field(max_length=320)] | None = None


class Purchase(Schema):
    package_id: Id


class Adjustment(Schema):
    delta: Annotated[StrictInt, Field(ge=-10_000, le=10_000)]
    note: Note


QueryId = Annotated[int, Field(ge=1, le=MAX_ID)]
BookingStatusName = Literal[
    "pending_verification", "confirmed", "cancelled", "no_show", "expired", "refused"
]


class SlotQuery(Schema):
    appointment_type_id: QueryId
    start: Day
    end: Day
    timezone: Zone | None = None


class BookingQuery(Schema):
    from_: Day | None = Field(default=None, alias="from")
    to: Day | None = None
    status: BookingStatusName | None = None


NotifyClient = Annotated[
    StrictBool,
    Field(
        description="Email the client about it (confirmation with a calendar invite and a "
        "manage link, or the cancellation), as a booking made online does. Off by default: "
        "your own systems may tell the client themselves."
    ),
]


class BookingFields(Schema):
    client_id: Id
    appointment_type_id: Id
    start: Start
    allow_negative: StrictBool = False
    notify_client: NotifyClient = False


class CancelFields(Schema):
    reason: Annotated[StrictStr, Field(max_length=2000)] | None = None
    late: StrictBool = False
    notify_client: NotifyClient = False


class RescheduleFields(Schema):
    start: Start
    notify_client: NotifyClient = False


class ShareLinkFields(Schema):
    appointment_type_ids: Annotated[list[Id], Field(min_length=1, max_length=50)]
    label: Annotated[StrictStr, Field(max_length=200)] | None = None
    expires_at: Moment | None = None
    max_uses: Annotated[StrictInt, Field(gt=0, le=1_000_000)] | None = None
    client_id: Id | None = None


class LinkBookingFields(Schema):
    """A visitor's submission; a personal link may leave out name and email."""

    appointment_type_id: Id
    start: Moment
    name: Name | None = None
    email: Email | None = None
    timezone: Zone | None = None
