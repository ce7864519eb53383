"""Share links: server-side records named by signed tokens.

The token only names a record; the record decides (expiry, uses, revocation), so a
valid signature alone never books. Tokens carry their own salt, so a token signed
for another purpose (a magic login, say) never passes as a share link, and are
signed with a list of keys so keys can rotate.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..models import AppointmentType, Audience, Booking, BookingStatus, Provider, ShareLink
from . import tokens
from .appointment_types import appointment_types_by_id
from .clients import client_of
from .errors import DomainError, NotFound, Refused, ValidationFailed


def token_for(link: ShareLink, keys: Sequence[str]) -> str:
    return tokens.sign(link.id, keys, tokens.SHARE_LINK)


def link_id_of(token: str, keys: Sequence[str]) -> int:
    """The id a token names (signature checked, record not): `link_invalid` otherwise."""
    link_id = tokens.unsign(token, keys, tokens.SHARE_LINK)
    if not isinstance(link_id, int):
        raise Refused("link_invalid", "This link is not valid.")
    return link_id


def _is_use(now: datetime) -> ColumnElement[bool]:
    """A booking that counts as a use of its link: made, or a hold still running."""
    return or_(
        Booking.status.in_(
            (BookingStatus.confirmed, BookingStatus.cancelled, BookingStatus.no_show)
        ),
        and_(
            Booking.status == BookingStatus.pending_verification,
            Booking.hold_expires_at > now,
        ),
    )


def use_counts(session: Session, link_ids: Iterable[int], now: datetime) -> dict[int, int]:
    """Uses per link, in one query; expired and refused holds have given theirs back."""
    ids = list(link_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Booking.share_link_id, func.count())
        .where(Booking.share_link_id.in_(ids), _is_use(now))
        .group_by(Booking.share_link_id)
    )
    counts = {link_id: 0 for link_id in ids}
    counts.update((int(link_id or 0), count) for link_id, count in rows)
    return counts


def claim_use(session: Session, link: ShareLink, now: datetime) -> None:
    """Take one of a capped link's uses, with its row locked so two cannot take the last."""
    if link.max_uses is None:
        return
    session.execute(select(ShareLink.id).where(ShareLink.id == link.id).with_for_update())
    if use_counts(session, [link.id], now)[link.id] >= link.max_uses:
        raise _exhausted()


def _exhausted() -> Refused:
    return Refused("link_exhausted", "This link has been used as often as it may be.")


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
    if not type_ids:
        errors["appointment_type_ids"] = "must list at least one appointment type"
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = "must be in the future"
    if errors:
        raise ValidationFailed(errors)
    found = appointment_types_by_id(session, provider, type_ids)
    types = list(found.values())
    missing = sorted(set(type_ids) - set(found))
    if missing:
        raise NotFound(
            "No such appointment type.",
            field="appointment_type_ids",
            detail=f"no appointment type with id {missing[0]}",
        )
    if client_id is not None:
        client_of(session, provider, client_id, field="client_id")
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


# The link, its types and its provider in one query: every public request opens a link,
# and then finds the provider in the session without asking the database again.
_LINK_PROVIDER = "link_provider"
_LINK_WITH_PROVIDER = (
    select(ShareLink, Provider)
    .join(Provider, Provider.id == ShareLink.provider_id)
    .where(ShareLink.id == bindparam("link_id"))
    .options(joinedload(ShareLink.appointment_types))
)


def open_link(session: Session, token: str, keys: Sequence[str], now: datetime) -> ShareLink:
    """The live record a token names, or the reason it cannot be used."""
    row = (
        session.execute(_LINK_WITH_PROVIDER, {"link_id": link_id_of(token, keys)}).unique().first()
    )
    link = row[0] if row is not None else None
    # The session holds what it loaded weakly: keep the provider so that the caller's
    # `session.get(Provider, link.provider_id)` finds it there.
    session.info[_LINK_PROVIDER] = row[1] if row is not None else None
    if link is None:
        raise Refused("link_invalid", "This link is not valid.")
    if link.revoked_at is not None:
        raise Refused("link_revoked", "This link has been withdrawn by the provider.")
    if link.expires_at is not None and link.expires_at <= now:
        raise Refused("link_expired", "This link has expired.")
    if link.max_uses is not None and use_counts(session, [link.id], now)[link.id] >= link.max_uses:
        raise _exhausted()
    return link


def offered_type(provider: Provider, link: ShareLink, type_id: int) -> AppointmentType:
    """A type this link offers now; one it lost to `public_links_new_client_only` is refused."""
    for appointment_type in link.appointment_types:
        if appointment_type.id == type_id and appointment_type.active:
            if appointment_type not in offered_types(provider, link):
                raise Refused(
                    "type_not_public",
                    "This appointment type can no longer be booked through a public link.",
                )
            return appointment_type
    raise NotFound("This link does not offer that appointment type.")
