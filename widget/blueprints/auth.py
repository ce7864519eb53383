"""Logging in and out: providers with a password, clients by magic link or a password.

Sessions are Flask's signed cookies (HttpOnly, SameSite=Lax, Secure in production);
every form carries Flask-WTF's CSRF token; login POSTs are rate limited. Answers never
tell whether an account exists. Views that need someone logged in use
`provider_required` or `client_required`, which put the account on `g`.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from wtforms import EmailField, Field, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from .. import mail
from ..domain import accounts
from ..domain.clients import client_by_email
from ..domain.emails import checked_email
from ..domain.errors import DomainError, ValidationFailed
from ..extensions import db, limiter
from ..models import Client, Provider
from . import link_flow
from .api.base import now
from .pages import error_page

bp = Blueprint("auth", __name__)

View = Callable[..., ResponseReturnValue]


class LoginForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class LinkForm(FlaskForm):  # type: ignore[misc]
    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])

    def validate_email(self, field: Field) -> None:
        """A malformed address is said so: it tells nothing about who is a client, and
        otherwise the visitor would wait for an email that cannot come."""
        try:
            checked_email(field.data or "")
        except ValidationFailed as exc:
            raise ValidationError(f"This {exc.details['email'].rstrip('.')}.") from None


class PasswordForm(FlaskForm):  # type: ignore[misc]
    password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=accounts.MIN_PASSWORD_LENGTH, max=200)],
    )
    confirm = PasswordField(
        "The same password again",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )


def _login_limit() -> str:
    return str(current_app.config["WIDGET_RATELIMIT_LOGIN"])


login_limit = limiter.limit(_login_limit, methods=["POST"], key_func=get_remote_address)
"""Login attempts per visitor, whichever account they try."""


@bp.app_errorhandler(CSRFError)
def form_expired(exc: CSRFError) -> ResponseReturnValue:
    return error_page("csrf_failed")


def _safe_next(default: str) -> str:
    """Where to go after logging in: a path on this site only, never another host."""
    target = request.args.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return default


def _log_in(**account: int) -> None:
    """One account per browser: logging in as someone ends any other login in this session.

    The cookie is signed and holds no server-side id, so there is no session to fixate;
    the CSRF token is kept so forms already open keep working.
    """
    session.pop("provider_id", None)
    session.pop("client_id", None)
    session.update(account)
    session.permanent = True


# Providers


def provider_required(view: View) -> View:
    @wraps(view)
    def run(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        provider = db.session.get(Provider, session.get("provider_id") or 0)
        if provider is None:
            return redirect(url_for("auth.provider_login", next=request.full_path.rstrip("?")))
        g.provider = provider
        return view(*args, **kwargs)

    return run


@bp.route("/admin/login", methods=["GET", "POST"])
@login_limit
def provider_login() -> ResponseReturnValue:
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        provider = accounts.provider_by_login(db.session, form.email.data, form.password.data)
        if provider is not None:
            _log_in(provider_id=provider.id)
            return redirect(_safe_next(url_for("admin.home")))
        failed = True
    status = 401 if failed else (422 if form.errors else 200)
    return render_template("auth/provider_login.html", form=form, failed=failed), status


@bp.post("/admin/logout")
def provider_logout() -> ResponseReturnValue:
    session.pop("provider_id", None)
    flash("You are logged out.")
    return redirect(url_for("auth.provider_login"))


# Clients


def portal_provider(slug: str) -> Provider:
    provider = accounts.provider_by_slug(db.session, slug)
    if provider is None:
        abort(404)
    return provider


def client_required(view: View) -> View:
    """For /portal/<slug>/...: the logged-in client of that provider, else the login page."""

    @wraps(view)
    def run(slug: str, *args: Any, **kwargs: Any) -> ResponseReturnValue:
        provider = portal_provider(slug)
        client = db.session.get(Client, session.get("client_id") or 0)
        if client is None or client.provider_id != provider.id:
            return redirect(
                url_for("auth.client_login", slug=slug, next=request.full_path.rstrip("?"))
            )
        g.provider, g.client = provider, client
        return view(slug, *args, **kwargs)

    return run


@bp.route("/portal/<slug>/login", methods=["GET", "POST"])
@login_limit
def client_login(slug: str) -> ResponseReturnValue:
    provider = portal_provider(slug)
    link_form, password_form = LinkForm(prefix="link"), LoginForm(prefix="password")
    next_path = _safe_next(url_for("portal.home", slug=slug))
    sent = failed = False
    mode = request.form.get("mode")
    if mode == "link" and link_form.validate_on_submit():
        email = link_form.email.data.strip().lower()
        client = client_by_email(db.session, provider, email)
        if client is not None:
            token = accounts.magic_token(client, link_flow.signing_keys())
            url = link_flow.base_url() + url_for(
                "auth.magic_link", slug=slug, token=token, next=next_path
            )
            mail.queue_login_email(db.session, provider, client, url, now())
        else:
            mail.queue_no_account_email(db.session, provider, email, now())
        db.session.commit()
        sent = email
    elif mode == "password" and password_form.validate_on_submit():
        client = accounts.client_by_login(
            db.session, provider, password_form.email.data, password_form.password.data
        )
        if client is not None:
            accounts.record_login(db.session, client, now())
            db.session.commit()
            _log_in(client_id=client.id)
            return redirect(next_path)
        failed = True
    page = render_template(
        "auth/client_login.html",
        provider=provider,
        brand=provider.name,
        link_form=link_form,
        password_form=password_form,
        sent=sent,
        failed=failed,
        next=request.args.get("next"),
    )
    return page, 401 if failed else (422 if link_form.errors or password_form.errors else 200)


@bp.route("/portal/<slug>/login/<token>", methods=["GET", "POST"])
@login_limit
def magic_link(slug: str, token: str) -> ResponseReturnValue:
    """GET asks for a press of a button, so mail scanners that open links do not use it up."""
    provider = portal_provider(slug)
    if request.method == "GET":
        return render_template("auth/magic_link.html", provider=provider, brand=provider.name)
    try:
        client = accounts.log_in_by_magic_link(
            db.session, provider, token, link_flow.signing_keys(), now()
        )
    except DomainError as exc:
        db.session.rollback()
        return error_page(exc.code, exc.message)
    db.session.commit()
    _log_in(client_id=client.id)
    return redirect(_safe_next(url_for("portal.home", slug=slug)))


@bp.post("/portal/<slug>/logout")
def client_logout(slug: str) -> ResponseReturnValue:
    session.pop("client_id", None)
    flash("You are logged out.")
    return redirect(url_for("auth.client_login", slug=slug))


@bp.post("/portal/<slug>/password")
@client_required
def request_password_link(slug: str) -> ResponseReturnValue:
    """Email the logged-in client a link to set (or change) their password."""
    client: Client = g.client
    token = accounts.password_token(client, link_flow.signing_keys())
    url = link_flow.base_url() + url_for("auth.set_password", slug=slug, token=token)
    mail.queue_password_email(db.session, g.provider, client, url, now())
    db.session.commit()
    flash(f"We have emailed {client.email} a link to set your password.")
    return redirect(url_for("portal.home", slug=slug))


@bp.route("/portal/<slug>/password/<token>", methods=["GET", "POST"])
@login_limit
def set_password(slug: str, token: str) -> ResponseReturnValue:
    provider = portal_provider(slug)
    keys = link_flow.signing_keys()
    form = PasswordForm()
    try:
        client = accounts.client_for_password_link(db.session, provider, token, keys)
        if form.validate_on_submit():
            accounts.set_client_password(db.session, provider, token, keys, form.password.data)
            db.session.commit()
            flash("Your password is set. Log in with it, or by email link as before.")
            return redirect(url_for("auth.client_login", slug=slug))
    except DomainError as exc:
        db.session.rollback()
        return error_page(exc.code, exc.message)
    page = render_template(
        "auth/set_password.html", provider=provider, brand=provider.name, client=client, form=form
    )
    return page, 422 if form.errors else 200
