"""Clients in the dashboard: search, profiles, purchases, archived packages, credit history."""

import re
from functools import partial

from tests import sql
from widget.domain import clients

from .conftest import field_error, value_of, words


def balance_on(html: str, type_id: int) -> int:
    row = re.search(rf'<tr data-type="{type_id}">.*?data-balance="(-?\d+)"', html, re.S)
    assert row, "no balance row for this type"
    return int(row.group(1))


def test_clients_are_found_by_part_of_their_name_or_email(dashboard, make_client):
    make_client(name="Grace Hopper", email="grace@navy.example")
    make_client(name="Alan Turing", email="alan@bletchley.example")
    by_name = words(dashboard.page("/admin/clients", q="hopp"))
    assert "Grace Hopper" in by_name and "Alan Turing" not in by_name
    by_email = words(dashboard.page("/admin/clients", q="BLETCHLEY"))
    assert "Alan Turing" in by_email and "Grace Hopper" not in by_email
    assert "No client matches" in words(dashboard.page("/admin/clients", q="nobody"))


def test_adding_a_client_opens_their_profile(dashboard, api):
    page = dashboard.follow("/admin/clients", {"name": "Ada", "email": " ADA@Example.com "})
    assert "Added Ada." in words(page) and "ada@example.com" in page
    assert api.get("/api/v1/clients", email="ada@example.com").get_json()["clients"]


def test_a_bad_client_email_is_shown_beside_the_field_with_what_was_typed(dashboard, grace):
    response = dashboard.post("/admin/clients", {"name": "Eve <3", "email": "not-an-email"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "email")
    assert value_of(html, "email") == "not-an-email"
    assert value_of(html, "name") == "Eve <3"
    taken = dashboard.post("/admin/clients", {"name": "G", "email": grace["email"]})
    html = taken.get_data(as_text=True)
    assert "exists already" in field_error(html, "email")


def test_recording_a_purchase_shows_the_grants_and_the_balance(dashboard, grace, spring, follow_up):
    page = dashboard.follow(f"/admin/clients/{grace['id']}/packages", {"package_id": spring["id"]})
    assert "Recorded 'Spring Reset' for Grace Hopper: +4 Follow-Up." in words(page)
    row = re.search(r"<tr data-client-package=.*?</tr>", page, re.S).group(0)
    assert "+4 Follow-Up" in words(row) and "Active" in words(row)
    assert balance_on(page, follow_up["id"]) == 4
    assert "Existing client" in words(page)


def test_a_purchase_without_a_package_is_refused_beside_the_field(dashboard, grace, spring, api):
    response = dashboard.post(f"/admin/clients/{grace['id']}/packages", {"package_id": ""})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "package_id")
    assert api.get(f"/api/v1/clients/{grace['id']}/packages").get_json()["client_packages"] == []


def test_archiving_or_deleting_a_package_keeps_its_credits_and_says_so(
    dashboard, grace, spring, buy, follow_up, api
):
    bought = buy(grace["id"], spring["id"])
    profile = f"/admin/clients/{grace['id']}"
    assert "the credits it granted stay" in words(dashboard.page(profile))

    page = dashboard.follow(f"/admin/client-packages/{bought['id']}/archive")
    assert "Archived 'Spring Reset'. Its credits stay with the client" in words(page)
    assert balance_on(page, follow_up["id"]) == 4
    row = re.search(r"<tr data-client-package=.*?</tr>", page, re.S).group(0)
    assert "Archived" in words(row) and "Archive" not in words(row).replace("Archived", "")

    page = dashboard.follow(f"/admin/client-packages/{bought['id']}/delete")
    assert "Deleted 'Spring Reset'. Its credits stay with the client" in words(page)
    assert balance_on(page, follow_up["id"]) == 4
    history = api.get(f"/api/v1/clients/{grace['id']}/credits/{follow_up['id']}").get_json()
    assert [e["kind"] for e in history["history"]] == ["package_grant"]


def test_the_history_shows_each_cause_with_its_running_balance(
    dashboard, grace, spring, buy, follow_up, api, open_week
):
    buy(grace["id"], spring["id"])
    booked = api.post(
        "/api/v1/bookings",
        json={
            "client_id": grace["id"],
            "appointment_type_id": follow_up["id"],
            "start": "2026-11-30T09:00:00-05:00",
        },
    ).get_json()
    api.post(f"/api/v1/bookings/{booked['id']}/cancel", json={"late": True})
    page = dashboard.page(f"/admin/clients/{grace['id']}/credits/{follow_up['id']}")
    rows = re.findall(r'<tr data-kind="(\w+)">(.*?)</tr>', page, re.S)
    assert [(kind, re.findall(r'data-balance-after="(-?\d+)"', row)) for kind, row in rows] == [
        ("late_cancellation", ["3"]),
        ("booking", ["3"]),
        ("package_grant", ["4"]),
    ]
    text = words(page)
    assert "Bought package 'Spring Reset' on 24 Nov: +4" in text
    assert "Cancelled late on 24 Nov: credit forfeited" in text


def test_a_manual_adjustment_needs_a_note_and_keeps_what_was_typed(dashboard, grace, follow_up):
    path = f"/admin/clients/{grace['id']}/credits/{follow_up['id']}"
    response = dashboard.post(path, {"delta": "2", "note": "   "})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "note") == "Must not be empty."
    assert value_of(html, "delta") == "2"
    response = dashboard.post(path, {"delta": "two", "note": "goodwill"})
    html = response.get_data(as_text=True)
    assert field_error(html, "delta") == "Must be a whole number."
    assert value_of(html, "note") == "goodwill"
    assert "Must not be zero." in field_error(
        dashboard.post(path, {"delta": "0", "note": "x"}).get_data(as_text=True), "delta"
    )


def test_a_manual_adjustment_changes_the_balance_and_names_who_made_it(
    dashboard, grace, follow_up, api
):
    path = f"/admin/clients/{grace['id']}/credits/{follow_up['id']}"
    page = dashboard.follow(path, {"delta": "-1", "note": "booked by phone"})
    assert "Adjusted by -1. The balance is now -1." in words(page)
    assert "Adjusted by Dr. Ada 1: -1, 'booked by phone'" in words(page)
    entry = api.get(f"/api/v1/clients/{grace['id']}/credits/{follow_up['id']}").get_json()
    assert entry["balance"] == -1
    assert entry["history"][0]["note"] == "booked by phone"


# Search


def listed(html: str) -> list[str]:
    """The names in the client table, top to bottom."""
    return re.findall(r'<td><a href="/admin/clients/\d+">([^<]*)</a></td>', html)


def test_a_search_matches_part_of_a_name_or_an_email_in_any_case(dashboard, make_client):
    make_client(name="Grace Hopper", email="grace@navy.example")
    make_client(name="Alan Turing", email="alan@bletchley.example")
    make_client(name="Ada Lovelace", email="countess@analytical.example")
    assert listed(dashboard.page("/admin/clients", q="gRACE hOP")) == ["Grace Hopper"]
    assert listed(dashboard.page("/admin/clients", q="Navy.Ex")) == ["Grace Hopper"]
    assert listed(dashboard.page("/admin/clients", q="a")) == [
        "Grace Hopper",
        "Alan Turing",
        "Ada Lovelace",
    ]
    # every word must be found, in the name or the email
    assert listed(dashboard.page("/admin/clients", q="ada analytical")) == ["Ada Lovelace"]
    assert listed(dashboard.page("/admin/clients", q="ada navy")) == []
    page = words(dashboard.page("/admin/clients", q="  ALAN  "))
    assert "1 match for “ALAN”" in page and "3 clients" in page


def test_percent_and_underscore_in_a_search_mean_themselves(dashboard, make_client):
    make_client(name="Grace Hopper", email="grace@navy.example")
    make_client(name="Ann Lee", email="ann_lee@example.com")
    make_client(name="100% Fit", email="fit@example.com")
    make_client(name="Back\\slash", email="slash@example.com")
    assert listed(dashboard.page("/admin/clients", q="_")) == ["Ann Lee"]
    assert listed(dashboard.page("/admin/clients", q="%")) == ["100% Fit"]
    assert listed(dashboard.page("/admin/clients", q="n_l")) == ["Ann Lee"]
    assert listed(dashboard.page("/admin/clients", q="0%")) == ["100% Fit"]
    assert listed(dashboard.page("/admin/clients", q="\\")) == ["Back\\slash"]
    assert listed(dashboard.page("/admin/clients", q="/")) == []
    assert "No client matches “%_”" in words(dashboard.page("/admin/clients", q="%_"))


def test_every_client_is_listed_oldest_first_even_with_only_archived_packages(
    dashboard, make_client, spring, buy
):
    """Clients themselves are never archived: the list shows them all, and a package that
    was archived still makes its client an existing one."""
    make_client(name="Alan Turing")
    grace = make_client(name="Grace Hopper")
    bought = buy(grace["id"], spring["id"])
    dashboard.follow(f"/admin/client-packages/{bought['id']}/archive")
    html = dashboard.page("/admin/clients")
    assert listed(html) == ["Alan Turing", "Grace Hopper"]
    status = {
        name: "Existing" in words(row)
        for name, row in re.findall(r"<tr>\s*<td><a [^>]*>([^<]*)</a>(.*?)</tr>", html, re.S)
    }
    assert status == {"Alan Turing": False, "Grace Hopper": True}
    assert listed(dashboard.page("/admin/clients", q="hopper")) == ["Grace Hopper"]


def test_a_long_list_says_it_shows_only_the_first_clients(dashboard, make_client, monkeypatch):
    monkeypatch.setattr(clients, "search_clients", partial(clients.search_clients, limit=2))
    for name in ("Ann", "Bob", "Cy"):
        make_client(name=name)
    html = dashboard.page("/admin/clients")
    assert listed(html) == ["Ann", "Bob"]
    assert "Showing the first 2 of 3, oldest first." in words(html)
    html = dashboard.page("/admin/clients", q="client")
    assert "3 matches for “client”" in words(html) and listed(html) == ["Ann", "Bob"]
    assert "Showing the first" not in words(dashboard.page("/admin/clients", q="cy"))


def test_the_client_list_runs_as_many_statements_for_thirty_clients_as_for_three(
    dashboard, make_client, spring, buy
):
    def add(count):
        for _ in range(count):
            client = make_client()
            if client["id"] % 2:
                buy(client["id"], spring["id"])

    def statements(**query):
        with sql.statements() as sent:
            dashboard.page("/admin/clients", **query)
        return len(sent)

    add(3)
    statements()  # warm up
    few, few_searched = statements(), statements(q="example")
    add(27)
    many, many_searched = statements(), statements(q="example")
    assert len(listed(dashboard.page("/admin/clients"))) == 30
    assert (many, many_searched) == (few, few_searched)
