"""Who may frame a response: the embed pages by their provider's allowed origins, nothing else.

Every response leaves with a framing rule. An embed view marks its own response
with `framable_by`; any response without a `frame-ancestors` directive is then
closed to framing by the `after_request` hook (`X-Frame-Options: DENY` for old
browsers, `frame-ancestors 'none'` for the rest): pages, the API, static files.
"""

from collections.abc import Iterable

from flask import Flask, Response

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; object-src 'none'"
)
"""The Content-Security-Policy of the booking pages, before their framing rule."""


def _with_frame_ancestors(policy: str | None, sources: str) -> str:
    return f"{policy}; frame-ancestors {sources}" if policy else f"frame-ancestors {sources}"


def framable_by(response: Response, origins: Iterable[str]) -> Response:
    """Let this page be framed by its own origin and the given ones (a provider's allow-list)."""
    sources = " ".join(["'self'", *dict.fromkeys(origins)])
    response.headers["Content-Security-Policy"] = _with_frame_ancestors(PAGE_POLICY, sources)
    response.headers.pop("X-Frame-Options", None)
    return response


def not_framable(response: Response) -> Response:
    """Forbid framing, unless the view already said who may frame it."""
    policy = response.headers.get("Content-Security-Policy")
    if policy and "frame-ancestors" in policy:
        return response
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = _with_frame_ancestors(policy, "'none'")
    return response


def baseline_headers(response: Response) -> Response:
    """On every response: no MIME sniffing, and no full URLs (tokens) leaked in Referer."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def install(app: Flask) -> None:
    app.after_request(not_framable)
    app.after_request(baseline_headers)
