"""Webhooks: a provider's endpoint on loopback hears about bookings and credits, signed,
after the change commits, and again later if it was down."""

import hashlib
import hmac
import json
import socket
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest

from widget.extensions import db
from widget.models import WebhookDelivery

from .blueprints.api.helpers import created, expect_error, invalid_fields, ok, post_booking

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("America/New_York"))
WEEK = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}


class Receiver:
    """An HTTP server on a free loopback port that records what it is sent."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.status = 200
        self.location: str | None = None  # sent with the status, for a redirect
        self.gate: threading.Event | None = None  # when set: answer only once it opens
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append({"headers": dict(self.headers), "body": body})
                if receiver.gate is not None:
                    receiver.gate.wait(timeout=10)
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:  # noqa: N802
                receiver.calls.append({"headers": dict(self.headers), "body": b""})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[str]:
        return [json.loads(call["body"])["type"] for call in self.calls]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def practice(api, make_type, make_client, make_package, buy):
    ok(api.put("/api/v1/availability", json={"weekly": WEEK}))
    follow_up = make_type(duration_minutes=30)
    person = make_client()
    buy(person["id"], make_package([{"appointment_type_id": follow_up["id"], "quantity": 2}])["id"])
    return follow_up, person


def subscribe(api, receiver, events, *, host=None):
    """An endpoint at the receiver, reached by `host` instead of 127.0.0.1 when given."""
    url = receiver.url.replace("127.0.0.1", host) if host else receiver.url
    return created(api.post("/api/v1/webhooks", json={"url": url, "events": events}))


def book(api, follow_up, person):
    response = post_booking(api, person["id"], follow_up["id"], MONDAY.isoformat())
    response.close()  # the server hands committed rows on when it closes the response
    return created(response)


def test_a_booking_is_announced_signed_after_it_commits(api, receiver, practice):
    follow_up, person = practice
    hook = subscribe(api, receiver, ["booking.created", "booking.confirmed", "credits.changed"])
    made = book(api, follow_up, person)
    assert receiver.events() == ["credits.changed", "booking.created", "booking.confirmed"]
    call = receiver.calls[1]
    body = json.loads(call["body"])
    assert body["data"]["id"] == made["id"] and body["data"]["client_id"] == person["id"]
    stamp, signature = (
        part.split("=", 1)[1] for part in call["headers"]["Widget-Signature"].split(",")
    )
    expected = hmac.new(
        hook["secret"].encode(), f"{stamp}.".encode() + call["body"], hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(signature, expected)
    assert call["headers"]["Widget-Event"] == "booking.created"
    credits = json.loads(receiver.calls[0]["body"])["data"]
    assert (credits["kind"], credits["delta"], credits["balance"]) == ("booking", -1, 1)
    assert credits["booking_id"] == made["id"] and credits["lot_id"] is not None


def test_an_endpoint_hears_only_the_events_it_chose(api, receiver, practice):
    follow_up, person = practice
    subscribe(api, receiver, ["booking.cancelled"])
    made = book(api, follow_up, person)
    assert receiver.events() == []
    api.post(f"/api/v1/bookings/{made['id']}/cancel").close()
    assert receiver.events() == ["booking.cancelled"]
    assert json.loads(receiver.calls[0]["body"])["data"]["status"] == "cancelled"


def test_a_move_tells_the_receiver_the_new_times_and_the_old(api, receiver, practice):
    follow_up, person = practice
    subscribe(api, receiver, ["booking.rescheduled"])
    made = book(api, follow_up, person)
    later = MONDAY + timedelta(hours=2)
    moved = api.post(f"/api/v1/bookings/{made['id']}/reschedule", json={"start": later.isoformat()})
    moved.close()
    assert moved.status_code == 200, moved.get_json()
    assert receiver.events() == ["booking.rescheduled"]
    data = json.loads(receiver.calls[0]["body"])["data"]
    assert data["id"] == made["id"] and data["status"] == "confirmed"
    assert datetime.fromisoformat(data["start"]) == later
    assert datetime.fromisoformat(data["previous_start"]) == MONDAY
    assert datetime.fromisoformat(data["previous_end"]) == MONDAY + timedelta(minutes=30)


def test_a_refused_booking_announces_nothing(api, receiver, practice, make_client):
    follow_up, _ = practice
    subscribe(api, receiver, ["booking.created", "credits.changed"])
    broke = make_client()
    response = api.post(
        "/api/v1/bookings",
        json={
            "client_id": broke["id"],
            "appointment_type_id": follow_up["id"],
            "start": MONDAY.isoformat(),
        },
    )
    response.close()
    expect_error(response, 403, "insufficient_credits")
    assert receiver.calls == []
    assert db.session.scalar(db.select(db.func.count()).select_from(WebhookDelivery)) == 0


def test_an_endpoint_that_was_down_gets_the_event_later(app, api, receiver, practice, clock):
    follow_up, person = practice
    hook = subscribe(api, receiver, ["booking.created"])
    receiver.status = 500
    book(api, follow_up, person)
    log = ok(api.get(f"/api/v1/webhooks/{hook['id']}/deliveries"))["deliveries"]
    assert [(d["attempts"], d["last_status"], d["delivered_at"]) for d in log] == [(1, 500, None)]
    receiver.status = 204
    clock.advance(minutes=1)
    result = app.test_cli_runner().invoke(args=["outbox", "deliver"])
    assert "webhook_deliveries: 1 sent" in result.output
    log = ok(api.get(f"/api/v1/webhooks/{hook['id']}/deliveries"))["deliveries"]
    assert [(d["attempts"], d["last_status"]) for d in log] == [(2, 204)]
    assert log[0]["delivered_at"] is not None
    assert len(receiver.calls) == 2


def test_an_endpoint_down_for_three_days_is_given_up_on_and_the_log_says_so(
    app, api, receiver, practice, clock
):
    follow_up, person = practice
    hook = subscribe(api, receiver, ["booking.created"])
    receiver.status = 503
    book(api, follow_up, person)
    runner = app.test_cli_runner()
    made = clock.now
    while clock.now - made < timedelta(days=3):
        clock.advance(hours=1)
        runner.invoke(args=["outbox", "deliver"])
    [delivery] = ok(api.get(f"/api/v1/webhooks/{hook['id']}/deliveries"))["deliveries"]
    assert delivery["given_up_at"] is not None and delivery["next_attempt_at"] is None
    assert delivery["delivered_at"] is None and delivery["last_status"] == 503
    calls = len(receiver.calls)
    receiver.status = 204
    clock.advance(hours=2)
    assert "webhook_deliveries: 0 sent" in runner.invoke(args=["outbox", "deliver"]).output
    assert len(receiver.calls) == calls


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"url": "ftp://x", "events": ["booking.created"]}, {"url"}),
        ({"url": "https://clinic.example/h", "events": []}, {"events"}),
        ({"url": "https://clinic.example/h", "events": ["booking.exploded"]}, {"events"}),
        ({"events": ["booking.created"]}, {"url"}),
        # Addresses urllib would fail on at every attempt for three days.
        ({"url": "https://clinic.example/hooks/café", "events": ["booking.created"]}, {"url"}),
        ({"url": "https://hook:s3cret@clinic.example/h", "events": ["booking.created"]}, {"url"}),
    ],
)
def test_bad_endpoints_are_refused_with_the_field_named(api, body, fields):
    assert invalid_fields(api.post("/api/v1/webhooks", json=body)) == fields


def test_another_providers_endpoint_is_not_found(api, create_provider, receiver):
    hook = subscribe(api, receiver, ["booking.created"])
    stranger = create_provider().api
    expect_error(stranger.delete(f"/api/v1/webhooks/{hook['id']}"), 404, "not_found")
    expect_error(stranger.get(f"/api/v1/webhooks/{hook['id']}/deliveries"), 404, "not_found")
    assert ok(api.delete(f"/api/v1/webhooks/{hook['id']}"))["id"] == hook["id"]
    assert ok(api.get("/api/v1/webhooks"))["webhooks"] == []


def test_an_endpoint_added_in_the_same_transaction_hears_the_booking_that_follows(
    app, provider, practice, receiver, clock
):
    """The provider row says whether any endpoint listens; adding one must not leave it
    saying no for the rest of the transaction."""
    from widget.domain import booking, webhooks
    from widget.models import Channel, Provider

    follow_up, person = practice
    owner = db.session.get(Provider, provider.id)
    assert owner.has_webhooks is False
    webhooks.create_endpoint(
        db.session, owner, url=receiver.url, events=["booking.created"], now=clock.now
    )
    client, kind = booking.client_and_type(db.session, owner, person["id"], follow_up["id"])
    made = booking.book(
        db.session,
        owner,
        kind,
        start=MONDAY,
        channel=Channel.provider,
        now=clock.now,
        client=client,
    )
    db.session.commit()
    [delivery] = db.session.scalars(db.select(WebhookDelivery))
    assert (delivery.event, delivery.payload["data"]["id"]) == ("booking.created", made.id)


def test_a_redirect_is_an_answer_other_than_2xx_and_is_retried(api, receiver, practice):
    # Followed, it would turn the POST into a GET without the body, logged as delivered.
    follow_up, person = practice
    hook = subscribe(api, receiver, ["booking.created"])
    receiver.status, receiver.location = 302, receiver.url + "/elsewhere"
    book(api, follow_up, person)
    [delivery] = ok(api.get(f"/api/v1/webhooks/{hook['id']}/deliveries"))["deliveries"]
    assert delivery["delivered_at"] is None and delivery["next_attempt_at"] is not None
    assert delivery["last_status"] == 302
    assert len(receiver.calls) == 1


def test_an_attempt_that_got_no_answer_shows_none_in_the_log(app, api, receiver, practice, clock):
    follow_up, person = practice
    hook = subscribe(api, receiver, ["booking.created"])
    receiver.status = 500
    book(api, follow_up, person)
    receiver.close()  # connection refused from now on
    clock.advance(minutes=1)
    app.test_cli_runner().invoke(args=["outbox", "deliver"])
    [delivery] = ok(api.get(f"/api/v1/webhooks/{hook['id']}/deliveries"))["deliveries"]
    assert delivery["attempts"] == 2 and "refused" in delivery["last_error"].lower()
    assert delivery["last_status"] is None


def test_booking_cancelled_says_whether_the_credit_came_back(api, receiver, practice):
    follow_up, person = practice
    subscribe(api, receiver, ["booking.cancelled"])
    made = book(api, follow_up, person)
    response = api.post(f"/api/v1/bookings/{made['id']}/cancel", json={"late": True})
    response.close()
    answer = ok(response)
    data = json.loads(receiver.calls[0]["body"])["data"]
    assert (data["credit_refunded"], data["late_cancellation"]) == (False, True)
    assert data["credit_refunded"] == answer["credit_refunded"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "169.254.169.254", "10.0.0.1"])
def test_a_webhook_never_calls_into_the_network_widget_runs_in(app, api, receiver, practice, host):
    """A provider's endpoint URL must not reach the database, a metadata service or
    anything else only the server can see: such a call fails without being made."""
    app.config["WIDGET_WEBHOOK_PRIVATE_ADDRESSES"] = False
    follow_up, person = practice
    hook = subscribe(api, receiver, ["booking.created"], host=host)
    book(api, follow_up, person)
    assert receiver.calls == []
    [delivery] = ok(api.get(f"/api/v1/webhooks/{hook['id']}/deliveries"))["deliveries"]
    assert delivery["delivered_at"] is None and delivery["last_status"] is None
    assert "not a public address" in delivery["last_error"]


def test_a_host_with_a_public_address_is_called_at_that_address(
    app, api, receiver, practice, monkeypatch
):
    """The address checked is the address called (a private one beside it is skipped);
    the receiver still sees its own name."""
    app.config["WIDGET_WEBHOOK_PRIVATE_ADDRESSES"] = False
    public = "93.184.216.34"
    resolve, connect = socket.getaddrinfo, socket.create_connection

    def fake_dns(host, port, *args, **kwargs):
        if host == "hooks.example":
            private = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port))
            return [private, (socket.AF_INET, socket.SOCK_STREAM, 6, "", (public, port))]
        return resolve(host, port, *args, **kwargs)

    def routed(address, *args):  # this machine cannot reach the internet: loop it back
        host, port = address
        return connect(("127.0.0.1" if host == public else host, port), *args)

    monkeypatch.setattr(socket, "getaddrinfo", fake_dns)
    monkeypatch.setattr(socket, "create_connection", routed)
    follow_up, person = practice
    subscribe(api, receiver, ["booking.created"], host="hooks.example")
    book(api, follow_up, person)
    assert receiver.events() == ["booking.created"]
    port = receiver.server.server_address[1]
    assert receiver.calls[0]["headers"]["Host"] == f"hooks.example:{port}"
