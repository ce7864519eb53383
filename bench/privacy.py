"""Does a public submission take as long for a client's email as for a stranger's?

Under email verification (DESIGN section 2, rule 3) a submission must do the same
work whoever the email belongs to. This times public submissions through the Flask
test client on the BENCH.md provider (verification switched to "email"), alternating
500 clients' emails with unknown ones on distinct slots, and prints the medians and
their ratio.  usage: python bench/privacy.py [--postgres URL]
"""

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import flask_migrate
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from widget import create_app
from widget.domain import links, providers, schedule
from widget.extensions import db
from widget.models import AppointmentType, Audience, Client, Verification

ZONE = ZoneInfo("America/New_York")
SUBMISSIONS = 400


def measure(url: str) -> dict[str, float]:
    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "WIDGET_DEVELOPMENT_KEY": False,
        "SECRET_KEY": "bench-key-0123456789abcdef",
        "RATELIMIT_ENABLED": False,
    }
    app = create_app(config)
    with app.app_context():
        flask_migrate.upgrade()
        provider = providers.create_provider(
            db.session, name="Bench Clinic", email="bench@example.com", timezone=ZONE.key
        ).provider
        provider.public_links_new_client_only = False
        provider.public_booking_verification = Verification.email
        schedule.replace_availability(
            db.session,
            provider,
            weekly={
                d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")
            },
            exceptions=[],
        )
        check_in = AppointmentType(
            provider_id=provider.id,
            name="Check-in",
            duration_minutes=30,
            audience=Audience.everyone,
            requires_credit=True,
            slot_step_minutes=30,
            max_days_ahead=180,
        )
        db.session.add(check_in)
        db.session.add_all(
            Client(provider_id=provider.id, email=f"c{i}@example.com", name=f"Client {i}")
            for i in range(500)
        )
        db.session.flush()
        link = links.create_link(
            db.session, provider, type_ids=[check_in.id], now=datetime.now(UTC)
        )
        db.session.commit()
        token = links.token_for(link, [config["SECRET_KEY"]])
        type_id = check_in.id
        db.session.remove()

    http = app.test_client()
    day = datetime.now(ZONE).date() + timedelta(days=1)
    starts = []
    while len(starts) < SUBMISSIONS:
        if day.weekday() < 5:
            starts += [
                datetime(day.year, day.month, day.day, 9, tzinfo=ZONE) + timedelta(minutes=30 * i)
                for i in range(16)
            ]
        day += timedelta(days=1)
    timings: dict[str, list[float]] = {"client": [], "stranger": []}
    for i, start in enumerate(starts[:SUBMISSIONS]):
        who = "client" if i % 2 else "stranger"
        email = f"c{i % 500}@example.com" if who == "client" else f"nobody{i}@example.com"
        began = time.perf_counter()
        response = http.post(
            f"/api/v1/links/{token}/bookings",
            json={
                "appointment_type_id": type_id,
                "start": start.isoformat(),
                "name": "V",
                "email": email,
            },
        )
        timings[who].append((time.perf_counter() - began) * 1000)
        assert response.status_code == 202, response.get_json()
    with app.app_context():
        db.engine.dispose()
    client_ms = statistics.median(timings["client"])
    stranger_ms = statistics.median(timings["stranger"])
    return {
        "client_email_ms": client_ms,
        "unknown_email_ms": stranger_ms,
        "ratio": client_ms / stranger_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", help="a PostgreSQL server URL; a throwaway database is made")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = measure(f"sqlite:///{Path(folder) / 'privacy.db'}")
    if args.postgres:
        name = f"widget_bench_privacy_{int(time.time())}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
            results["postgres"] = measure(url)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"{'engine':<10} {'client email ms':>16} {'unknown email ms':>17} {'ratio':>7}")
    for engine, r in results.items():
        client_ms, unknown_ms = r["client_email_ms"], r["unknown_email_ms"]
        print(f"{engine:<10} {client_ms:>16.2f} {unknown_ms:>17.2f} {r['ratio']:>7.2f}")


if __name__ == "__main__":
    main()
