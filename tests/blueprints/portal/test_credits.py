"""Credits in the portal: a balance per appointment type, and a history that says in words
what caused each entry, with the running balance, and why a balance is below zero."""

import re
from html import unescape
from typing import Any

import pytest

from .conftest import at, book_as_provider, log_in, ok, post, text


def history(portal: Any, slug: str, type_id: int) -> list[tuple[str, str | None, str]]:
    """Each line of the history, newest first: what happened, its detail, the balance after."""
    html = text(portal.get(f"/portal/{slug}/credits/{type_id}"))
    rows = re.findall(
        r'<p class="history-text">(.*?)</p>(?:<p class="muted small">(.*?)</p>)?</td>\s*'
        r'<td class="num"><span class="balance[^"]*" data-balance="(-?\d+)"',
        html,
    )
    return [(unescape(t), unescape(d) if d else None, b) for t, d, b in rows]


def summary(portal: Any, slug: str, type_id: int) -> str:
    html = text(portal.get(f"/portal/{slug}/credits/{type_id}"))
    return unescape(re.search(r"<p class=\"summary-line[^\"]*\" data-summary>(.*?)</p>", html)[1])


def book(portal: Any, slug: str, type_id: int, start: Any) -> None:
    response = post(portal, f"/portal/{slug}/book", {"type": type_id, "start": start.isoformat()})
    assert response.status_code == 302, text(response)


def booking_ids(api: Any) -> list[int]:
    return [b["id"] for b in api.get("/api/v1/bookings").get_json()["bookings"]]


def test_the_home_page_shows_each_balance_with_a_link_to_its_history(portal, slug, follow_up):
    html = text(portal.get(f"/portal/{slug}/"))
    assert f'data-type-id="{follow_up["id"]}"' in html
    assert 'data-balance="2"' in html
    assert f'href="/portal/{slug}/credits/{follow_up["id"]}"' in html


def test_a_purchase_reads_as_the_package_bought_and_its_credits(portal, slug, follow_up):
    assert history(portal, slug, follow_up["id"]) == [
        ("Bought package 'Spring Reset' on 24 Nov: +2", None, "2")
    ]
    assert summary(portal, slug, follow_up["id"]) == (
        "You have 2 credits for Follow-Up: each pays for one session."
    )


def test_a_booking_reads_as_the_appointment_it_paid_for(portal, slug, follow_up):
    book(portal, slug, follow_up["id"], at(9))
    assert history(portal, slug, follow_up["id"])[0] == ("Follow-Up on 30 Nov: -1", None, "1")


def test_an_early_cancellation_reads_as_a_refund(portal, slug, api, follow_up):
    book(portal, slug, follow_up["id"], at(9))
    [booking_id] = booking_ids(api)
    post(portal, f"/portal/{slug}/bookings/{booking_id}/cancel")
    assert history(portal, slug, follow_up["id"])[0] == (
        "Cancelled on 24 Nov: +1, credit refunded",
        "Follow-Up on 30 Nov at 09:00",
        "2",
    )


def test_a_late_cancellation_reads_as_a_forfeited_credit(portal, slug, api, follow_up):
    book(portal, slug, follow_up["id"], at(14, day=-6))  # today, Tuesday 24 November
    [booking_id] = booking_ids(api)
    post(portal, f"/portal/{slug}/bookings/{booking_id}/cancel")
    assert history(portal, slug, follow_up["id"])[:2] == [
        (
            "Cancelled late on 24 Nov: credit forfeited",
            "Follow-Up on 24 Nov at 14:00, inside the late-cancellation window.",
            "1",
        ),
        ("Follow-Up on 24 Nov: -1", None, "1"),
    ]


def test_a_providers_cancellations_name_the_provider(portal, slug, api, customer, follow_up):
    early = book_as_provider(api, customer["id"], follow_up["id"], at(9))
    late = book_as_provider(api, customer["id"], follow_up["id"], at(11, 30))
    ok(api.post(f"/api/v1/bookings/{early['id']}/cancel", json={}))
    ok(api.post(f"/api/v1/bookings/{late['id']}/cancel", json={"late": True}))
    lines = history(portal, slug, follow_up["id"])
    assert lines[0] == (
        "Cancelled late on 24 Nov: credit forfeited",
        "Follow-Up on 30 Nov at 11:30, marked a late cancellation by Dr. Ada.",
        "1",
    )
    assert lines[1] == (
        "Cancelled by Dr. Ada on 24 Nov: +1, credit refunded",
        "Follow-Up on 30 Nov at 09:00",
        "1",
    )
    assert lines[3] == ("Follow-Up on 30 Nov: -1", "Booked for you by Dr. Ada.", "1")


def test_an_adjustment_reads_with_who_made_it_and_their_note(
    portal, slug, api, customer, follow_up
):
    path = f"/api/v1/clients/{customer['id']}/credits/{follow_up['id']}/adjustments"
    assert api.post(path, json={"delta": 1, "note": "goodwill"}).status_code == 201
    assert history(portal, slug, follow_up["id"])[0] == (
        "Adjusted by Dr. Ada: +1, 'goodwill'",
        None,
        "3",
    )


def test_expired_credits_read_as_expired_with_the_package_they_came_from(
    client, slug, make_client, make_package, buy, follow_up, clock
):
    expiring = make_package(
        [{"appointment_type_id": follow_up["id"], "quantity": 2, "expires_after_days": 30}]
    )
    person = make_client(email="ivy@example.com", name="Ivy")
    buy(person["id"], expiring["id"])
    clock.advance(days=40)  # into 2027: dates from last year carry their year
    log_in(client, slug, person["email"])
    assert history(client, slug, follow_up["id"]) == [
        (
            "2 unused credits expired on 24 Dec 2026: -2",
            "From package 'Spring Reset', bought on 24 Nov 2026.",
            "0",
        ),
        (
            "Bought package 'Spring Reset' on 24 Nov 2026: +2",
            "These credits expire on 24 Dec 2026.",
            "2",
        ),
    ]
    assert summary(client, slug, follow_up["id"]) == (
        "You have no credits for Follow-Up. Buy a package from Dr. Ada to book it."
    )


@pytest.fixture
def owing(client, slug, api, make_client, make_type, make_package, buy, follow_up):
    """An existing client with no Follow-Up credit who booked one on the negative limit."""
    ok(api.patch("/api/v1/settings", json={"negative_credit_limit": 2}))
    massage = make_type(name="Massage")
    person = make_client(email="zoe@example.com", name="Zoe")
    buy(person["id"], make_package([{"appointment_type_id": massage["id"], "quantity": 1}])["id"])
    log_in(client, slug, person["email"])
    book(client, slug, follow_up["id"], at(9))
    return person


def test_a_negative_balance_is_explained_in_plain_words(client, slug, follow_up, owing):
    assert history(client, slug, follow_up["id"])[0] == (
        "Follow-Up on 30 Nov: -1",
        "Booked before buying credits: the balance went below zero.",
        "-1",
    )
    assert summary(client, slug, follow_up["id"]) == (
        "Your balance is -1: you have had 1 session of Follow-Up that no credit has paid "
        "for yet. This is because Dr. Ada lets you book up to 2 sessions before buying "
        "credits. The next package you buy pays for it first."
    )
    home = text(client.get(f"/portal/{slug}/"))
    assert '<span class="balance negative" data-balance="-1">-1</span>' in home


def test_a_provider_override_is_named_as_the_cause_of_a_negative_balance(
    client, slug, api, follow_up, owing
):
    ok(api.patch("/api/v1/settings", json={"negative_credit_limit": 0}))
    book_as_provider(api, owing["id"], follow_up["id"], at(11, 30), allow_negative=True)
    assert history(client, slug, follow_up["id"])[0] == (
        "Follow-Up on 30 Nov: -1",
        "Booked by Dr. Ada beyond the credit limit.",
        "-2",
    )
    assert "Dr. Ada booked a session for you beyond the credit limit" in summary(
        client, slug, follow_up["id"]
    )


def test_a_purchase_while_owing_says_what_it_paid_back(
    client, slug, buy, spring_reset, follow_up, owing
):
    buy(owing["id"], spring_reset["id"])
    assert history(client, slug, follow_up["id"])[0] == (
        "Bought package 'Spring Reset' on 24 Nov: +2",
        "1 credit paid for a session already had.",
        "1",
    )


def test_a_type_without_entries_has_an_empty_history(portal, slug, make_type):
    massage = make_type(name="Massage")
    html = text(portal.get(f"/portal/{slug}/credits/{massage['id']}"))
    assert "No credits have come in or gone out for Massage yet." in html
    assert 'data-balance="0"' in html
