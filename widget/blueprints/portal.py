"""The client portal, /portal/<slug>/: credits and their history, bookings, booking follow-ups."""

from flask import Blueprint, g, render_template
from flask.typing import ResponseReturnValue

from ..domain import credits
from ..extensions import db
from .api.base import now
from .auth import client_required

bp = Blueprint("portal", __name__, url_prefix="/portal/<slug>")


@bp.get("/")
@client_required
def home(slug: str) -> ResponseReturnValue:
    balances = credits.client_balances(
        db.session, provider_id=g.provider.id, client_id=g.client.id, now=now()
    )
    db.session.commit()  # expiries that fell due are written, as on every account read
    return render_template(
        "portal/home.html",
        provider=g.provider,
        client=g.client,
        brand=g.provider.name,
        balances=balances,
    )
