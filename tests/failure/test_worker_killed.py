"""A worker killed (SIGKILL) between the credit spend and the commit loses the whole booking.

The server runs in a subprocess with the test-only hook `WIDGET_TEST_KILL_AT=after_spend`
(widget/testing_hooks.py): the booking row and its ledger entry are flushed, the balance
is updated, and the process dies before it commits. The database must hold neither half,
and a server started again books the same slot.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.conftest import app_config
from widget import create_app
from widget.domain import providers
from widget.extensions import db
from widget.models import Booking, CreditBalance, CreditEntry, EntryKind

START = datetime(2027, 3, 1, 10, 0, tzinfo=ZoneInfo("America/New_York"))
WEEK = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _call(method: str, url: str, body: Any = None, key: str = "") -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _start(
    database_url: str, port: int, errors: Any, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "widget", "run", "--port", str(port)],
        env={
            **os.environ,
            "WIDGET_DATABASE_URL": database_url,
            "WIDGET_SECRET_KEYS": "kill-test-key-0123456789",
            "WIDGET_RATELIMIT_ENABLED": "0",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )


def _serve(database_url: str, log: Path, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    with log.open("ab") as errors:
        process = _start(database_url, port, errors, env)
    base = f"http://127.0.0.1:{port}"

    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/static/widget.css", timeout=1).close()
            return process, base
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    process.kill()
    pytest.fail("the server did not start: " + log.read_text())


def _setup(database_url: str) -> tuple[str, int, int]:
    """A provider with hours, a credit type and a client holding 2 credits, made in process."""
    app = create_app(app_config(database_url))
    with app.app_context():
        made = providers.create_provider(
            db.session, name="Kill Clinic", email="kill@example.com", timezone="America/New_York"
        )
        db.session.commit()
        key = made.api_key
        http = app.test_client()
        auth = {"Authorization": f"Bearer {key}"}

        def post(path: str, body: Any) -> Any:
            response = http.post(path, json=body, headers=auth)
            assert response.status_code in (200, 201), response.get_json()
            return response.get_json()

        assert http.put("/api/v1/availability", json={"weekly": WEEK}, headers=auth).status_code
        kind = post(
            "/api/v1/appointment-types",
            {
                "name": "Follow-Up",
                "duration_minutes": 50,
                "audience": "everyone",
                "requires_credit": True,
            },
        )
        package = post(
            "/api/v1/packages",
            {
                "name": "Two",
                "price_cents": 100,
                "items": [{"appointment_type_id": kind["id"], "quantity": 2}],
            },
        )
        client = post("/api/v1/clients", {"email": "mia@example.com", "name": "Mia"})
        post(f"/api/v1/clients/{client['id']}/packages", {"package_id": package["id"]})
        db.session.remove()
        db.engine.dispose()
    return key, client["id"], kind["id"]


def _assert_ledger_consistent(database_url: str) -> tuple[int, int]:
    """No booking without its `booking` entry, no such entry without its booking, and every
    balance equal to the sum of its entries. Gives (bookings, balance)."""
    app = create_app(app_config(database_url))
    with app.app_context():
        bookings = db.session.scalars(select(Booking)).all()
        spends = db.session.scalars(
            select(CreditEntry).where(CreditEntry.kind == EntryKind.booking)
        ).all()
        assert {b.id for b in bookings if b.credit_spent} == {e.booking_id for e in spends}
        assert all(db.session.get(Booking, e.booking_id) is not None for e in spends)
        accounts = db.session.scalars(select(CreditBalance)).all()
        for account in accounts:
            total = db.session.scalar(
                select(func.coalesce(func.sum(CreditEntry.delta), 0)).where(
                    CreditEntry.client_id == account.client_id,
                    CreditEntry.appointment_type_id == account.appointment_type_id,
                )
            )
            assert account.balance == total
        balance = accounts[0].balance
        db.session.remove()
        db.engine.dispose()
    return len(bookings), balance


def test_a_worker_killed_after_the_spend_leaves_no_half_booking(
    database_url: str, tmp_path: Path
) -> None:
    key, client_id, type_id = _setup(database_url)
    body = {"client_id": client_id, "appointment_type_id": type_id, "start": START.isoformat()}
    log = tmp_path / "server.log"

    doomed, base = _serve(database_url, log, WIDGET_TEST_KILL_AT="after_spend")
    try:
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            _call("POST", base + "/api/v1/bookings", body, key)
        assert doomed.wait(timeout=20) == -9, "the hook did not kill the server"
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait()

    assert _assert_ledger_consistent(database_url) == (0, 2)

    server, base = _serve(database_url, log)
    try:
        status, answer = _call("POST", base + "/api/v1/bookings", body, key)
        assert status == 201, answer
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert _assert_ledger_consistent(database_url) == (1, 1)
