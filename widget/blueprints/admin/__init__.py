"""The provider's dashboard, /admin/: everything the provider API does, in the browser.

Each view loads the provider's objects (another provider's are as unknown as missing
ones), checks its form against the API's own schema, calls one domain function,
commits, then redirects; a refused form comes back with each error beside its field.
"""

from . import calendar, catalogue, clients, links, settings, webhooks
from .base import bp

__all__ = ["bp", "calendar", "catalogue", "clients", "links", "settings", "webhooks"]
