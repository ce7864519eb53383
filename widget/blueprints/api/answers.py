"""Response schemas: what each JSON answer of the API holds, for the OpenAPI document.

They mirror render.py, links.py, webhooks.py and the domain's settings/availability
shapes field for field (`extra="forbid"`: a field added there and not here makes the
document, and the fuzz tests that check answers against it, fail).
"""

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

AudienceName = Literal["new_clients", "existing_clients", "everyone"]
BookingStatusName = Literal[
    "pending_verification", "confirmed", "cancelled", "no_show", "expired", "refused"
]
ChannelName = Literal["public", "portal", "provider"]
EntryKindName = Literal[
    "package_grant",
    "booking",
    "cancellation_refund",
    "late_cancellation",
    "manual_adjustment",
    "expiry",
]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(Answer):
    code: str
    message: str
    details: dict[str, Any]


class Error(Answer):
    """Every error answer under /api/: a stable reason code, a sentence, details."""

    error: ErrorBody


class Settings(Answer):
    slug: str
    timezone: str
    public_links_new_client_only: bool
    negative_credit_limit: int
    public_booking_verification: Literal["email", "none"]
    pending_hold_minutes: int
    late_cancel_hours: int
    embed_allowed_origins: list[str]


class AppointmentType(Answer):
    id: int
    name: str
    duration_minutes: int
    audience: AudienceName
    requires_credit: bool
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    max_days_ahead: int
    slot_step_minutes: int | None
    max_per_day: int | None
    late_cancel_hours: int | None
    active: bool


class AppointmentTypeList(Answer):
    appointment_types: list[AppointmentType]


class Hours(Answer):
    start: str
    end: str


class ClosedDay(Answer):
    date: dt.date
    closed: Literal[True]


class SpecialHours(Answer):
    date: dt.date
    hours: list[Hours]


class AvailabilityView(Answer):
    weekly: dict[str, list[Hours]]
    exceptions: list[ClosedDay | SpecialHours]


class Slot(Answer):
    start: dt.datetime
    end: dt.datetime


class Slots(Answer):
    slots: list[Slot]


class PackageItem(Answer):
    appointment_type_id: int
    quantity: int
    expires_after_days: int | None


class Package(Answer):
    id: int
    name: str
    price_cents: int
    active: bool
    items: list[PackageItem]


class PackageList(Answer):
    packages: list[Package]


class Client(Answer):
    id: int
    email: str
    name: str
    status: Literal["new", "existing"]
    created_at: dt.datetime | None


class ClientList(Answer):
    clients: list[Client]


class Entry(Answer):
    """One credit ledger entry."""

    id: int
    kind: EntryKindName
    appointment_type_id: int
    delta: int
    balance_after: int
    created_at: dt.datetime | None
    note: str | None
    actor: str | None
    override: bool
    booking_id: int | None
    client_package_id: int | None


class ClientPackage(Answer):
    id: int
    client_id: int
    package_id: int
    status: Literal["active", "archived", "deleted"]
    purchased_at: dt.datetime | None
    archived_at: dt.datetime | None
    deleted_at: dt.datetime | None
    grants: list[Entry]


class ClientPackageList(Answer):
    client_packages: list[ClientPackage]


class Credit(Answer):
    appointment_type_id: int
    appointment_type: str
    balance: int


class Credits(Answer):
    credits: list[Credit]


class CreditHistory(Answer):
    balance: int
    history: list[Entry]


class Booking(Answer):
    id: int
    status: BookingStatusName
    start: dt.datetime
    end: dt.datetime
    appointment_type_id: int
    channel: ChannelName
    client_id: int | None
    name: str | None
    email: str | None
    credit_spent: bool
    credit_refunded: bool | None  # null until the booking is cancelled
    late_cancellation: bool
    cancel_reason: str | None
    created_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    hold_expires_at: dt.datetime | None


class BookingList(Answer):
    bookings: list[Booking]


class ShareLink(Answer):
    id: int
    token: str
    url: str
    embed_url: str
    embed_snippet: str
    label: str | None
    appointment_type_ids: list[int]
    client_id: int | None
    expires_at: dt.datetime | None
    max_uses: int | None
    use_count: int
    revoked: bool
    revoked_at: dt.datetime | None
    created_at: dt.datetime | None


class ShareLinkList(Answer):
    share_links: list[ShareLink]


class LinkProvider(Answer):
    name: str
    timezone: str


class OfferedType(Answer):
    id: int
    name: str
    duration_minutes: int
    audience: AudienceName


class LinkInfo(Answer):
    provider: LinkProvider
    personal: bool
    appointment_types: list[OfferedType]


class PublicBooking(Answer):
    """A booking as its visitor sees it: no client id, name or email."""

    id: int
    status: BookingStatusName
    start: dt.datetime
    end: dt.datetime
    appointment_type_id: int
    channel: ChannelName
    hold_expires_at: dt.datetime | None


class PublicBookingAnswer(Answer):
    booking: PublicBooking
    message: str


class Webhook(Answer):
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: dt.datetime | None
    secret: str | None = None


class WebhookList(Answer):
    webhooks: list[Webhook]


class Delivery(Answer):
    id: int
    event: str
    payload: dict[str, Any]
    created_at: dt.datetime | None
    attempts: int
    delivered_at: dt.datetime | None
    next_attempt_at: dt.datetime | None
    given_up_at: dt.datetime | None
    last_status: int | None
    last_error: str | None


class DeliveryList(Answer):
    deliveries: list[Delivery]
