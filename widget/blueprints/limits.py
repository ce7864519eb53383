"""Rate limits on the public endpoints, where the share-link token is the only credential.

Limits count per visitor (remote address) and link, so one busy link or one noisy
visitor cannot starve the others; storage is memory by default and Redis
(WIDGET_RATELIMIT_STORAGE_URL) when several processes serve, so they share counts.
"""

from flask import current_app, request
from flask_limiter.util import get_remote_address

from ..extensions import limiter


def _visitor_on_link() -> str:
    token = (request.view_args or {}).get("token", "")
    return f"{get_remote_address()}|{token}"


def _submit_limit() -> str:
    return str(current_app.config["WIDGET_RATELIMIT_SUBMIT"])


def _read_limit() -> str:
    return str(current_app.config["WIDGET_RATELIMIT_READ"])


submission_limit = limiter.shared_limit(
    _submit_limit,
    scope="public-submission",
    key_func=_visitor_on_link,
    error_message="Too many booking attempts; please wait a minute and try again.",
)
"""On every POST that books or holds: the API's and the pages' share one count."""

read_limit = limiter.shared_limit(
    _read_limit,
    scope="public-read",
    key_func=get_remote_address,
    error_message="Too many requests; please wait a minute and try again.",
)
"""On every public page and GET, per visitor across links."""
