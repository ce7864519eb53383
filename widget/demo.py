"""`widget demo`: a demo practice to click through, and the sample website that embeds it.

Seeding goes through the domain functions a provider's own actions would call, so
the demo's credits, histories and bookings are exactly what real use produces. It
is idempotent: a second run finds the demo provider and seeds nothing.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from .blueprints import link_flow
from .domain import accounts, appointment_types, booking, clients, links, packages, providers
from .domain.schedule import replace_availability
from .extensions import db
from .models import Channel, Client, Provider, ShareLink

EMAIL = "demo@widget.example"
PASSWORD = "demo-password"
ZONE = "America/New_York"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")

bp = Blueprint("demo", __name__)


@dataclass(frozen=True)
class Practice:
    provider: Provider
    api_key: str
    link: ShareLink
    client: Client
    created: bool


def _next_weekday(day: datetime, offset: int) -> datetime:
    found = day + timedelta(days=offset)
    while found.weekday() >= 5:
        found += timedelta(days=1)
    return found


def seed(session: Session, now: datetime, site_origin: str) -> Practice:
    """The demo practice: found if it exists (with a fresh API key), else made."""
    found = demo_link(session)
    if found is not None:
        provider, link = found
        kim = clients.client_by_email(session, provider, "kim@example.com")
        assert kim is not None
        return Practice(provider, providers.issue_api_key(session, provider), link, kim, False)

    made = providers.create_provider(
        session,
        name="Dr. Ada Lovelace, RD",
        email=EMAIL,
        timezone=ZONE,
        password_hash=generate_password_hash(PASSWORD),
    )
    provider = made.provider
    providers.update_settings(
        provider, {"negative_credit_limit": 1, "embed_allowed_origins": [site_origin]}
    )
    replace_availability(
        session,
        provider,
        weekly={day: [{"start": "09:00", "end": "17:00"}] for day in WEEKDAYS},
        exceptions=[],
    )
    discovery, consultation, follow_up = (
        appointment_types.create_appointment_type(session, provider, fields)
        for fields in (
            {
                "name": "Discovery Call",
                "duration_minutes": 20,
                "audience": "new_clients",
                "requires_credit": False,
                "buffer_after_minutes": 10,
            },
            {
                "name": "Initial Consultation",
                "duration_minutes": 60,
                "audience": "new_clients",
                "requires_credit": False,
            },
            {
                "name": "Follow-Up",
                "duration_minutes": 50,
                "audience": "existing_clients",
                "requires_credit": True,
                "slot_step_minutes": 60,
            },
        )
    )
    four_pack = packages.create_package(
        session,
        provider,
        name="Follow-Up 4-pack",
        price_cents=48000,
        items=[packages.ItemSpec(follow_up.id, 4, expires_after_days=180)],
    )
    single = packages.create_package(
        session,
        provider,
        name="Single Follow-Up",
        price_cents=13000,
        items=[packages.ItemSpec(follow_up.id, 1)],
    )
    kim, lee, sam = (
        clients.create_client(session, provider, email=email, name=name)
        for email, name in (
            ("kim@example.com", "Kim Park"),
            ("lee@example.com", "Lee Moreau"),
            ("sam@example.com", "Sam Okafor"),
        )
    )
    packages.buy_package(session, provider, client_id=kim.id, package_id=four_pack.id, now=now)
    packages.buy_package(session, provider, client_id=lee.id, package_id=single.id, now=now)
    packages.buy_package(session, provider, client_id=sam.id, package_id=single.id, now=now)
    zone = ZoneInfo(ZONE)
    today = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)

    def at(days: int, hour: int) -> datetime:
        return datetime.combine(_next_weekday(today, days).date(), time(hour), tzinfo=zone)

    # Kim: 4 credits, one upcoming Follow-Up -> 3. Lee: 1 credit, one upcoming -> 0.
    # Sam: 1 credit, two upcoming (the second within the negative limit) -> -1.
    for who, start in ((kim, at(2, 10)), (lee, at(3, 11)), (sam, at(4, 14)), (sam, at(5, 15))):
        booking.book(
            session,
            provider,
            follow_up,
            start=start,
            channel=Channel.provider,
            now=now,
            client=who,
        )
    link = links.create_link(
        session,
        provider,
        type_ids=[discovery.id, consultation.id],
        now=now,
        label="Website",
    )
    return Practice(provider, made.api_key, link, kim, True)


def magic_link_path(practice: Practice, keys: list[str]) -> str:
    token = accounts.magic_token(practice.client, keys)
    return f"/portal/{practice.provider.slug}/login/{token}"


def demo_link(session: Session) -> tuple[Provider, ShareLink] | None:
    provider = session.scalar(select(Provider).where(Provider.email == EMAIL))
    if provider is None:
        return None
    link = session.scalars(
        select(ShareLink).where(ShareLink.provider_id == provider.id).order_by(ShareLink.id)
    ).first()
    return (provider, link) if link is not None else None


@bp.get("/demo/")
def sample_site() -> ResponseReturnValue:
    """A provider's own website, embedding the booking page with the snippet they paste."""
    found = demo_link(db.session) if current_app.config.get("WIDGET_DEMO") else None
    if found is None:
        abort(404)
    provider, link = found
    token = links.token_for(link, link_flow.signing_keys())
    return render_template("demo/site.html", provider=provider, token=token)
