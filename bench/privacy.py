"""Does a public submission take as long for a client's email as for a stranger's?

Under email verification (DESIGN section 2, rule 3) a submission must do the same
work whoever the email belongs to. This times public submissions through the Flask
test client on the standard workload (verification switched to "email"), alternating
its 500 clients' emails with unknown ones on free slots, and prints the medians and
their ratio.  usage: python bench/privacy.py [--postgres URL]
"""

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from slots import ZONE, build_workload
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from widget import create_app
from widget.domain import links
from widget.extensions import db
from widget.models import AppointmentType, Provider, Verification

SUBMISSIONS = 400
KEY = "bench-key-0123456789abcdef"


def free_starts(count: int) -> list[datetime]:
    """Slots past the workload's 120 booked days, so every submission finds its slot free."""
    day = datetime.now(ZONE).date() + timedelta(days=122)
    starts: list[datetime] = []
    while len(starts) < count:
        if day.weekday() < 5:
            nine = datetime(day.year, day.month, day.day, 9, tzinfo=ZONE)
            starts += [nine + timedelta(minutes=30 * i) for i in range(16)]
        day += timedelta(days=1)
    return starts[:count]


def measure(url: str) -> dict[str, float]:
    _, type_id = build_workload(url)
    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "WIDGET_DEVELOPMENT_KEY": False,
        "SECRET_KEY": KEY,
        "RATELIMIT_ENABLED": False,
    }
    app = create_app(config)
    with app.app_context():
        check_in = db.session.get(AppointmentType, type_id)
        provider = db.session.get(Provider, check_in.provider_id)
        provider.public_booking_verification = Verification.email
        link = links.create_link(db.session, provider, type_ids=[type_id], now=datetime.now(UTC))
        db.session.commit()
        token = links.token_for(link, [KEY])
        db.session.remove()

    http = app.test_client()
    timings: dict[str, list[float]] = {"client": [], "stranger": []}
    for i, start in enumerate(free_starts(SUBMISSIONS)):
        who = "client" if i % 2 else "stranger"
        email = f"c{i % 500}@example.com" if who == "client" else f"nobody{i}@example.com"
        body = {"appointment_type_id": type_id, "start": start.isoformat(), "name": "V"}
        began = time.perf_counter()
        response = http.post(f"/api/v1/links/{token}/bookings", json={**body, "email": email})
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
