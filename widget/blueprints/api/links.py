"""Share links: the provider's endpoints, and the public ones where the token is the credential."""

from html import escape

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from ...domain import links
from ...domain.timezones import zone_named
from ...extensions import db, reads_only
from ...models import Booking, BookingStatus, ShareLink
from .. import link_flow
from ..limits import read_limit, submission_limit
from . import schemas
from .base import BodyAndStatus, bp, current_provider, idempotent, now, parse_body, parse_query
from .bookings import slots_answer
from .render import booking_json, timestamp

public_bp = Blueprint("public_api", __name__, url_prefix="/api/v1")
read_limit(public_bp)


def share_link_json(link: ShareLink, uses: int) -> dict[str, object]:
    token = links.token_for(link, link_flow.signing_keys())
    base = link_flow.base_url()
    return {
        "id": link.id,
        "token": token,
        "url": f"{base}/l/{token}",
        "embed_url": f"{base}/embed/{token}",
        "embed_snippet": (
            f'<div data-widget-link="{escape(token)}"></div>\n'
            f'<script src="{escape(base)}/embed.js" async></script>'
        ),
        "label": link.label,
        "appointment_type_ids": [t.id for t in link.appointment_types],
        "client_id": link.client_id,
        "expires_at": timestamp(link.expires_at),
        "max_uses": link.max_uses,
        "use_count": uses,
        "revoked": link.revoked_at is not None,
        "revoked_at": timestamp(link.revoked_at),
        "created_at": timestamp(link.created_at),
    }


def _with_uses(found: list[ShareLink]) -> list[dict[str, object]]:
    uses = links.use_counts(db.session, [link.id for link in found], now())
    return [share_link_json(link, uses[link.id]) for link in found]


@bp.post("/share-links")
@idempotent()
def create_share_link() -> BodyAndStatus:
    body = parse_body(schemas.ShareLinkFields)
    link = links.create_link(
        db.session,
        current_provider(),
        type_ids=body.appointment_type_ids,
        now=now(),
        label=body.label,
        expires_at=body.expires_at,
        max_uses=body.max_uses,
        client_id=body.client_id,
    )
    return share_link_json(link, 0), 201


@bp.get("/share-links")
def list_share_links() -> ResponseReturnValue:
    return jsonify({"share_links": _with_uses(links.links_of(db.session, current_provider()))})


@bp.delete("/share-links/<id:link_id>")
def revoke_share_link(link_id: int) -> ResponseReturnValue:
    link = links.revoke_link(db.session, current_provider(), link_id, now())
    db.session.commit()
    return jsonify(_with_uses([link])[0])


@public_bp.get("/links/<token>")
def link_info(token: str) -> ResponseReturnValue:
    link, provider = link_flow.open_link(token)
    return jsonify(
        {
            "provider": {"name": provider.name, "timezone": provider.timezone},
            "personal": link.client_id is not None,
            "appointment_types": [
                {
                    "id": t.id,
                    "name": t.name,
                    "duration_minutes": t.duration_minutes,
                    "audience": t.audience.value,
                }
                for t in links.offered_types(provider, link)
            ],
        }
    )


@public_bp.get("/links/<token>/slots")
@reads_only
def link_slots(token: str) -> ResponseReturnValue:
    link, provider = link_flow.open_link(token)
    query = parse_query(schemas.SlotQuery)
    appointment_type = links.offered_type(provider, link, query.appointment_type_id)
    return jsonify(slots_answer(provider, appointment_type, query))


MESSAGES = {
    BookingStatus.confirmed: "Your booking is confirmed.",
    BookingStatus.pending_verification: "We have emailed you a link: open it to confirm your "
    "booking. The time is held for you until then.",
}


PUBLIC_FIELDS = (
    "id",
    "status",
    "start",
    "end",
    "appointment_type_id",
    "channel",
    "hold_expires_at",
)


def public_booking_json(booking: Booking, zone_name: str) -> dict[str, object]:
    """A booking as its visitor sees it: no client id, nothing that tells who they are."""
    seen = booking_json(booking, zone_named(zone_name))
    return {
        "booking": {field: seen[field] for field in PUBLIC_FIELDS},
        "message": MESSAGES[booking.status],
    }


def _link_scope() -> str:
    """Keys are scoped to the link the token names, checked by signature only, so a retry
    after the link's last use still replays its answer."""
    token = (request.view_args or {}).get("token", "")
    return f"link:{links.link_id_of(token, link_flow.signing_keys())}"


@public_bp.post("/links/<token>/bookings")
@submission_limit
@idempotent(_link_scope)
def link_booking(token: str) -> BodyAndStatus:
    body = parse_body(schemas.LinkBookingFields)
    booking, provider = link_flow.submit(
        token,
        appointment_type_id=body.appointment_type_id,
        start_at=body.start,
        name=body.name,
        email=body.email,
        timezone=body.timezone,
    )
    status = 202 if booking.status == BookingStatus.pending_verification else 201
    return public_booking_json(booking, body.timezone or provider.timezone), status
