"""Public endpoints are rate limited per visitor and link; limits can be switched off."""

import os
import random
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from widget import create_app
from widget.domain import providers
from widget.extensions import db

from ...conftest import app_config
from .helpers import expect_error

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("America/New_York"))


def _limited_app(database_url, clock, **config):
    limits = {
        "RATELIMIT_ENABLED": True,
        "WIDGET_RATELIMIT_SUBMIT": "2 per minute",
        "WIDGET_RATELIMIT_READ": "5 per minute",
        **config,
    }
    return create_app(app_config(database_url, WIDGET_CLOCK=clock, **limits))


@pytest.fixture
def limited(database_url, clock):
    app = _limited_app(database_url, clock)
    with app.app_context():
        created = providers.create_provider(
            db.session, name="Dr. Ada", email="ada@example.com", timezone="America/New_York"
        )
        created.provider.embed_allowed_origins = ["https://clinic.example"]
        db.session.commit()
        http = app.test_client()
        headers = {"Authorization": f"Bearer {created.api_key}"}
        kind = http.post(
            "/api/v1/appointment-types",
            json={
                "name": "Discovery",
                "duration_minutes": 30,
                "audience": "new_clients",
                "requires_credit": False,
            },
            headers=headers,
        ).get_json()
        links = [
            http.post(
                "/api/v1/share-links", json={"appointment_type_ids": [kind["id"]]}, headers=headers
            ).get_json()
            for _ in range(2)
        ]
        yield http, kind, links
        db.session.remove()
        db.engine.dispose()


def _submit(http, link, kind):
    body = {"appointment_type_id": kind["id"], "start": MONDAY.isoformat(), "name": "V"}
    return http.post(f"/api/v1/links/{link['token']}/bookings", json=body)


def test_too_many_submissions_on_a_link_are_refused_with_rate_limited(limited):
    http, kind, links = limited
    assert [_submit(http, links[0], kind).status_code for _ in range(2)] == [422, 422]
    response = _submit(http, links[0], kind)
    expect_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0


def test_another_link_has_its_own_submission_count(limited):
    http, kind, links = limited
    for _ in range(3):
        _submit(http, links[0], kind)
    assert _submit(http, links[1], kind).status_code == 422


def test_reading_public_links_is_limited_per_visitor(limited):
    http, _, links = limited
    answers = [http.get(f"/api/v1/links/{links[i % 2]['token']}").status_code for i in range(6)]
    assert answers == [200] * 5 + [429]


def test_the_confirmation_page_explains_a_rate_limit(limited):
    http, _, _ = limited
    answers = [http.get("/confirm/nonsense") for _ in range(6)]
    assert [a.status_code for a in answers] == [404] * 5 + [429]
    assert "rate_limited" in answers[-1].get_data(as_text=True)


def test_a_rate_limited_embed_page_still_shows_inside_the_providers_site(limited):
    http, _, links = limited
    answers = [http.get(f"/embed/{links[0]['token']}") for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert "rate_limited" in answers[-1].get_data(as_text=True)
    assert "https://clinic.example" in answers[-1].headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in answers[-1].headers


def test_limits_switched_off_never_refuse(database_url, clock):
    app = _limited_app(database_url, clock, RATELIMIT_ENABLED=False)
    with app.app_context():
        http = app.test_client()
        assert {http.get("/api/v1/links/nonsense").status_code for _ in range(8)} == {404}
        db.engine.dispose()


REDIS_URL = os.environ.get("WIDGET_TEST_REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="WIDGET_TEST_REDIS_URL is not set (CI sets it)")
def test_processes_sharing_redis_share_their_counts(database_url, clock):
    """Two app instances stand for two gunicorn workers: the second sees the first's count."""
    visitor = {"REMOTE_ADDR": f"10.{random.randrange(256)}.{random.randrange(256)}.7"}
    answers = []
    for _ in range(2):
        app = _limited_app(database_url, clock, RATELIMIT_STORAGE_URI=REDIS_URL)
        with app.app_context():
            http = app.test_client()
            for _ in range(3):
                response = http.get("/api/v1/links/nonsense", environ_base=visitor)
                answers.append(response.status_code)
            db.engine.dispose()
    assert answers == [404] * 5 + [429]
