"""Providers, their API keys and their settings."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from ..models import ApiKey, Provider, Verification
from .emails import checked_email
from .errors import Conflict, ValidationFailed
from .timezones import zone_named

API_KEY_PREFIX = "wk_"
SETTINGS_FIELDS = (
    "timezone",
    "public_links_new_client_only",
    "negative_credit_limit",
    "public_booking_verification",
    "pending_hold_minutes",
    "late_cancel_hours",
    "embed_allowed_origins",
)
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:\d{1,5})?$")


@dataclass(frozen=True)
class NewProvider:
    provider: Provider
    api_key: str


def hash_api_key(key: str) -> str:
    """Keys carry 256 random bits, so a plain SHA-256 is enough and lets lookup use an index."""
    return hashlib.sha256(key.encode()).hexdigest()


def _slug_base(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:60] or "provider"


def _free_slug(session: Session, name: str) -> str:
    base = _slug_base(name)
    taken = set(
        session.scalars(
            select(Provider.slug).where((Provider.slug == base) | Provider.slug.like(f"{base}-%"))
        )
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def issue_api_key(session: Session, provider: Provider) -> str:
    """A new key for the provider; the plain key is shown once and never stored."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(provider_id=provider.id, key_hash=hash_api_key(key), prefix=key[:10]))
    return key


def create_provider(
    session: Session,
    *,
    name: str,
    email: str,
    timezone: str,
    password_hash: str | None = None,
) -> NewProvider:
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = "must not be empty"
    try:
        email = checked_email(email)
    except ValidationFailed as exc:
        errors.update(exc.details)
    try:
        zone_named(timezone)
    except ValidationFailed as exc:
        errors.update(exc.details)
    if errors:
        raise ValidationFailed(errors)
    if session.scalar(select(func.count()).where(Provider.email == email)):
        raise Conflict(f"A provider with the email {email} exists already.")
    provider = Provider(
        name=name,
        email=email,
        timezone=timezone,
        slug=_free_slug(session, name),
        password_hash=password_hash,
        public_links_new_client_only=True,
        negative_credit_limit=0,
        public_booking_verification=Verification.email,
        pending_hold_minutes=15,
        late_cancel_hours=24,
        embed_allowed_origins=[],
    )
    session.add(provider)
    session.flush()
    return NewProvider(provider, issue_api_key(session, provider))


# Built once: every API request runs it, and building a statement costs as much as running it.
_BY_KEY_HASH = (
    select(Provider)
    .join(ApiKey, ApiKey.provider_id == Provider.id)
    .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None))
)


def provider_for_api_key(session: Session, key: str) -> Provider | None:
    return session.scalar(_BY_KEY_HASH, {"key_hash": hash_api_key(key)})


def settings_of(provider: Provider) -> dict[str, Any]:
    return {
        "slug": provider.slug,
        "timezone": provider.timezone,
        "public_links_new_client_only": provider.public_links_new_client_only,
        "negative_credit_limit": provider.negative_credit_limit,
        "public_booking_verification": provider.public_booking_verification.value,
        "pending_hold_minutes": provider.pending_hold_minutes,
        "late_cancel_hours": provider.late_cancel_hours,
        "embed_allowed_origins": list(provider.embed_allowed_origins or []),
    }


def update_settings(provider: Provider, changes: dict[str, Any]) -> Provider:
    """Apply already type-checked changes, after the checks that need the domain's words."""
    errors: dict[str, str] = {}
    if "timezone" in changes:
        try:
            zone_named(changes["timezone"])
        except ValidationFailed as exc:
            errors.update(exc.details)
    for origin in changes.get("embed_allowed_origins") or []:
        if not _ORIGIN.match(origin.rstrip("/")):
            errors["embed_allowed_origins"] = (
                f"'{origin}' is not an origin: use scheme and host, like https://clinic.example"
            )
    if errors:
        raise ValidationFailed(errors)
    for field, value in changes.items():
        if field == "public_booking_verification":
            value = Verification(value)
        elif field == "embed_allowed_origins":
            value = [origin.rstrip("/") for origin in value]
        setattr(provider, field, value)
    return provider
