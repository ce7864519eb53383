"""The JSON API under /api/v1 (API.md)."""

from . import bookings, openapi, provider, webhooks
from .base import IdConverter, bp, register_error_handlers
from .links import public_bp

__all__ = [
    "IdConverter",
    "bookings",
    "bp",
    "openapi",
    "provider",
    "public_bp",
    "register_error_handlers",
    "webhooks",
]
