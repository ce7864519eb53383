"""`widget demo`: a practice to click through, seeded once, with clients in every credit state."""

import re

from widget.extensions import db
from widget.models import Client, Provider


def run_demo(app, *args):
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve", *args])
    assert result.exit_code == 0, result.output
    return result.output


def balances(api_key, client):
    headers = {"Authorization": f"Bearer {api_key}"}
    found = {}
    for person in client.get("/api/v1/clients", headers=headers).get_json()["clients"]:
        rows = client.get(f"/api/v1/clients/{person['id']}/credits", headers=headers).get_json()
        found[person["email"]] = [row["balance"] for row in rows["credits"]]
    return found


def test_the_demo_seeds_a_practice_with_clients_in_every_credit_state(app, client):
    output = run_demo(app)
    assert "Widget demo seeded" in output
    key = re.search(r"API key:\s+(\S+)", output).group(1)
    assert balances(key, client) == {
        "kim@example.com": [3],
        "lee@example.com": [0],
        "sam@example.com": [-1],
    }
    headers = {"Authorization": f"Bearer {key}"}
    names = [
        t["name"]
        for t in client.get("/api/v1/appointment-types", headers=headers).get_json()[
            "appointment_types"
        ]
    ]
    assert names == ["Discovery Call", "Initial Consultation", "Follow-Up"]


def test_running_the_demo_twice_duplicates_nothing(app):
    run_demo(app)
    assert "found" in run_demo(app)
    assert db.session.scalar(db.select(db.func.count()).select_from(Provider)) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(Client)) == 3


def test_reset_starts_over(app, client):
    first = run_demo(app)
    again = run_demo(app, "--reset")
    assert "Widget demo seeded" in again
    assert re.search(r"API key:\s+(\S+)", first).group(1) != re.search(
        r"API key:\s+(\S+)", again
    ).group(1)
    assert db.session.scalar(db.select(db.func.count()).select_from(Client)) == 3


def test_the_printed_urls_work(app, client):
    output = run_demo(app)
    for label in (
        "sample website",
        "booking page",
        "dashboard",
        "client portal",
        "Kim's magic link",
    ):
        url = re.search(rf"{label}:\s+http://127\.0\.0\.1:5000(\S+)", output).group(1)
        assert client.get(url, follow_redirects=True).status_code == 200, (label, url)
    site = client.get("/demo/").get_data(as_text=True)
    assert 'data-widget-link="' in site and 'src="/embed.js"' in site


def test_the_sample_website_exists_only_in_the_demo(client):
    assert client.get("/demo/").status_code == 404
