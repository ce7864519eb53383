"""Searching a provider's clients in SQL: which match, in what order, at what cost."""

import pytest

from tests import sql
from widget.domain import clients, providers
from widget.extensions import db
from widget.models import Client, ClientPackage, ClientPackageStatus, Package, Provider


def _provider(email: str = "clinic@example.com") -> Provider:
    created = providers.create_provider(
        db.session, name="Clinic", email=email, timezone="Europe/Berlin"
    )
    return created.provider


def _clients(provider: Provider, *people: tuple[str, str]) -> list[Client]:
    made = [Client(provider_id=provider.id, name=name, email=email) for name, email in people]
    db.session.add_all(made)
    db.session.flush()
    return made


def _names(search: clients.ClientSearch) -> list[str]:
    return [client.name for client, _ in search.found]


PEOPLE = (
    ("Grace Hopper", "grace@navy.example"),
    ("Alan Turing", "alan_t@bletchley.example"),
    ("100% Ada", "ada@analytical.example"),
)


def test_a_search_matches_part_of_a_name_or_email_in_any_case(app):
    provider = _provider()
    _clients(provider, *PEOPLE)
    other = _provider("other@example.com")
    _clients(other, ("Grace Other", "grace@other.example"))

    assert _names(clients.search_clients(db.session, provider, "HOPP")) == ["Grace Hopper"]
    assert _names(clients.search_clients(db.session, provider, "BletchLEY.")) == ["Alan Turing"]
    assert _names(clients.search_clients(db.session, provider, "grace")) == ["Grace Hopper"]
    assert _names(clients.search_clients(db.session, provider, "grace navy")) == ["Grace Hopper"]
    assert _names(clients.search_clients(db.session, provider, "grace bletchley")) == []
    everyone = clients.search_clients(db.session, provider, "  ")
    assert _names(everyone) == ["Grace Hopper", "Alan Turing", "100% Ada"]
    assert (everyone.matches, everyone.total, everyone.cut_short) == (3, 3, False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("_", ["Alan Turing"]), ("%", ["100% Ada"]), ("n_t", ["Alan Turing"]), ("%_", [])],
)
def test_percent_and_underscore_match_only_themselves(app, text, expected):
    provider = _provider()
    _clients(provider, *PEOPLE)
    found = clients.search_clients(db.session, provider, text)
    assert _names(found) == expected
    assert (found.matches, found.total) == (len(expected), 3)


def test_the_limit_keeps_the_oldest_and_counts_the_rest(app):
    provider = _provider()
    _clients(provider, *((f"Client {n}", f"c{n}@example.com") for n in range(5)))
    found = clients.search_clients(db.session, provider, "client", limit=2)
    assert _names(found) == ["Client 0", "Client 1"]
    assert (found.matches, found.total, found.cut_short) == (5, 5, True)
    with pytest.raises(ValueError):
        clients.search_clients(db.session, provider, "", limit=0)


def test_each_client_carries_its_existing_flag_even_from_an_archived_package(app):
    provider = _provider()
    fresh, regular = _clients(provider, ("Fresh", "fresh@example.com"), ("Regular", "r@e.com"))
    package = Package(provider_id=provider.id, name="Spring", price_cents=100)
    db.session.add(package)
    db.session.flush()
    db.session.add(
        ClientPackage(
            provider_id=provider.id,
            client_id=regular.id,
            package_id=package.id,
            status=ClientPackageStatus.archived,
        )
    )
    db.session.flush()
    found = clients.search_clients(db.session, provider, "")
    assert [(c.name, existing) for c, existing in found.found] == [
        ("Fresh", False),
        ("Regular", True),
    ]


def test_a_search_runs_two_statements_however_many_clients_match(app):
    provider = _provider()
    for size in (3, 30):
        _clients(provider, *((f"C{size}-{n}", f"c{size}-{n}@example.com") for n in range(size)))
        db.session.flush()
        with sql.statements() as sent:
            found = clients.search_clients(db.session, provider, "example")
            [(c.name, c.email, existing) for c, existing in found.found]
        assert len(sent) == 2


def test_a_search_folds_the_case_of_letters_beyond_ascii(app):
    provider = _provider()
    _clients(provider, ("Ödön Ágh", "odon@example.com"), ("Zoë Ärnström", "zoe@example.com"))
    assert _names(clients.search_clients(db.session, provider, "ödön")) == ["Ödön Ágh"]
    assert _names(clients.search_clients(db.session, provider, "ÄRNSTRÖM")) == ["Zoë Ärnström"]
