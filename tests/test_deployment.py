"""Production shape: gunicorn with two workers over one PostgreSQL, rate limits in Redis.

Nothing a request needs may live in one process's memory: the database decides who
gets a slot whichever worker answers, and a rate limit counts across workers.
"""

import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from widget import create_app
from widget.domain import providers
from widget.extensions import db
from widget.models import OutboxMessage

from .conftest import POSTGRES_URL, app_config

REDIS_URL = os.environ.get("WIDGET_TEST_REDIS_URL")
MONDAY = datetime(2027, 3, 1, 10, 0, tzinfo=ZoneInfo("America/New_York"))

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL or not REDIS_URL,
    reason="needs WIDGET_TEST_POSTGRES_URL and WIDGET_TEST_REDIS_URL (CI sets both)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def gunicorn(postgres_database, tmp_path):
    """Starts gunicorn serving Widget with two workers on a loopback port; gives its base URL."""
    started = []

    def start(*options: str) -> str:
        port = _free_port()
        env = {
            **os.environ,
            "WIDGET_DATABASE_URL": postgres_database,
            "WIDGET_SECRET_KEYS": "deploy-test-key-0123456789",
            "WIDGET_RATELIMIT_STORAGE_URL": REDIS_URL,
            "WIDGET_RATELIMIT_READ": "5 per minute",
            "WIDGET_PROXY_HOPS": "1",
        }
        log = (tmp_path / f"gunicorn-{port}.log").open("wb")
        command = ["-w", "2", "-b", f"127.0.0.1:{port}", *options, "widget:create_app()"]
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        started.append((process, log))
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                urllib.request.urlopen(base + "/static/widget.css", timeout=1).close()
                return base
            except OSError:
                time.sleep(0.1)
        pytest.fail("gunicorn did not start: " + (tmp_path / f"gunicorn-{port}.log").read_text())

    yield start
    for process, log in started:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _call(method, url, body=None, headers=None):
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def practice(postgres_database):
    """A provider with hours and a credit-free type, made directly in the served database."""
    app = create_app(app_config(postgres_database))
    with app.app_context():
        made = providers.create_provider(
            db.session,
            name="Deploy Clinic",
            email=f"{uuid.uuid4().hex}@example.com",
            timezone="America/New_York",
        )
        db.session.commit()
        key = made.api_key
        db.session.remove()
        db.engine.dispose()
    return key


def _open_week_of(base: str, auth: dict[str, str], *, name: str, audience: str) -> dict:
    """Weekday hours 09:00-17:00 and a free 30-minute type, set up through the server."""
    week = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}
    assert _call("PUT", base + "/api/v1/availability", {"weekly": week}, auth)[0] == 200
    fields = {"name": name, "duration_minutes": 30, "audience": audience, "requires_credit": False}
    status, kind = _call("POST", base + "/api/v1/appointment-types", fields, auth)
    assert status == 201, kind
    return kind


def test_many_threads_booking_one_slot_through_two_workers_make_one_booking(gunicorn, practice):
    base = gunicorn()
    auth = {"Authorization": f"Bearer {practice}"}
    kind = _open_week_of(base, auth, name="Visit", audience="everyone")
    clients = [
        _call("POST", base + "/api/v1/clients", {"email": f"c{i}@example.com", "name": "C"}, auth)[
            1
        ]
        for i in range(16)
    ]
    barrier = threading.Barrier(len(clients))
    answers = []

    def book(person):
        barrier.wait()
        answers.append(
            _call(
                "POST",
                base + "/api/v1/bookings",
                {
                    "client_id": person["id"],
                    "appointment_type_id": kind["id"],
                    "start": MONDAY.isoformat(),
                },
                auth,
            )
        )

    threads = [threading.Thread(target=book, args=(person,)) for person in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * (len(clients) - 1), answers
    assert {body["error"]["code"] for status, body in answers if status == 409} == {
        "slot_unavailable"
    }


def test_a_rate_limit_counts_across_workers(gunicorn):
    """Every worker serves one request and is replaced, so only a shared count can hold."""
    base = gunicorn("--max-requests", "1")
    # A visitor of our own behind the (trusted) proxy, so earlier runs' counts do not matter.
    visitor = {"X-Forwarded-For": f"10.{random.randrange(256)}.{random.randrange(256)}.9"}
    statuses = [
        _call("GET", base + "/api/v1/links/nonsense", headers=visitor)[0] for _ in range(12)
    ]
    assert statuses.count(404) == 5 and statuses.count(429) == 7, statuses


def _next_monday_11am() -> datetime:
    """A start within any type's default horizon and past its notice, whatever today is."""
    zone = ZoneInfo("America/New_York")
    today = datetime.now(zone).date()
    monday = today + timedelta(days=7 - today.weekday())
    return datetime.combine(monday, datetime.min.time(), tzinfo=zone).replace(hour=11)


def test_a_worker_that_ends_after_answering_has_sent_the_mail_first(
    gunicorn, practice, postgres_database
):
    """Every worker serves one request and exits (as on a restart or a deploy): the
    confirmation link a public booking queued is sent as the worker ends, not ten
    minutes later by the sweep."""
    base = gunicorn("--max-requests", "1")
    auth = {"Authorization": f"Bearer {practice}"}
    kind = _open_week_of(base, auth, name="Intro", audience="new_clients")
    status, link = _call(
        "POST", base + "/api/v1/share-links", {"appointment_type_ids": [kind["id"]]}, auth
    )
    assert status == 201, link
    email = f"{uuid.uuid4().hex}@example.com"
    body = {
        "appointment_type_id": kind["id"],
        "start": _next_monday_11am().isoformat(),
        "name": "Visitor",
        "email": email,
    }
    status, answer = _call("POST", f"{base}/api/v1/links/{link['token']}/bookings", body)
    assert status == 202, answer  # held until the visitor opens the emailed link
    app = create_app(app_config(postgres_database))
    with app.app_context():
        for _ in range(100):
            sent = db.session.scalar(
                db.select(OutboxMessage.sent_at).where(OutboxMessage.recipient == email)
            )
            db.session.rollback()
            if sent is not None:
                break
            time.sleep(0.1)
        db.engine.dispose()
    assert sent is not None, "the mail was left for the sweep"
