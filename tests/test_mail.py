"""Email: what a visitor receives over real SMTP (aiosmtpd on loopback), when, and what a
mail server that is down does to bookings (nothing) and to the outbox (retries)."""

import email
import json
import logging
import os
import re
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.serving import make_server

from tests import sql
from tests.blueprints.api.helpers import post_booking
from widget import create_app, mail
from widget.domain import notify
from widget.extensions import db
from widget.models import OutboxMessage
from widget.outbox import DeliveryCounts, courier

from .conftest import app_config
from .test_webhooks import Receiver, subscribe

ROOT = Path(__file__).resolve().parent.parent
NEW_YORK = ZoneInfo("America/New_York")
MONDAY_9AM = datetime(2026, 11, 30, 9, 0, tzinfo=NEW_YORK)
WEEK = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/confirm/\S+)")


class SmtpServer:
    """A real SMTP server on loopback that keeps what it receives; it can be down."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.received: list[EmailMessage] = []
        self.connections: set[Any] = set()
        self.delay_seconds = 0.0
        self.gate: threading.Event | None = None
        self.gate_after = 0  # messages that pass before the gate holds the rest
        self.controller: Controller | None = None

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        time.sleep(self.delay_seconds)
        if self.gate is not None and len(self.received) >= self.gate_after:
            self.gate.wait(timeout=10)
        self.connections.add(_session.peer)
        self.received.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_config(smtp):
    """What the app is built with; a test may parametrize it to change the setup."""
    return {"WIDGET_SMTP_URL": smtp.url, "WIDGET_DEV_MAIL": True}


@pytest.fixture
def app(database_url, clock, mail_config):
    app = create_app(app_config(database_url, WIDGET_CLOCK=clock, **mail_config))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def link(api, make_type):
    discovery = make_type(
        name="Discovery Call", duration_minutes=30, audience="new_clients", requires_credit=False
    )
    assert api.put("/api/v1/availability", json={"weekly": WEEK}).status_code == 200
    created = api.post("/api/v1/share-links", json={"appointment_type_ids": [discovery["id"]]})
    assert created.status_code == 201, created.get_json()
    return {"token": created.get_json()["token"], "type_id": discovery["id"]}


def submit(client, link, *, email="visitor@example.com", name="Visitor", start=MONDAY_9AM):
    """A public booking; the response stays open, as a server holds it until it is sent."""
    return client.post(
        f"/api/v1/links/{link['token']}/bookings",
        json={
            "appointment_type_id": link["type_id"],
            "start": start.isoformat(),
            "name": name,
            "email": email,
        },
    )


def book(client, link, **fields):
    response = submit(client, link, **fields)
    assert response.status_code == 202, response.get_json()
    response.close()
    return response


def text_of(message: EmailMessage) -> str:
    return str(message.get_body(("plain",)).get_content())


def html_of(message: EmailMessage) -> str:
    return str(message.get_body(("html",)).get_content())


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    rows = list(db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)))
    db.session.commit()
    return rows


def wait_until(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "still waiting"
        time.sleep(0.02)


def queue(n: int, now: datetime) -> None:
    for i in range(n):
        notify.queue_email(
            db.session, recipient=f"r{i}@example.com", subject=f"Note {i}", text_body="Hi", now=now
        )
    db.session.commit()


def test_a_public_booking_mails_its_confirmation_link_once_the_response_is_sent(client, link, smtp):
    response = submit(client, link)
    assert response.status_code == 202
    assert smtp.received == []
    response.close()
    [hold] = smtp.received
    assert hold["To"] == "visitor@example.com"
    assert hold["From"] == "Widget <no-reply@localhost>"
    assert hold["Subject"] == "Confirm your booking with Dr. Ada 1"
    path = CONFIRM_LINK.search(text_of(hold)).group(1)
    assert f'href="http://localhost{path}"' in html_of(hold)
    assert outbox()[0].sent_at is not None


def test_the_development_server_mails_an_answer_whose_client_reset_the_connection(app, link, smtp):
    """werkzeug's server skips an answer's close() when the client resets the connection
    right after reading it, as Chromium may after a redirect; the mail the request
    committed goes out all the same (`flask run`, `widget demo`, the browser tests)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    body = json.dumps(
        {
            "appointment_type_id": link["type_id"],
            "start": MONDAY_9AM.isoformat(),
            "name": "Visitor",
            "email": "visitor@example.com",
        }
    ).encode()
    try:
        with socket.create_connection(("127.0.0.1", server.server_port)) as visitor:
            visitor.sendall(
                f"POST /api/v1/links/{link['token']}/bookings HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            answer = b""
            while b"\r\n\r\n" not in answer:
                answer += visitor.recv(65536)
            head, rest = answer.split(b"\r\n\r\n", 1)
            length = re.search(rb"(?i)content-length: *(\d+)", head)
            assert head.startswith(b"HTTP/1.1 202") and length is not None, head
            while len(rest) < int(length.group(1)):
                rest += visitor.recv(65536)
            # Closed with SO_LINGER 0: a reset, as a browser's close with unread bytes sends.
            visitor.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        wait_until(lambda: courier.settle(timeout=10) and bool(smtp.received), seconds=10)
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
    [hold] = smtp.received
    assert hold["Subject"] == "Confirm your booking with Dr. Ada 1"
    assert outbox()[0].sent_at is not None


def test_following_the_link_mails_a_confirmation_with_a_calendar_invite(client, link, smtp):
    book(client, link)
    page = client.get(CONFIRM_LINK.search(text_of(smtp.received[0])).group(1))
    assert page.status_code == 200
    page.close()
    confirmation = smtp.received[1]
    assert confirmation["Subject"] == "Booked: Discovery Call with Dr. Ada 1"
    assert "Monday 30 November 2026, 09:00 (America/New_York)" in text_of(confirmation)
    [invite] = confirmation.iter_attachments()
    assert invite.get_content_type() == "text/calendar"
    assert invite.get_param("method") == "REQUEST"
    assert invite.get_filename() == "invite.ics"
    calendar = icalendar.Calendar.from_ical(invite.get_content())
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == MONDAY_9AM
    assert event.decoded("dtend") == MONDAY_9AM + timedelta(minutes=30)
    assert str(event["summary"]) == "Discovery Call with Dr. Ada 1"
    booking_id = outbox()[1].booking_id
    assert str(event["uid"]) == f"booking-{booking_id}@localhost"


def test_a_mail_server_that_is_down_leaves_the_booking_and_keeps_the_mail(
    client, link, smtp, clock
):
    smtp.stop()
    response = submit(client, link)
    assert response.status_code == 202
    response.close()
    [row] = outbox()
    assert row.sent_at is None
    assert row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at == clock.now + timedelta(minutes=1)


def test_outbox_deliver_sends_what_failed_once_it_is_due_and_the_server_is_back(
    app, client, link, smtp, clock
):
    smtp.stop()
    book(client, link)
    smtp.start()
    runner = app.test_cli_runner()
    early = runner.invoke(args=["outbox", "deliver"])
    assert early.exit_code == 0, early.output
    assert early.output.splitlines()[:2] == ["sent: 0", "failed: 0"]
    clock.advance(minutes=1)
    due = runner.invoke(args=["outbox", "deliver"])
    assert due.output.splitlines()[:2] == ["sent: 1", "failed: 0"]
    [hold] = smtp.received
    assert CONFIRM_LINK.search(text_of(hold))
    [row] = outbox()
    assert (row.sent_at, row.attempts, row.last_error) == (clock.now, 2, None)


def test_failed_deliveries_wait_longer_each_time_up_to_an_hour(app, smtp, clock):
    smtp.stop()
    queue(1, clock.now)
    waits = []
    for _ in range(8):
        assert mail.deliver_due_mail() == DeliveryCounts(sent=0, failed=1)
        [row] = outbox()
        waits.append(row.next_attempt_at - clock.now)
        clock.now = row.next_attempt_at
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60)]


def test_mail_still_failing_three_days_on_is_given_up_and_shown_as_such(app, client, smtp, clock):
    smtp.stop()
    queue(1, clock.now)
    made = clock.now
    attempts = 0
    while clock.now - made < timedelta(days=3):
        assert mail.deliver_due_mail() == DeliveryCounts(sent=0, failed=1)
        attempts += 1
        [row] = outbox()
        assert row.given_up_at is None
        clock.now = row.next_attempt_at
    assert mail.deliver_due_mail() == DeliveryCounts(sent=0, failed=1)
    [row] = outbox()
    assert (row.given_up_at, row.attempts) == (clock.now, attempts + 1)
    assert "ConnectionRefusedError" in row.last_error
    smtp.start()
    clock.advance(days=1)
    assert mail.deliver_due_mail() == DeliveryCounts()
    assert smtp.received == []
    page = client.get("/dev/mail").get_data(as_text=True)
    assert 'data-status="given-up"' in page and f"given up after {attempts + 1} attempts" in page


@pytest.mark.parametrize("mail_config", [{"WIDGET_SMTP_URL": None}])
def test_without_an_smtp_url_mail_goes_to_the_log(client, link, caplog):
    with caplog.at_level(logging.INFO, logger="widget"):
        book(client, link)
    [logged] = [r.getMessage() for r in caplog.records if "visitor@example.com" in r.getMessage()]
    assert "Confirm your booking with Dr. Ada 1" in logged
    assert "/confirm/" in logged
    assert outbox()[0].sent_at is not None


@pytest.mark.parametrize("mail_config", [{"WIDGET_SMTP_URL": None}])
def test_the_outbox_page_does_not_exist_outside_development(client):
    assert client.get("/dev/mail").status_code == 404
    assert client.get("/dev/mail.json").status_code == 404


def test_the_outbox_page_lists_mail_newest_first_with_clickable_links(client, link, clock):
    book(client, link, email="first@example.com")
    book(client, link, email="second@example.com", start=MONDAY_9AM + timedelta(hours=1))
    listed = client.get("/dev/mail.json").get_json()["messages"]
    assert [m["recipient"] for m in listed] == ["second@example.com", "first@example.com"]
    assert listed[0]["sent_at"] == clock.now.isoformat()
    assert listed[0]["attempts"] == 1
    page = client.get("/dev/mail").get_data(as_text=True)
    path = CONFIRM_LINK.search(listed[0]["text_body"]).group(1)
    assert f'<a href="http://localhost{path}">' in page


def test_what_a_visitor_types_is_escaped_in_html_mail_and_on_the_outbox_page(client, link, smtp):
    book(client, link, name="<script>alert(1)</script>")
    html = html_of(smtp.received[0])
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Hello <script>alert(1)</script>," in text_of(smtp.received[0])
    assert "<script>" not in client.get("/dev/mail").get_data(as_text=True)


def test_a_second_deliver_run_does_not_send_again(app, smtp, clock):
    queue(3, clock.now)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["outbox", "deliver"]).output.splitlines()[0] == "sent: 3"
    assert runner.invoke(args=["outbox", "deliver"]).output.splitlines()[0] == "sent: 0"
    assert len(smtp.received) == 3


def test_two_deliver_runs_at_once_send_each_message_once(app, smtp, clock):
    queue(8, clock.now)
    smtp.delay_seconds = 0.05
    counts: list[DeliveryCounts] = []

    def run() -> None:
        with app.app_context():
            counts.append(mail.deliver_due_mail())

    runs = [threading.Thread(target=run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    assert sum(c.sent for c in counts) == 8
    assert sorted(m["To"] for m in smtp.received) == sorted(f"r{i}@example.com" for i in range(8))


def test_a_sweep_while_a_request_is_answering_leaves_its_mail_to_the_request(
    app, client, link, smtp
):
    response = submit(client, link)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["outbox", "deliver"]).output.splitlines()[0] == "sent: 0"
    response.close()
    assert runner.invoke(args=["outbox", "deliver"]).output.splitlines()[0] == "sent: 0"
    [hold] = smtp.received
    assert hold["To"] == "visitor@example.com"
    [row] = outbox()
    assert row.attempts == 1 and row.sent_at is not None


def test_mail_a_request_never_sent_goes_out_with_the_sweep_once_its_lease_is_over(
    app, client, link, smtp, clock
):
    response = submit(client, link)  # the worker answers, then dies before sending
    runner = app.test_cli_runner()
    clock.advance(minutes=9)
    assert runner.invoke(args=["outbox", "deliver"]).output.splitlines()[0] == "sent: 0"
    clock.advance(minutes=1)
    assert runner.invoke(args=["outbox", "deliver"]).output.splitlines()[0] == "sent: 1"
    response.close()  # a request that wakes up after its lease sends nothing more
    assert len(smtp.received) == 1
    [row] = outbox()
    assert (row.attempts, row.sent_at) == (1, clock.now)


def test_mail_whose_lease_is_nearly_over_is_left_to_the_sweep_and_sent_once(
    app, client, link, smtp, clock
):
    """A courier behind a backlog must not send a row the sweep may be taking meanwhile."""
    response = submit(client, link)
    clock.advance(minutes=9)  # a minute of the lease left: too little to send and record
    response.close()
    assert smtp.received == []
    clock.advance(minutes=1)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["outbox", "deliver"]).output.splitlines()[0] == "sent: 1"
    assert len(smtp.received) == 1


def test_a_long_run_records_what_it_sent_before_a_later_message_stalls(
    app, link, smtp, monkeypatch
):
    """Outcomes are written as a backlog goes, not only at its end, so the sweep never
    finds a sent message still marked unsent once its lease is over."""
    monkeypatch.setattr("widget.outbox.GATHER_SECONDS", 30.0)  # both go in one run
    monkeypatch.setattr("widget.outbox.RECORD_EVERY_SECONDS", 0.0)
    unsettled = FlaskClient(app)
    book(unsettled, link)
    book(unsettled, link, email="second@example.com", start=MONDAY_9AM + timedelta(hours=1))
    smtp.gate, smtp.gate_after = threading.Event(), 1  # the second message stalls
    first_recorded = threading.Event()

    def release_once_the_first_is_recorded() -> None:
        with app.app_context():
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not first_recorded.is_set():
                if any(row.sent_at is not None for row in outbox()):
                    first_recorded.set()
                time.sleep(0.02)
        assert smtp.gate is not None
        smtp.gate.set()

    watcher = threading.Thread(target=release_once_the_first_is_recorded)
    watcher.start()
    try:
        assert courier.settle(timeout=30)
    finally:
        smtp.gate.set()
        watcher.join()
    assert first_recorded.is_set()
    assert len(smtp.received) == 2


def test_a_request_records_its_deliveries_in_one_transaction(app, client, link, smtp):
    response = submit(client, link)
    with sql.statements() as sent:
        response.close()
    assert len(smtp.received) == 1
    assert [s.split()[0] for s in sent if not s.startswith("BEGIN")] == ["UPDATE"]


@pytest.fixture
def provider_booking(api, make_type, make_client):
    """A free hour and a client: what a provider books through the API."""
    assert api.put("/api/v1/availability", json={"weekly": WEEK}).status_code == 200
    kind = make_type(
        name="Check-in", duration_minutes=60, audience="everyone", requires_credit=False
    )
    person = make_client(email="kim@example.com", name="Kim")

    def book(start=MONDAY_9AM, **extra):
        response = post_booking(api, person["id"], kind["id"], start.isoformat(), **extra)
        response.close()
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return book


def test_an_api_booking_emails_the_client_only_when_asked(api, provider_booking, smtp):
    provider_booking()
    assert smtp.received == []
    made = provider_booking(start=MONDAY_9AM + timedelta(hours=2), notify_client=True)
    [confirmation] = smtp.received
    assert confirmation["To"] == "kim@example.com"
    assert confirmation["Subject"] == "Booked: Check-in with Dr. Ada 1"
    assert "Monday 30 November 2026, 11:00 (America/New_York)" in text_of(confirmation)
    assert re.search(r"/manage/\S+", text_of(confirmation))
    [invite] = confirmation.iter_attachments()
    assert invite.get_param("method") == "REQUEST"
    assert f"booking-{made['id']}@" in invite.get_content()


def test_an_api_move_and_cancel_tell_the_client_when_asked(api, provider_booking, smtp):
    made = provider_booking()
    moved = api.post(
        f"/api/v1/bookings/{made['id']}/reschedule",
        json={"start": (MONDAY_9AM + timedelta(hours=3)).isoformat(), "notify_client": True},
    )
    moved.close()
    assert moved.status_code == 200, moved.get_json()
    cancelled = api.post(f"/api/v1/bookings/{made['id']}/cancel", json={"notify_client": True})
    cancelled.close()
    assert cancelled.status_code == 200, cancelled.get_json()
    quiet = provider_booking(start=MONDAY_9AM + timedelta(hours=5))
    api.post(f"/api/v1/bookings/{quiet['id']}/cancel").close()
    new_time, cancellation = smtp.received
    assert new_time["Subject"] == "Moved: Check-in with Dr. Ada 1"
    assert "has moved to Monday 30 November 2026, 12:00 (America/New_York)" in text_of(new_time)
    assert cancellation["Subject"] == "Cancelled: Check-in with Dr. Ada 1"
    [withdrawn] = cancellation.iter_attachments()
    assert withdrawn.get_param("method") == "CANCEL"


def test_mail_handed_on_together_goes_over_one_connection_and_is_recorded_in_one_commit(
    app, link, smtp, monkeypatch
):
    monkeypatch.setattr("widget.outbox.GATHER_SECONDS", 30.0)  # nothing leaves until settled
    unsettled = FlaskClient(app)
    for hour in range(3):
        book(
            unsettled, link, email=f"v{hour}@example.com", start=MONDAY_9AM + timedelta(hours=hour)
        )
    assert smtp.received == []
    commits = []

    def count(connection: Any) -> None:
        commits.append(connection)

    event.listen(db.engine, "commit", count)
    try:
        with sql.statements() as sent:
            assert courier.settle(timeout=30)
    finally:
        event.remove(db.engine, "commit", count)
    assert sorted(m["To"] for m in smtp.received) == [f"v{h}@example.com" for h in range(3)]
    assert len(smtp.connections) == 1
    assert [s.split()[0] for s in sent if not s.startswith("BEGIN")] == ["UPDATE"]
    assert len(commits) == 1
    assert all(row.sent_at is not None for row in outbox())


def test_a_slow_mail_server_does_not_hold_up_the_worker_that_answered(app, link, smtp):
    smtp.gate = threading.Event()  # the server takes the message, then stalls
    unsettled = FlaskClient(app)
    try:
        book(unsettled, link)  # closing the answer only hands the mail on
        [row] = outbox()
        assert row.sent_at is None and smtp.received == []
        second = submit(
            unsettled, link, email="next@example.com", start=MONDAY_9AM + timedelta(hours=1)
        )
        assert second.status_code == 202, second.get_json()
        second.close()
    finally:
        smtp.gate.set()
    assert courier.settle(timeout=30)
    assert sorted(m["To"] for m in smtp.received) == ["next@example.com", "visitor@example.com"]


def test_a_webhook_receiver_that_hangs_does_not_hold_up_the_next_clients_email(
    app, api, link, smtp
):
    """Emails and webhook calls travel apart: a provider's receiver that takes a call and
    then hangs (up to its timeout) delays no client's confirmation."""
    hooks = Receiver()
    hooks.gate = threading.Event()
    subscribe(api, hooks, ["booking.created"])
    unsettled = FlaskClient(app)
    try:
        book(unsettled, link)
        wait_until(lambda: len(hooks.calls) == 1)  # the first call is being held now
        book(unsettled, link, email="next@example.com", start=MONDAY_9AM + timedelta(hours=1))
        wait_until(lambda: len(smtp.received) == 2)
        assert len(hooks.calls) == 1  # the second call still waits behind the first
    finally:
        hooks.gate.set()
        assert courier.settle(timeout=30)
        hooks.close()
    assert sorted(m["To"] for m in smtp.received) == ["next@example.com", "visitor@example.com"]
    assert len(hooks.calls) == 2


def test_a_worker_that_exits_sends_what_it_had_handed_on_first(app, database_url, smtp, tmp_path):
    """A restart or a deploy ends workers; their mail goes out before they do, not when the
    sweep finds it ten minutes later."""
    script = tmp_path / "worker.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from flask.testing import FlaskClient
            from widget import create_app, outbox
            from widget.clock import now
            from widget.domain import notify
            from widget.extensions import db
            from tests.conftest import app_config

            outbox.GATHER_SECONDS = 60.0  # only the exit can send it in time
            app = create_app(
                app_config({database_url!r}, WIDGET_SMTP_URL={smtp.url!r}, WTF_CSRF_ENABLED=False)
            )

            @app.post("/note")
            def note():
                notify.queue_email(
                    db.session, recipient="last@example.com", subject="Bye", text_body="Hi",
                    now=now(),
                )
                db.session.commit()
                return "", 204

            answer = FlaskClient(app).post("/note")
            assert answer.status_code == 204, answer.text
            answer.close()
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    [last] = smtp.received
    assert last["To"] == "last@example.com"
    [row] = outbox()
    assert row.sent_at is not None
