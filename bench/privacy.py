"""Does a public submission take as long for a client's email as for a stranger's?

Under email verification (DESIGN section 2, rule 3) a submission must do the same
work whoever the email belongs to. This times public submissions through the Flask
test client on the standard workload (verification switched to "email"), alternating
its 500 clients' emails with unknown ones on free slots, and prints the medians and
their ratio.  usage: python bench/privacy.py [--postgres URL]
"""

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workload import SECRET_KEY, ZONE, Databases, bench_app  # noqa: E402

from widget.domain import links  # noqa: E402
from widget.extensions import db  # noqa: E402
from widget.models import AppointmentType, Provider, Verification  # noqa: E402

SUBMISSIONS = 400


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


def measure(url: str, type_id: int) -> dict[str, float]:
    app = bench_app(url)
    with app.app_context():
        check_in = db.session.get(AppointmentType, type_id)
        provider = db.session.get(Provider, check_in.provider_id)
        provider.public_booking_verification = Verification.email
        link = links.create_link(db.session, provider, type_ids=[type_id], now=datetime.now(UTC))
        db.session.commit()
        token = links.token_for(link, [SECRET_KEY])
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
    engines = [("sqlite", None)] + ([("postgresql", args.postgres)] if args.postgres else [])
    for engine, server in engines:
        with Databases(engine, server) as databases:
            assert databases.workload is not None
            results[engine] = measure(databases.fresh_copy(), databases.workload.type_id)
    print(f"{'engine':<10} {'client email ms':>16} {'unknown email ms':>17} {'ratio':>7}")
    for engine, r in results.items():
        client_ms, unknown_ms = r["client_email_ms"], r["unknown_email_ms"]
        print(f"{engine:<10} {client_ms:>16.2f} {unknown_ms:>17.2f} {r['ratio']:>7.2f}")


if __name__ == "__main__":
    main()
