"""The database connection cut while the server runs: 503 `service_unavailable`, then recovery.

The app (in process) reaches PostgreSQL through a TCP proxy the test controls. Cutting
the proxy drops every open connection and refuses new ones, as a network partition or a
database restart would. Requests then answer 503 with `Retry-After`, quickly and without a
stack trace: the API in its JSON error shape, every other path as the HTML error page; once
the proxy reopens, the same app serves again, and a booking tried during the outage was
either not made at all or is made once on retry.
"""

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL, app_config
from widget import create_app
from widget.domain import providers
from widget.extensions import db
from widget.models import Booking, CreditEntry, EntryKind

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs WIDGET_TEST_POSTGRES_URL")

START = datetime(2027, 3, 1, 10, 0, tzinfo=ZoneInfo("America/New_York"))
WEEK = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}


class Proxy:
    """A loopback TCP relay to the database that the test can cut and restore."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = int(self.listener.getsockname()[1])
        self.up = True
        self.stopped = False
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                incoming, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            incoming.settimeout(None)
            if not self.up:
                incoming.close()
                continue
            try:
                outgoing = socket.create_connection(self.target)
            except OSError:
                incoming.close()
                continue
            with self.lock:
                self.sockets += [incoming, outgoing]
            for source, sink in ((incoming, outgoing), (outgoing, incoming)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        self.up = False
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.sockets.clear()

    def restore(self) -> None:
        self.up = True

    def stop(self) -> None:
        self.stopped = True
        self.thread.join(timeout=5)
        self.cut()
        self.listener.close()


@pytest.fixture
def proxy_kind() -> type[Proxy]:
    """The proxy `proxy` starts; a module that needs a cleverer one overrides this."""
    return Proxy


@pytest.fixture
def proxy(postgres_database: str, proxy_kind: type[Proxy]) -> Iterator[Proxy]:
    url = make_url(postgres_database)
    relay = proxy_kind(url.host or "127.0.0.1", url.port or 5432)
    yield relay
    relay.stop()


@pytest.fixture
def proxied_app(postgres_database: str, proxy: Proxy) -> Iterator[Flask]:
    url = make_url(postgres_database).set(host="127.0.0.1", port=proxy.port)
    app = create_app(
        app_config(url.render_as_string(hide_password=False), PROPAGATE_EXCEPTIONS=False)
    )
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def _practice(app: Flask) -> tuple[dict[str, str], dict[str, Any]]:
    made = providers.create_provider(
        db.session,
        name="Outage Clinic",
        email=f"{uuid.uuid4().hex}@example.com",
        timezone="America/New_York",
    )
    db.session.commit()
    auth = {"Authorization": f"Bearer {made.api_key}"}
    http = app.test_client()
    _ok(http.put("/api/v1/availability", json={"weekly": WEEK}, headers=auth))
    kind = _ok(
        http.post(
            "/api/v1/appointment-types",
            json={
                "name": "Follow-Up",
                "duration_minutes": 50,
                "audience": "everyone",
                "requires_credit": True,
            },
            headers=auth,
        )
    )
    package = _ok(
        http.post(
            "/api/v1/packages",
            json={
                "name": "Two",
                "price_cents": 100,
                "items": [{"appointment_type_id": kind["id"], "quantity": 2}],
            },
            headers=auth,
        )
    )
    client = _ok(
        http.post("/api/v1/clients", json={"email": "mia@example.com", "name": "Mia"}, headers=auth)
    )
    _ok(
        http.post(
            f"/api/v1/clients/{client['id']}/packages",
            json={"package_id": package["id"]},
            headers=auth,
        )
    )
    body = {
        "client_id": client["id"],
        "appointment_type_id": kind["id"],
        "start": START.isoformat(),
    }
    return auth, body


LEAKS = ("Traceback", 'File "', "psycopg", "sqlalchemy", "OperationalError", "SELECT", "connection")
SENTENCE = "Booking is unavailable for a moment; please try again in a minute."


def _assert_retry_after(response: Any) -> None:
    assert int(response.headers["Retry-After"]) > 0


def _assert_unavailable(response: Any) -> None:
    """The API's answer: JSON `service_unavailable`, 503, `Retry-After`."""
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "service_unavailable"
    _assert_retry_after(response)
    text = response.get_data(as_text=True)
    for leak in LEAKS:
        assert leak not in text


def _assert_unavailable_page(response: Any) -> None:
    """A page's answer: the HTML error page, 503, `Retry-After`, the pages' security headers."""
    text = response.get_data(as_text=True)
    assert response.status_code == 503, text
    assert response.mimetype == "text/html"
    assert not response.is_json
    assert SENTENCE in text
    assert 'data-reason="service_unavailable"' in text
    assert '"error"' not in text and not text.lstrip().startswith("{")
    for leak in LEAKS:
        assert leak not in text, leak
    _assert_retry_after(response)
    headers = response.headers
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"


def test_a_cut_database_answers_503_then_recovers_without_half_bookings(
    proxied_app: Flask, proxy: Proxy
) -> None:
    auth, body = _practice(proxied_app)
    http = proxied_app.test_client()
    _ok(http.get("/api/v1/settings", headers=auth))  # a pooled connection through the proxy

    proxy.cut()
    began = time.monotonic()
    _assert_unavailable(http.get("/api/v1/settings", headers=auth))
    _assert_unavailable(http.get("/api/v1/bookings", headers=auth))
    retry = {**auth, "Idempotency-Key": "outage-1"}
    _assert_unavailable(http.post("/api/v1/bookings", json=body, headers=retry))
    _assert_unavailable_page(http.get("/portal/outage-clinic/login"))
    assert time.monotonic() - began < 10

    proxy.restore()
    _ok(http.get("/api/v1/settings", headers=auth))
    first = http.post("/api/v1/bookings", json=body, headers=retry)
    assert first.status_code == 201, first.get_json()
    again = http.post("/api/v1/bookings", json=body, headers=retry)
    assert again.status_code == 201 and again.get_json() == first.get_json()

    db.session.remove()
    booked = db.session.scalars(select(Booking).where(Booking.client_id == body["client_id"])).all()
    assert [b.id for b in booked] == [first.get_json()["id"]]
    spends = db.session.scalar(
        select(func.count())
        .select_from(CreditEntry)
        .where(CreditEntry.client_id == body["client_id"], CreditEntry.kind == EntryKind.booking)
    )
    assert spends == 1


def test_pages_answer_the_html_503_page_while_the_database_is_cut_then_recover(
    proxied_app: Flask, proxy: Proxy
) -> None:
    """Booking pages, embed pages and the portal's login read the database: each answers the
    error page (not the API's JSON) during the outage, and serves again after it."""
    auth, _ = _practice(proxied_app)
    http = proxied_app.test_client()
    intro = {
        "name": "Intro",
        "duration_minutes": 30,
        "audience": "new_clients",
        "requires_credit": False,
    }
    kind = _ok(http.post("/api/v1/appointment-types", json=intro, headers=auth))
    share = {"appointment_type_ids": [kind["id"]]}
    link = _ok(http.post("/api/v1/share-links", json=share, headers=auth))
    pages = [f"/l/{link['token']}", f"/embed/{link['token']}", "/portal/outage-clinic/login"]
    for page in pages:
        assert http.get(page).status_code == 200, page

    proxy.cut()
    for page in pages:
        _assert_unavailable_page(http.get(page))
    _assert_unavailable_page(http.post(f"/l/{link['token']}", data={"name": "Mia"}))
    _assert_unavailable(http.get("/api/v1/settings", headers=auth))
    _assert_unavailable(http.get("/api/v1/bookings", headers=auth))

    proxy.restore()
    for page in pages:
        response = http.get(page)
        assert response.status_code == 200, page
        assert SENTENCE not in response.get_data(as_text=True)
    _ok(http.get("/api/v1/settings", headers=auth))


def test_a_connection_cut_inside_a_booking_leaves_nothing_half_made(
    proxied_app: Flask, proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cut lands after the booking and its credit entry are flushed, before the commit."""
    from widget import testing_hooks

    auth, body = _practice(proxied_app)
    http = proxied_app.test_client()
    monkeypatch.setattr(testing_hooks, "_KILL_AT", None)
    real_reach = testing_hooks.reach

    def cut_here(point: str) -> None:
        real_reach(point)
        if point == "after_spend":
            proxy.cut()

    monkeypatch.setattr(testing_hooks, "reach", cut_here)
    _assert_unavailable(http.post("/api/v1/bookings", json=body, headers=auth))

    monkeypatch.setattr(testing_hooks, "reach", real_reach)
    proxy.restore()
    db.session.remove()
    assert (
        db.session.scalars(select(Booking).where(Booking.client_id == body["client_id"])).all()
        == []
    )
    credits = _ok(
        http.get(
            f"/api/v1/clients/{body['client_id']}/credits/{body['appointment_type_id']}",
            headers=auth,
        )
    )
    assert credits["balance"] == 2
    assert [e["kind"] for e in credits["history"]] == ["package_grant"]
    assert http.post("/api/v1/bookings", json=body, headers=auth).status_code == 201


def test_the_first_request_after_a_database_restart_is_served(
    proxied_app: Flask, proxy: Proxy
) -> None:
    """Pooled connections that died while the app was idle are replaced, not failed on."""
    auth, _ = _practice(proxied_app)
    http = proxied_app.test_client()
    _ok(http.get("/api/v1/settings", headers=auth))
    proxy.cut()
    proxy.restore()
    _ok(http.get("/api/v1/settings", headers=auth))


def test_pooled_connections_the_server_ended_are_replaced_before_use(
    postgres_database: str,
) -> None:
    """The server ends every session of the app's pool, as a restart or an administrator
    would: the next request is served on a new connection, not answered 503."""
    app = create_app(app_config(postgres_database, PROPAGATE_EXCEPTIONS=False))
    server = create_engine(postgres_database)
    try:
        with app.app_context():
            auth, _ = _practice(app)
            http = app.test_client()
            _ok(http.get("/api/v1/settings", headers=auth))
            with server.begin() as connection:
                ended = connection.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            assert ended >= 1
            _ok(http.get("/api/v1/settings", headers=auth))
            db.session.remove()
            db.engine.dispose()
    finally:
        server.dispose()
