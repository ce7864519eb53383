"""A real Widget server and a provider's website on another origin, driven by Chromium.

The widget runs in a thread (werkzeug, threaded) on a SQLite file; the "clinic"
website is a second tiny server whose pages paste the embed snippet. The clinic is
reached as http://localhost:PORT (in the provider's allow-list) and as
http://127.0.0.1:PORT (not in it), while the widget lives at http://127.0.0.1:PORT2,
so the frame is cross-site, as on a real provider's website.

These tests use Debian's Chromium (never a downloaded browser). Without it they
skip, except in CI (the CI variable set), where they must run.
"""

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import Api, Clock, app_config
from widget import create_app
from widget.domain import providers
from widget.extensions import db

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WEEK = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip(f"{CHROMIUM} is not installed (CI installs it)", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class LiveWidget:
    app: Flask
    url: str
    api: Api
    provider_id: int

    def share(self, *type_ids: int) -> dict[str, Any]:
        response = self.api.post(
            "/api/v1/share-links", json={"appointment_type_ids": list(type_ids)}
        )
        assert response.status_code == 201, response.get_json()
        return dict(response.get_json())

    def settings(self, **fields: Any) -> None:
        response = self.api.patch("/api/v1/settings", json=fields)
        assert response.status_code == 200, response.get_json()

    def new_type(self, **fields: Any) -> dict[str, Any]:
        body = {
            "name": "Discovery Call",
            "duration_minutes": 30,
            "audience": "new_clients",
            "requires_credit": False,
            **fields,
        }
        response = self.api.post("/api/v1/appointment-types", json=body)
        assert response.status_code == 201, response.get_json()
        return dict(response.get_json())

    def snippet(self, token: str, **attributes: str) -> str:
        extra = "".join(f' data-widget-{k}="{v}"' for k, v in attributes.items())
        return (
            f'<div id="booking" data-widget-link="{token}"{extra}></div>\n'
            f'<script src="{self.url}/embed.js" async></script>'
        )


@pytest.fixture
def widget(tmp_path: Path, sqlite_template: Path) -> Iterator[LiveWidget]:
    """Widget on a real socket, a provider open on weekdays, on SQLite only."""
    path = tmp_path / "widget.db"
    shutil.copy(sqlite_template, path)
    app = create_app(app_config(f"sqlite:///{path}", WIDGET_CLOCK=Clock()))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with app.app_context():
        created = providers.create_provider(
            db.session, name="Dr. Ada", email="ada@example.com", timezone="America/New_York"
        )
        db.session.commit()
        provider_id = created.provider.id
        db.session.remove()
    live = LiveWidget(
        app,
        f"http://127.0.0.1:{server.server_port}",
        Api(app.test_client(), created.api_key),
        provider_id,
    )
    assert live.api.put("/api/v1/availability", json={"weekly": WEEK}).status_code == 200
    yield live
    server.shutdown()
    thread.join()
    server.server_close()
    with app.app_context():
        db.engine.dispose()


@dataclass
class Clinic:
    """The provider's own website: pages by path, served on another origin."""

    port: int
    pages: dict[str, str] = field(default_factory=dict)

    @property
    def allowed(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def foreign(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def page(self, path: str, body: str) -> str:
        self.pages[path] = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Clinic</title>'
            "</head><body><h1>Our clinic</h1>"
            "<script>window.booked = [];"
            "document.addEventListener('widget:booked', function (e) {"
            "window.booked.push({detail: e.detail, target: e.target.id, bubbles: e.bubbles});"
            "});</script>"
            f"{body}<p><a href='#top'>After the widget</a></p></body></html>"
        )
        return path


@pytest.fixture
def clinic() -> Iterator[Clinic]:
    site = Clinic(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802  (http.server's name)
            page = site.pages.get(self.path.split("?")[0])
            body = (page or "not found").encode()
            self.send_response(200 if page else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A visitor in Berlin: the booking page should follow their browser's zone."""
    context = browser.new_context(timezone_id="Europe/Berlin", locale="en-GB")
    visitor = context.new_page()
    yield visitor
    context.close()
