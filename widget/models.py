"""The data model: SQLAlchemy 2.0 typed tables, the same on SQLite and PostgreSQL.

Times are stored in UTC and always come back timezone-aware. Invariants that the
database can hold are CHECK constraints, so a bug elsewhere cannot write them wrong.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    exists,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime on every engine (SQLite keeps naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous: pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class Audience(enum.StrEnum):
    new_clients = "new_clients"
    existing_clients = "existing_clients"
    everyone = "everyone"


class Verification(enum.StrEnum):
    email = "email"
    none = "none"


class ClientPackageStatus(enum.StrEnum):
    active = "active"
    archived = "archived"
    deleted = "deleted"


class EntryKind(enum.StrEnum):
    package_grant = "package_grant"
    booking = "booking"
    cancellation_refund = "cancellation_refund"
    late_cancellation = "late_cancellation"
    manual_adjustment = "manual_adjustment"
    expiry = "expiry"


class Channel(enum.StrEnum):
    public = "public"
    portal = "portal"
    provider = "provider"


class BookingStatus(enum.StrEnum):
    pending_verification = "pending_verification"
    confirmed = "confirmed"
    cancelled = "cancelled"
    no_show = "no_show"
    expired = "expired"
    refused = "refused"


LIVE_STATUSES = (BookingStatus.pending_verification, BookingStatus.confirmed)


class WebhookEndpoint(db.Model):  # type: ignore[name-defined,misc]
    """A provider's URL that hears about chosen events, signed with its own secret."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Provider(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "providers"
    __table_args__ = (
        CheckConstraint("negative_credit_limit >= 0", name="ck_providers_negative_limit"),
        CheckConstraint("pending_hold_minutes > 0", name="ck_providers_hold_minutes"),
        CheckConstraint("late_cancel_hours >= 0", name="ck_providers_late_cancel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    timezone: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    public_links_new_client_only: Mapped[bool] = mapped_column(Boolean, default=True)
    negative_credit_limit: Mapped[int] = mapped_column(Integer, default=0)
    public_booking_verification: Mapped[Verification] = mapped_column(
        _enum(Verification, "verification"), default=Verification.email
    )
    pending_hold_minutes: Mapped[int] = mapped_column(Integer, default=15)
    late_cancel_hours: Mapped[int] = mapped_column(Integer, default=24)
    embed_allowed_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Read with the provider (every request loads it), so a change that emits webhook
    # events knows without another query that most providers have no endpoint.
    has_webhooks: Mapped[bool] = column_property(
        exists().where(WebhookEndpoint.provider_id == id, WebhookEndpoint.active.is_(True))
    )


class ApiKey(db.Model):  # type: ignore[name-defined,misc]
    """A provider API key; only its SHA-256 is stored, so a leaked table grants nothing."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    provider: Mapped[Provider] = relationship()


class Client(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "clients"
    __table_args__ = (UniqueConstraint("provider_id", "email", name="uq_clients_provider_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AppointmentType(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "appointment_types"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="ck_types_duration"),
        CheckConstraint("slot_step_minutes > 0", name="ck_types_step"),
        CheckConstraint(
            "buffer_before_minutes >= 0 AND buffer_after_minutes >= 0", name="ck_types_buffers"
        ),
        CheckConstraint("min_notice_minutes >= 0", name="ck_types_notice"),
        CheckConstraint("max_days_ahead >= 0", name="ck_types_horizon"),
        CheckConstraint("max_per_day IS NULL OR max_per_day > 0", name="ck_types_max_per_day"),
        CheckConstraint(
            "NOT (audience = 'new_clients' AND requires_credit)", name="ck_types_new_client_free"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    audience: Mapped[Audience] = mapped_column(_enum(Audience, "audience"))
    requires_credit: Mapped[bool] = mapped_column(Boolean)
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=0)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=0)
    max_days_ahead: Mapped[int] = mapped_column(Integer, default=60)
    slot_step_minutes: Mapped[int] = mapped_column(Integer)
    max_per_day: Mapped[int | None] = mapped_column(Integer)
    late_cancel_hours: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WeeklyHours(db.Model):  # type: ignore[name-defined,misc]
    """One working range on a weekday, in the provider's zone; end 00:00 means midnight."""

    __tablename__ = "weekly_hours"
    __table_args__ = (CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_weekly_hours_weekday"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)


class DateException(db.Model):  # type: ignore[name-defined,misc]
    """A date whose hours replace the weekly ones; a row without times closes the day."""

    __tablename__ = "date_exceptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)


class Package(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "packages"
    __table_args__ = (CheckConstraint("price_cents >= 0", name="ck_packages_price"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    price_cents: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[PackageItem]] = relationship(
        back_populates="package", order_by="PackageItem.id", cascade="all, delete-orphan"
    )


class PackageItem(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "package_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="ck_package_items_quantity"),
        CheckConstraint(
            "expires_after_days IS NULL OR expires_after_days > 0", name="ck_package_items_expiry"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"))
    appointment_type_id: Mapped[int] = mapped_column(ForeignKey("appointment_types.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    expires_after_days: Mapped[int | None] = mapped_column(Integer)

    package: Mapped[Package] = relationship(back_populates="items")
    appointment_type: Mapped[AppointmentType] = relationship()


class ClientPackage(db.Model):  # type: ignore[name-defined,misc]
    """A purchase. Its status never touches the credits it granted."""

    __tablename__ = "client_packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"))
    status: Mapped[ClientPackageStatus] = mapped_column(
        _enum(ClientPackageStatus, "client_package_status"), default=ClientPackageStatus.active
    )
    purchased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    package: Mapped[Package] = relationship()


class CreditBalance(db.Model):  # type: ignore[name-defined,misc]
    """The denormalised balance of one account; changes only beside its ledger entry."""

    __tablename__ = "credit_balances"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), primary_key=True)
    appointment_type_id: Mapped[int] = mapped_column(
        ForeignKey("appointment_types.id"), primary_key=True
    )
    balance: Mapped[int] = mapped_column(Integer, default=0)


class CreditLot(db.Model):  # type: ignore[name-defined,misc]
    """Credits that arrived together and expire together; spending takes the soonest first."""

    __tablename__ = "credit_lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= granted", name="ck_lots_remaining"),
        Index("ix_credit_lots_account", "client_id", "appointment_type_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    appointment_type_id: Mapped[int] = mapped_column(ForeignKey("appointment_types.id"))
    client_package_id: Mapped[int | None] = mapped_column(ForeignKey("client_packages.id"))
    granted: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CreditEntry(db.Model):  # type: ignore[name-defined,misc]
    """One line of the append-only ledger: never updated, never deleted."""

    __tablename__ = "credit_entries"
    __table_args__ = (
        Index("ix_credit_entries_account", "client_id", "appointment_type_id", "id"),
        CheckConstraint(
            "(kind = 'package_grant' AND delta > 0 AND client_package_id IS NOT NULL)"
            " OR (kind = 'booking' AND delta = -1 AND booking_id IS NOT NULL)"
            " OR (kind = 'cancellation_refund' AND delta = 1 AND booking_id IS NOT NULL)"
            " OR (kind = 'late_cancellation' AND delta = 0 AND booking_id IS NOT NULL)"
            " OR (kind = 'manual_adjustment' AND delta <> 0 AND note IS NOT NULL)"
            " OR (kind = 'expiry' AND delta < 0)",
            name="ck_credit_entries_kind_shape",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    appointment_type_id: Mapped[int] = mapped_column(ForeignKey("appointment_types.id"))
    kind: Mapped[EntryKind] = mapped_column(_enum(EntryKind, "entry_kind"))
    delta: Mapped[int] = mapped_column(Integer)
    balance_after: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(200))
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    client_package_id: Mapped[int | None] = mapped_column(ForeignKey("client_packages.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("credit_lots.id"))


class Booking(db.Model):  # type: ignore[name-defined,misc]
    """An appointment, or a public visitor's hold on a slot until they confirm by email.

    block_start/block_end are the interval the booking keeps free of others: its
    times widened by the type's buffers. PostgreSQL excludes overlaps between live
    blocks of one provider.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="ck_bookings_times"),
        CheckConstraint(
            "block_start <= start_at AND block_end >= end_at", name="ck_bookings_block"
        ),
        Index("ix_bookings_provider_block", "provider_id", "block_start"),
        Index("ix_bookings_client", "client_id"),
        # The holds awaiting their confirmation, which reads retire when their time is up.
        Index(
            "ix_bookings_pending_holds",
            "provider_id",
            "hold_expires_at",
            postgresql_where=text("status = 'pending_verification'"),
            sqlite_where=text("status = 'pending_verification'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    appointment_type_id: Mapped[int] = mapped_column(ForeignKey("appointment_types.id"))
    share_link_id: Mapped[int | None] = mapped_column(ForeignKey("share_links.id"))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    status: Mapped[BookingStatus] = mapped_column(_enum(BookingStatus, "booking_status"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    block_start: Mapped[datetime] = mapped_column(UTCDateTime)
    block_end: Mapped[datetime] = mapped_column(UTCDateTime)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    timezone: Mapped[str | None] = mapped_column(String(64))
    credit_spent: Mapped[bool] = mapped_column(Boolean, default=False)
    credit_refunded: Mapped[bool | None] = mapped_column(Boolean)
    late_cancellation: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled_by: Mapped[str | None] = mapped_column(String(32))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    refusal_reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    appointment_type: Mapped[AppointmentType] = relationship()


class ShareLink(db.Model):  # type: ignore[name-defined,misc]
    """The server-side record a signed token names: a signature alone never books.

    Its uses are counted from its bookings, not kept in a counter: a hold that
    expires or is refused gives its use back without anyone having to remember to.
    """

    __tablename__ = "share_links"
    __table_args__ = (
        CheckConstraint("max_uses IS NULL OR max_uses > 0", name="ck_share_links_max_uses"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    label: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_uses: Mapped[int | None] = mapped_column(Integer)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    appointment_types: Mapped[list[AppointmentType]] = relationship(
        secondary="share_link_types", order_by="AppointmentType.id"
    )


class ShareLinkType(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "share_link_types"

    share_link_id: Mapped[int] = mapped_column(
        ForeignKey("share_links.id", ondelete="CASCADE"), primary_key=True
    )
    appointment_type_id: Mapped[int] = mapped_column(
        ForeignKey("appointment_types.id"), primary_key=True
    )


class IdempotencyKey(db.Model):  # type: ignore[name-defined,misc]
    """A booking POST's answer, kept so a retry replays it instead of booking twice."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_scope_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class OutboxMessage(db.Model):  # type: ignore[name-defined,misc]
    """An email written in the transaction that caused it, sent after that commits.

    A request never talks to SMTP, so its timing says nothing about the recipient,
    and a mail server that is down loses nothing: delivery retries from here.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    ics: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    given_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class WebhookDelivery(db.Model):  # type: ignore[name-defined,misc]
    """One event for one endpoint: written with the change it reports, sent after commit,
    retried with backoff; the rows are the delivery log the provider reads."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_unsent", "sent_at", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    given_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
