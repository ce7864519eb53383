"""Share links: server-side records named by signed tokens.

The token only names a record; the record decides (expiry, uses, revocation), so a
valid signature alone never books. Tokens carry their own salt, so a token signed
for another purpose (a magic login, say) never passes as a share link, and are
signed with a list of keys so keys can rotate.
"""

from collections.abc import Sequence
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..models import AppointmentType, Audience, Provider, ShareLink
from .appointment_types import appointment_types_by_id
from .clients import client_of
from .errors import DomainError, NotFound, Refused, ValidationFailed

SALT = "widget.share-link"


def _serializer(keys: Sequence[str]) -> URLSafeSerializer:
    """keys oldest first, newest last: the newest signs, all verify."""
    return URLSafeSerializer(list(keys), salt=SALT)


def token_for(link: ShareLink, keys: Sequence[str]) -> str:
    return str(_serializer(keys).dumps(link.id))


def offered_types(provider: Provider, link: ShareLink) -> list[AppointmentType]:
    """The link's types a visitor may see now: active, and public unless the link is personal."""
    return [
        t
        for t in link.appointment_types
        if t.active
        and (
            link.client_id is not None
            or not provider.public_links_new_client_only
            or t.audience == Audience.new_clients
        )
    ]


def create_link(
    session: Session,
    provider: Provider,
    *,
    type_ids: list[int],
    now: datetime,
    label: str | None = None,
    expires_at: datetime | None = None,
    max_uses: int | None = None,
    client_id: int | None = None,
) -> ShareLink:
    errors: dict[str, str] = {}
    found = appointment_types_by_id(session, provider, type_ids)
    types = list(found.values())
    missing = sorted(set(type_ids) - set(found))
    if not type_ids:
        errors["appointment_type_ids"] = "must list at least one appointment type"
    elif missing:
        errors["appointment_type_ids"] = f"no appointment type with id {missing[0]}"
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = "must be in the future"
    if client_id is not None:
        try:
            client_of(session, provider, client_id, field="client_id")
        except ValidationFailed as exc:
            errors.update(exc.details)
    if errors:
        raise ValidationFailed(errors)
    if client_id is None and provider.public_links_new_client_only:
        private = [t.name for t in types if t.audience != Audience.new_clients]
        if private:
            raise DomainError(
                "Public links carry new-client appointment types only.",
                code="type_not_public",
                details={
                    "appointment_type_ids": f"'{private[0]}' is not for new clients: public "
                    "links carry new-client types only while public_links_new_client_only is on"
                },
            )
    link = ShareLink(
        provider_id=provider.id,
        client_id=client_id,
        label=label,
        expires_at=expires_at,
        max_uses=max_uses,
        use_count=0,
        created_at=now,
        appointment_types=sorted(types, key=lambda t: t.id),
    )
    session.add(link)
    session.flush()
    return link


def links_of(session: Session, provider: Provider) -> list[ShareLink]:
    return list(
        session.scalars(
            select(ShareLink)
            .where(ShareLink.provider_id == provider.id)
            .options(selectinload(ShareLink.appointment_types))
            .order_by(ShareLink.id)
        )
    )


def link_of(session: Session, provider: Provider, link_id: int) -> ShareLink:
    link = session.scalar(
        select(ShareLink).where(ShareLink.id == link_id, ShareLink.provider_id == provider.id)
    )
    if link is None:
        raise NotFound("No such share link.")
    return link


def revoke_link(session: Session, provider: Provider, link_id: int, now: datetime) -> ShareLink:
    link = link_of(session, provider, link_id)
    if link.revoked_at is None:
        link.revoked_at = now
    session.flush()
    return link


def open_link(session: Session, token: str, keys: Sequence[str], now: datetime) -> ShareLink:
    """The live record a token names, or the reason it cannot be used."""
    try:
        link_id = _serializer(keys).loads(token)
    except BadSignature:
        raise Refused("link_invalid", "This link is not valid.") from None
    link = session.get(ShareLink, link_id) if isinstance(link_id, int) else None
    if link is None:
        raise Refused("link_invalid", "This link is not valid.")
    if link.revoked_at is not None:
        raise Refused("link_revoked", "This link has been withdrawn by the provider.")
    if link.expires_at is not None and link.expires_at <= now:
        raise Refused("link_expired", "This link has expired.")
    if link.max_uses is not None and link.use_count >= link.max_uses:
        raise Refused("link_exhausted", "This link has been used as often as it may be.")
    return link


def offered_type(provider: Provider, link: ShareLink, type_id: int) -> AppointmentType:
    """A type this link offers now; anything else is simply not found."""
    for appointment_type in offered_types(provider, link):
        if appointment_type.id == type_id:
            return appointment_type
    raise NotFound("This link does not offer that appointment type.")
