"""The booking page of a share link: /l/<token>, and its twin laid out for a frame, /embed/<token>.

One flow serves both prefixes, in plain GET links and one POST form, so it works
without JavaScript: the link's types -> free times by day in the visitor's zone ->
name and email -> the answer. No step sets a cookie (browsers block them in
third-party frames): the form carries a signed, short-lived token instead, and a
POST must come from this site (Origin / Sec-Fetch-Site). A honeypot field catches
form-filling bots: they get an ordinary-looking answer and nothing is made.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

from flask import Response, current_app, make_response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter.errors import RateLimitExceeded

from ...domain import link_booking, links, portal_view, schedule, tokens
from ...domain.booking import ends_at
from ...domain.emails import checked_email
from ...domain.errors import DomainError, Refused, ValidationFailed
from ...domain.timezones import clock_time, zone_named
from ...extensions import db
from ...models import AppointmentType, BookingStatus, Client, Provider, ShareLink, Verification
from .. import link_flow
from ..api.base import MAX_ID, now, parse_mapping
from ..api.schemas import LinkBookingFields
from ..limits import read_limit, submission_limit
from . import PORTAL_CODES, bp, error_page
from .framing import PAGE_POLICY, framable_by

FORM_TOKEN_MAX_AGE = 2 * 60 * 60
HONEYPOT = "website"
DAYS_SHOWN = 7
EARLIEST_YEAR, LATEST_YEAR = 1900, 9000
LEGACY_ZONE_AREAS = frozenset({"Etc", "SystemV", "US", "posix", "right"})
SLOT_CODES = frozenset({"slot_unavailable", "outside_availability", "too_soon", "too_far_ahead"})
_ORIGIN = re.compile(r"^https?://[a-z0-9.\-]+(:\d{1,5})?$")


class BadRequest(DomainError):
    """A malformed address or hidden field: nothing a visitor typed, so a page, not a form."""

    code = "bad_request"


@lru_cache(maxsize=1)
def zone_choices() -> tuple[str, ...]:
    """The IANA zones offered in the time zone menu: regions, not legacy aliases."""
    return tuple(
        sorted(
            name
            for name in available_timezones()
            if ("/" in name and name.split("/")[0] not in LEGACY_ZONE_AREAS) or name == "UTC"
        )
    )


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origins() -> set[str]:
    """This server's origin as the browser sees it: the request's host, or WIDGET_BASE_URL."""
    return {_origin_of(request.host_url), _origin_of(link_flow.base_url())}


def allowed_origins(provider: Provider | None) -> list[str]:
    """The provider's embed_allowed_origins, checked again before they reach a header."""
    found = provider.embed_allowed_origins if provider is not None else []
    return [o.lower() for o in found or [] if _ORIGIN.match(o.lower())]


@dataclass(frozen=True)
class Flow:
    """Where a visitor is: which link, which prefix, and what every URL of the flow carries."""

    token: str
    embed: bool
    host_origin: str | None = None
    """The page that frames us (embed only), trusted only if allowed: messages go there."""
    prefill: dict[str, str] = field(default_factory=dict)
    """Name and email handed over by the host page, carried to the form."""

    @classmethod
    def of_request(cls, token: str, embed: bool, provider: Provider | None) -> "Flow":
        args = request.args
        host = (args.get("origin") or "").strip().lower().rstrip("/")
        trusted = set(allowed_origins(provider)) | own_origins()
        prefill = {k: args[k][:320] for k in ("name", "email") if args.get(k)}
        return cls(
            token=token,
            embed=embed,
            host_origin=host if embed and host in trusted else None,
            prefill=prefill,
        )

    @property
    def endpoint(self) -> str:
        return "pages.embed_page" if self.embed else "pages.link_page"

    def carried(self) -> dict[str, str]:
        """What every step passes on: the host's origin and prefill (hidden fields of GET forms)."""
        values = dict(self.prefill)
        if self.host_origin:
            values["origin"] = self.host_origin
        return values

    @property
    def action(self) -> str:
        """Where the flow's forms go: GET forms send carried() as hidden fields."""
        return url_for(self.endpoint, token=self.token)

    def url(self, **params: Any) -> str:
        """A URL of this flow: the step's parameters plus what the whole flow carries."""
        values: dict[str, Any] = self.carried()
        values.update({k: v for k, v in params.items() if v is not None})
        return url_for(self.endpoint, token=self.token, **values)

    def context(self) -> dict[str, Any]:
        return {"flow": self, "embed": self.embed, "host_origin": self.host_origin}


@dataclass(frozen=True)
class Step:
    """What the query asks for: a type, in a zone, a week or a start."""

    appointment_type: AppointmentType
    zone: ZoneInfo
    zone_given: bool

    @property
    def tz(self) -> str:
        return self.zone.key

    @property
    def tz_param(self) -> str | None:
        """The zone for the next step's URL: only one the visitor (or their browser) chose."""
        return self.tz if self.zone_given else None


# Routes


@bp.get("/l/<token>")
@read_limit
def link_page(token: str) -> ResponseReturnValue:
    return show(token, embed=False)


@bp.post("/l/<token>")
@submission_limit
def link_submit(token: str) -> ResponseReturnValue:
    return submit(token, embed=False)


@bp.get("/embed/<token>")
@read_limit
def embed_page(token: str) -> ResponseReturnValue:
    return show(token, embed=True)


@bp.post("/embed/<token>")
@submission_limit
def embed_submit(token: str) -> ResponseReturnValue:
    return submit(token, embed=True)


@bp.get("/embed.js")
def embed_script() -> ResponseReturnValue:
    """The snippet's script, at a short stable address providers paste into their sites."""
    script = Path(current_app.static_folder or "", "embed.js").read_text(encoding="utf-8")
    response = make_response(script)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "public, max-age=300"
    response.add_etag()
    return response.make_conditional(request)


# The two handlers


def show(token: str, *, embed: bool) -> Response:
    hint = provider_behind(token)
    flow = Flow.of_request(token, embed, hint)
    try:
        link, provider = link_flow.open_link(token)
        page, status = _step_page(flow, link, provider)
    except DomainError as exc:
        db.session.rollback()
        page, status = _error(flow, exc, hint)
    return respond(flow, page, status, hint)


def submit(token: str, *, embed: bool) -> Response:
    hint = provider_behind(token)
    flow = Flow.of_request(token, embed, hint)
    if not sent_from_this_site():
        page, status = _error_page(
            flow,
            "cross_site",
            "This form can only be sent from its own booking page.",
            hint,
            status=403,
        )
        return respond(flow, page, status, hint)
    try:
        link, provider = link_flow.open_link(token)
        page, status = _submission(flow, link, provider)
    except DomainError as exc:
        db.session.rollback()
        page, status = _error(flow, exc, hint)
    return respond(flow, page, status, hint)


def respond(flow: Flow, page: str, status: int, provider: Provider | None) -> Response:
    """The page with its headers: framable by the provider's sites on /embed/ only."""
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    if flow.embed:
        framable_by(response, allowed_origins(provider))
    else:
        response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


def provider_behind(token: str) -> Provider | None:
    """The provider a token's link belongs to, even if the link can no longer be used.

    Used for who may frame the page and which host may hear from it, so a revoked
    link still explains itself inside the provider's own site.
    """
    try:
        link = db.session.get(ShareLink, links.link_id_of(token, link_flow.signing_keys()))
    except DomainError:
        return None
    return db.session.get(Provider, link.provider_id) if link is not None else None


def sent_from_this_site() -> bool:
    """A POST's browser headers say it came from one of our own pages (or none were sent)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in {"same-origin", "none"}:
        return False
    origin = request.headers.get("Origin")
    return origin is None or origin.lower() in own_origins()


# Steps of GET


def _step_page(flow: Flow, link: ShareLink, provider: Provider) -> tuple[str, int]:
    offered = links.offered_types(provider, link)
    type_id = request.args.get("type")
    if type_id is None and len(offered) != 1:
        tz = request.args.get("tz") or None
        return _render("pages/link_types.html", flow, link, provider, types=offered, tz=tz), 200
    step = _step_of(link, provider, type_id if type_id is not None else offered[0].id)
    if link.client_id is not None:
        _bookable_by_its_client(link, provider, step.appointment_type)
    start_text = request.args.get("start")
    if start_text is not None:
        start = parse_start(start_text, step.zone)
        if start not in _free_starts(provider, step, start.date()):
            notice = "That time is no longer free. Please choose another."
            return _week_page(flow, link, provider, step, start.date(), notice=notice), 409
        return _details_page(flow, link, provider, step, start), 200
    return _week_page(flow, link, provider, step, parse_week(request.args.get("week"))), 200


def _bookable_by_its_client(
    link: ShareLink, provider: Provider, appointment_type: AppointmentType
) -> None:
    """A personal link books under the portal's rules: what its client cannot book (no
    credit left) is said before the times, as the portal does, not after the form."""
    client = db.session.get(Client, link.client_id)
    assert client is not None
    offer = portal_view.offer_of(db.session, provider, client, appointment_type.id, now())
    if not offer.decision.allowed:
        raise Refused(offer.decision.reason or "invalid_state", offer.decision.message)


def _step_of(link: ShareLink, provider: Provider, type_id: str | int | None) -> Step:
    appointment_type = links.offered_type(provider, link, _parse_id(type_id))
    tz = request.values.get("tz")
    if tz is None or tz == "":
        return Step(appointment_type, zone_named(provider.timezone), zone_given=False)
    try:
        return Step(appointment_type, zone_named(tz), zone_given=True)
    except ValidationFailed:
        raise BadRequest(f"'{tz[:64]}' is not a time zone we know.") from None


def _parse_id(value: str | int | None) -> int:
    text = str(value or "")
    if not re.fullmatch(r"[0-9]{1,10}", text) or int(text) > MAX_ID:
        return 0  # names no type: not found
    return int(text)


def parse_week(text: str | None) -> date | None:
    if text is None or text == "":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequest("The week in this address is not a date.") from None


def parse_start(text: str, zone: ZoneInfo) -> datetime:
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest("The time in this address is not valid.") from None
    if start.utcoffset() is None:
        raise BadRequest("The time in this address has no UTC offset.")
    if not EARLIEST_YEAR <= start.year <= LATEST_YEAR:
        raise BadRequest("The time in this address is out of range.")
    return start.astimezone(zone)


def _today(zone: ZoneInfo) -> date:
    return now().astimezone(zone).date()


def _horizon(step: Step) -> date:
    """The last local day that may show a slot (the provider's zone may be a day ahead)."""
    return _today(step.zone) + timedelta(days=step.appointment_type.max_days_ahead + 1)


def _slots_by_day(
    provider: Provider, step: Step, first: date, last: date
) -> dict[date, list[datetime]]:
    return schedule.free_starts_by_day(
        db.session,
        provider,
        step.appointment_type,
        first_day=first,
        last_day=last,
        viewer_zone=step.zone,
        now=now(),
    )


def _free_starts(provider: Provider, step: Step, day: date) -> list[datetime]:
    if not _today(step.zone) <= day <= _horizon(step):
        return []
    return _slots_by_day(provider, step, day, day).get(day, [])


def _week_page(
    flow: Flow,
    link: ShareLink,
    provider: Provider,
    step: Step,
    week: date | None,
    notice: str | None = None,
) -> str:
    today = _today(step.zone)
    horizon = _horizon(step)
    first = min(max(week or today, today), horizon)
    last = first + timedelta(days=DAYS_SHOWN - 1)
    days = _slots_by_day(provider, step, first, last)
    earlier = max(first - timedelta(days=DAYS_SHOWN), today) if first > today else None
    later = last + timedelta(days=1) if last < horizon else None
    return _render(
        "pages/link_week.html",
        flow,
        link,
        provider,
        step=step,
        days=days,
        first=first,
        last=last,
        earlier=earlier,
        later=later,
        notice=notice,
        any_free=any(days.values()),
        other_types=len(links.offered_types(provider, link)) > 1,
    )


def _details_page(
    flow: Flow,
    link: ShareLink,
    provider: Provider,
    step: Step,
    start: datetime,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
) -> str:
    form_token = tokens.sign_timed({"link": link.id}, link_flow.signing_keys(), tokens.BOOKING_FORM)
    return _render(
        "pages/link_details.html",
        flow,
        link,
        provider,
        step=step,
        start=start,
        end=ends_at(step.appointment_type, start),
        form_token=form_token,
        values=values if values is not None else dict(flow.prefill),
        errors=errors or {},
        notice=notice,
        personal=link.client_id is not None,
        confirms_by_email=provider.public_booking_verification == Verification.email,
        honeypot=HONEYPOT,
    )


def _render(template: str, flow: Flow, link: ShareLink, provider: Provider, **context: Any) -> str:
    return render_template(
        template,
        link=link,
        provider=provider,
        zones=zone_choices(),
        day_label=day_label,
        short_day_label=short_day_label,
        time_label=clock_time,
        **flow.context(),
        **context,
    )


def day_label(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def short_day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


# The POST


@dataclass(frozen=True)
class Answer:
    """What the result page shows: a booking, or (for a bot) what one would have looked like."""

    status: BookingStatus
    appointment_type: AppointmentType
    start: datetime
    end: datetime
    hold_expires_at: datetime | None
    booking_id: int | None


def _submission(flow: Flow, link: ShareLink, provider: Provider) -> tuple[str, int]:
    form = request.form
    step = _step_of(link, provider, form.get("type"))
    start = parse_start(form.get("start") or "", step.zone)
    personal = link.client_id is not None
    values = _typed_details()
    if form.get("pick"):  # a time chosen after the first was taken: the form, filled in again
        return _details_page(flow, link, provider, step, start, values=values), 200
    if not _form_token_ok(form.get("form_token"), link):
        notice = (
            "This form was open too long or was changed, so it was not sent. "
            "Please check your details and send it again."
        )
        page = _details_page(flow, link, provider, step, start, values=values, notice=notice)
        return page, 400
    if form.get(HONEYPOT):
        return _result_page(flow, link, provider, step, _pretend(provider, step, start, personal))
    fields = {
        "appointment_type_id": step.appointment_type.id,
        "start": start.isoformat(),
        "timezone": step.tz,
        **({} if personal else {k: v.strip() or None for k, v in values.items()}),
    }
    try:
        body = parse_mapping(LinkBookingFields, fields)
        booking, provider = link_flow.submit(
            flow.token,
            appointment_type_id=body.appointment_type_id,
            start_at=body.start,
            name=body.name,
            email=body.email,
            timezone=body.timezone,
        )
    except ValidationFailed as exc:
        db.session.rollback()
        errors = {k: str(v) for k, v in exc.details.items()}
        if "email" in errors and values["email"].strip():
            errors["email"] = _email_problem(values["email"]) or errors["email"]
        if set(errors) - {"name", "email"}:
            raise BadRequest("; ".join(f"{k} {v}" for k, v in errors.items())) from None
        page = _details_page(flow, link, provider, step, start, values=values, errors=errors)
        return page, 422
    db.session.commit()
    answer = Answer(
        status=booking.status,
        appointment_type=step.appointment_type,
        start=booking.start_at.astimezone(step.zone),
        end=booking.end_at.astimezone(step.zone),
        hold_expires_at=booking.hold_expires_at,
        booking_id=booking.id,
    )
    return _result_page(flow, link, provider, step, answer)


def _typed_details() -> dict[str, str]:
    """The name and email as the visitor typed them into the form (bounded)."""
    return {k: (request.form.get(k) or "")[:400] for k in ("name", "email")}


def _email_problem(email: str) -> str | None:
    """What is wrong with a typed address in the domain's words (not "must not be empty")."""
    try:
        checked_email(email)
    except ValidationFailed as exc:
        return str(exc.details["email"])
    return None


def _form_token_ok(token: str | None, link: ShareLink) -> bool:
    value = tokens.unsign_timed(
        token or "", link_flow.signing_keys(), tokens.BOOKING_FORM, FORM_TOKEN_MAX_AGE
    )
    return isinstance(value, dict) and value.get("link") == link.id


def _pretend(provider: Provider, step: Step, start: datetime, personal: bool) -> Answer:
    """The answer a real submission would have had, for a bot that filled the honeypot."""
    held = not personal and provider.public_booking_verification == Verification.email
    return Answer(
        status=BookingStatus.pending_verification if held else BookingStatus.confirmed,
        appointment_type=step.appointment_type,
        start=start,
        end=ends_at(step.appointment_type, start),
        hold_expires_at=link_booking.hold_ends(provider, start, now()) if held else None,
        booking_id=None,
    )


def _result_page(
    flow: Flow, link: ShareLink, provider: Provider, step: Step, answer: Answer
) -> tuple[str, int]:
    pending = answer.status == BookingStatus.pending_verification
    hold_until = answer.hold_expires_at.astimezone(step.zone) if answer.hold_expires_at else None
    today = now().astimezone(step.zone).date()
    page = _render(
        "pages/booked.html",
        flow,
        link,
        provider,
        step=step,
        answer=answer,
        pending=pending,
        hold_until=hold_until,
        hold_day=hold_until.date() if hold_until and hold_until.date() != today else None,
    )
    return page, 202 if pending else 201


# Errors


def _error(flow: Flow, exc: DomainError, provider: Provider | None) -> tuple[str, int]:
    if exc.code in SLOT_CODES:
        args, chosen = request.values, _chosen_slot(provider)
        week = chosen[1].date().isoformat() if chosen and chosen[1] else None
        back = flow.url(type=args.get("type"), tz=args.get("tz") or None, week=week)
        return _error_page(
            flow,
            exc.code,
            exc.message,
            provider,
            back_url=back,
            back_label="Choose another time",
            **_times_keeping_details(flow, chosen),
        )
    if exc.code in {"bad_request", "not_found", "type_not_public"}:
        return _error_page(flow, exc.code, exc.message, provider, back_url=flow.url())
    if exc.code in PORTAL_CODES:
        return _error_page(flow, exc.code, exc.message, provider, slot=_chosen_slot(provider))
    return _error_page(flow, exc.code, exc.message, provider)


def _times_keeping_details(
    flow: Flow, chosen: tuple[int, datetime | None, str | None] | None
) -> dict[str, Any]:
    """After a submission whose time was taken: that week's free times, each a button that
    brings back the form with what the visitor typed, carried in the POST body (a URL
    would leave their email in server logs and browser history)."""
    typed = {k: v for k, v in _typed_details().items() if v}
    if request.method != "POST" or not typed or chosen is None or chosen[1] is None:
        return {}
    try:
        link, provider = link_flow.open_link(flow.token)
        step = _step_of(link, provider, chosen[0])
    except DomainError:  # the link changed meanwhile: the page's own link explains it
        return {}
    first = max(chosen[1].astimezone(step.zone).date(), _today(step.zone))
    last = min(first + timedelta(days=DAYS_SHOWN - 1), _horizon(step))
    return {
        "other_times": _slots_by_day(provider, step, first, last) if first <= last else {},
        "carry": typed,
        "step": step,
        "day_label": day_label,
        "time_label": clock_time,
    }


def _chosen_slot(provider: Provider | None) -> tuple[int, datetime | None, str | None] | None:
    """The type, start and zone the visitor picked, for the portal to offer after a login."""
    args = request.values
    type_id = _parse_id(args.get("type"))
    if not type_id or provider is None:
        return None
    tz = args.get("tz") or None
    try:
        zone = zone_named(tz or provider.timezone)
        return type_id, parse_start(args.get("start") or "", zone), tz
    except DomainError:
        return type_id, None, None


def _error_page(
    flow: Flow,
    code: str,
    message: str,
    provider: Provider | None,
    *,
    status: int | None = None,
    back_url: str | None = None,
    back_label: str = "Start again",
    slot: tuple[int, datetime | None, str | None] | None = None,
    **context: Any,
) -> tuple[str, int]:
    return error_page(
        code,
        message,
        status=status,
        provider=provider,
        slot=slot,
        back_url=back_url,
        back_label=back_label,
        **flow.context(),
        **context,
    )


@bp.errorhandler(RateLimitExceeded)
def rate_limited(exc: RateLimitExceeded) -> Response:
    """Too many requests: said on a page that, inside a frame, the provider's site may show."""
    page, status = error_page("rate_limited", exc.description or "")
    response = make_response(page, status)
    token = (request.view_args or {}).get("token")
    if request.path.startswith("/embed/") and token:
        framable_by(response, allowed_origins(provider_behind(token)))
    return response
