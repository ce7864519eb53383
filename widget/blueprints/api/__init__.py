"""The JSON API under /api/v1 (API.md)."""

from . import bookings, provider
from .base import IdConverter, bp, register_error_handlers

__all__ = ["IdConverter", "bookings", "bp", "provider", "register_error_handlers"]
