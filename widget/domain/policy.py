"""The one decision every booking attempt goes through (DESIGN.md section 2).

`decide` is pure: it takes the channel, the type, who is booking (if known), the
provider's settings and the account balance, and answers allowed or not, what it
costs, and a stable reason code. Views and templates never re-implement a rule:
they ask this function (or read booleans it computed).
"""

from dataclasses import dataclass

from ..models import Audience, Channel, Verification


@dataclass(frozen=True)
class Settings:
    public_links_new_client_only: bool
    negative_credit_limit: int
    public_booking_verification: Verification


@dataclass(frozen=True)
class TypeTerms:
    audience: Audience
    requires_credit: bool
    active: bool = True


@dataclass(frozen=True)
class Booker:
    """A known client, and whether they count as existing (DESIGN section 1)."""

    existing: bool


@dataclass(frozen=True)
class Decision:
    allowed: bool
    cost: int = 0
    reason: str | None = None
    message: str = ""
    override: bool = False


MESSAGES = {
    "not_found": "This appointment type is not offered.",
    "type_not_public": "This appointment type cannot be booked through a public link.",
    "new_clients_only": "This appointment is for new clients. As an existing client, please "
    "log in to your client portal to book.",
    "existing_clients_only": "This appointment is for existing clients.",
    "login_required": "Please log in to your client portal to book this appointment.",
    "insufficient_credits": "No credit is left for this appointment type.",
}


_AS_A_CLIENT = "This appointment is for new clients; as a client, please choose another one."


def _refuse(reason: str) -> Decision:
    return Decision(allowed=False, reason=reason, message=MESSAGES[reason])


def may_spend(balance: int, negative_limit: int) -> bool:
    """Whether one more credit may be spent without the provider's override."""
    return balance - 1 >= -negative_limit


def audience_matters(channel: Channel, audience: Audience, *, personal_link: bool = False) -> bool:
    """Whether `decide` reads if the booker is an existing client: never for the provider,
    nor for a type open to everyone."""
    if personal_link:
        channel = Channel.portal
    return channel != Channel.provider and audience != Audience.everyone


def decide_before_identity(appointment_type: TypeTerms, settings: Settings) -> Decision:
    """What a public submission can be told before anyone knows who sent it.

    Under email verification only the rules that hold for every person answer at
    submission; the rest wait for the confirmation link (DESIGN rule 3).
    """
    if not appointment_type.active:
        return _refuse("not_found")
    if settings.public_links_new_client_only and appointment_type.audience != Audience.new_clients:
        return _refuse("type_not_public")
    return Decision(allowed=True)


def decide(
    channel: Channel,
    appointment_type: TypeTerms,
    booker: Booker | None,
    settings: Settings,
    balance: int,
    *,
    personal_link: bool = False,
    override: bool = False,
) -> Decision:
    """Allowed or not, at what credit cost, and why; rules checked in DESIGN's order.

    `booker` is None when nobody is identified yet (a public submission under email
    verification, before the link is opened) or the email matches no client.
    A personal link books as its client under the portal's rules.
    """
    if personal_link:
        channel = Channel.portal
    public = channel == Channel.public
    if public:
        before = decide_before_identity(appointment_type, settings)
        if not before.allowed:
            return before
    elif not appointment_type.active and channel != Channel.provider:
        return _refuse("not_found")

    if channel != Channel.provider:
        existing = booker is not None and booker.existing
        if appointment_type.audience == Audience.new_clients and existing:
            if public:
                return _refuse("new_clients_only")
            # Already in the portal (or on their personal link): not told to go there.
            return Decision(allowed=False, reason="new_clients_only", message=_AS_A_CLIENT)
        if appointment_type.audience == Audience.existing_clients:
            if public and settings.public_booking_verification == Verification.none:
                return _refuse("login_required")
            if not existing:
                return _refuse("existing_clients_only")

    if not appointment_type.requires_credit:
        return Decision(allowed=True)
    if may_spend(balance, settings.negative_credit_limit):
        return Decision(allowed=True, cost=1)
    if channel == Channel.provider and override:
        return Decision(allowed=True, cost=1, override=True)
    return _refuse("insufficient_credits")
