"""Share links: the provider's endpoints, and the public ones where the token is the credential."""

from html import escape

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from ...domain import links
from ...extensions import db
from ...models import Provider, ShareLink
from . import schemas
from .base import bp, current_provider, now, parse_body, parse_query
from .bookings import slots_answer
from .render import timestamp

public_bp = Blueprint("public_api", __name__, url_prefix="/api/v1")


def signing_keys() -> list[str]:
    """Oldest first, newest last, as itsdangerous wants them."""
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or []
    return [*reversed(fallbacks), current_app.config["SECRET_KEY"]]


def _base_url() -> str:
    return str(current_app.config.get("WIDGET_BASE_URL") or request.host_url.rstrip("/"))


def share_link_json(link: ShareLink) -> dict[str, object]:
    token = links.token_for(link, signing_keys())
    base = _base_url()
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
        "use_count": link.use_count,
        "revoked": link.revoked_at is not None,
        "revoked_at": timestamp(link.revoked_at),
        "created_at": timestamp(link.created_at),
    }


@bp.post("/share-links")
def create_share_link() -> ResponseReturnValue:
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
    db.session.commit()
    return jsonify(share_link_json(link)), 201


@bp.get("/share-links")
def list_share_links() -> ResponseReturnValue:
    found = links.links_of(db.session, current_provider())
    return jsonify({"share_links": [share_link_json(link) for link in found]})


@bp.delete("/share-links/<id:link_id>")
def revoke_share_link(link_id: int) -> ResponseReturnValue:
    link = links.revoke_link(db.session, current_provider(), link_id, now())
    db.session.commit()
    return jsonify(share_link_json(link))


def _open(token: str) -> tuple[ShareLink, Provider]:
    link = links.open_link(db.session, token, signing_keys(), now())
    provider = db.session.get(Provider, link.provider_id)
    assert provider is not None
    return link, provider


@public_bp.get("/links/<token>")
def link_info(token: str) -> ResponseReturnValue:
    link, provider = _open(token)
    return jsonify(
        {
            "provider": {"name": provider.name, "timezone": provider.timezone},
            "label": link.label,
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
def link_slots(token: str) -> ResponseReturnValue:
    link, provider = _open(token)
    query = parse_query(schemas.SlotQuery)
    appointment_type = links.offered_type(provider, link, query.appointment_type_id)
    return jsonify(slots_answer(provider, appointment_type, query))
