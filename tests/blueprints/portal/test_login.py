"""Client login: a magic link by email (once, for 15 minutes) or a password set through an
emailed link; answers never tell whether an email belongs to a client."""

import re
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import event, select
from werkzeug.security import generate_password_hash

from widget.extensions import db
from widget.models import Client, OutboxMessage

from .conftest import ask_for_link, csrf_token, last_link, open_link, post, text

PASSWORD = "correct horse battery"


def without_secrets(html: str, *emails: str) -> str:
    """The page as a reader sees it, minus the CSRF tokens and the typed email."""
    html = re.sub(r'value="[^"]*"', "", html)
    for email in emails:
        html = html.replace(email, "")
    return html


def password_login(http, slug, email, password):
    path = f"/portal/{slug}/login"
    token = csrf_token(http, path)
    return http.post(
        path,
        data={
            "password-csrf_token": token,
            "mode": "password",
            "password-email": email,
            "password-password": password,
        },
    )


@pytest.fixture
def with_password(customer):
    account = db.session.get(Client, customer["id"])
    account.password_hash = generate_password_hash(PASSWORD)
    db.session.commit()
    return customer


def test_a_magic_link_from_the_email_logs_the_client_in(client, slug, customer):
    assert ask_for_link(client, slug, customer["email"]).status_code == 200
    link = last_link(customer["email"])
    opened = client.get(link)
    assert opened.status_code == 200
    assert 'type="submit" class="primary">Log in</button>' in text(opened)
    assert client.get(f"/portal/{slug}/").status_code == 302  # opening alone logs nobody in
    response = open_link(client, link)
    assert (response.status_code, response.headers["Location"]) == (302, f"/portal/{slug}/")
    assert "Hello Mia" in text(client.get(f"/portal/{slug}/"))


def test_a_magic_link_works_once(client, app, slug, customer):
    ask_for_link(client, slug, customer["email"])
    link = last_link(customer["email"])
    assert open_link(client, link).status_code == 302
    again = open_link(app.test_client(), link)
    assert again.status_code == 410
    assert 'data-reason="link_used"' in text(again)


def test_a_link_sent_after_a_login_works_once_even_within_the_same_instant(
    client, app, slug, customer
):
    ask_for_link(client, slug, customer["email"])
    assert open_link(client, last_link(customer["email"])).status_code == 302
    ask_for_link(app.test_client(), slug, customer["email"])
    second = last_link(customer["email"])
    assert open_link(app.test_client(), second).status_code == 302
    assert open_link(app.test_client(), second).status_code == 410  # the clock did not move


def test_a_magic_link_expires_after_15_minutes(client, app, slug, customer, clock, monkeypatch):
    ask_for_link(client, slug, customer["email"])
    link = last_link(customer["email"])
    sixteen_minutes_later = int(time.time()) + 16 * 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: sixteen_minutes_later)
    clock.advance(minutes=16)
    response = open_link(app.test_client(), link)
    assert response.status_code == 410
    assert 'data-reason="link_expired"' in text(response)


def test_asking_for_a_link_reads_the_same_for_an_unknown_email(client, slug, customer):
    known = ask_for_link(client, slug, customer["email"])
    unknown = ask_for_link(client, slug, "stranger@example.com")
    assert known.status_code == unknown.status_code == 200
    assert without_secrets(text(known), customer["email"]) == without_secrets(
        text(unknown), "stranger@example.com"
    )
    assert "a login link is on its way" in text(unknown)
    # Both are written an email, so the request's work (and timing) is the same; the
    # stranger's says there is no account, and carries no link.
    db.session.rollback()
    sent = {m.recipient: m for m in db.session.scalars(select(OutboxMessage))}
    assert set(sent) == {customer["email"], "stranger@example.com"}
    assert "/login/" in sent[customer["email"]].text_body
    stranger = sent["stranger@example.com"]
    assert stranger.subject.startswith("No client account with ")
    assert "http" not in stranger.text_body


def test_a_wrong_password_and_an_unknown_email_read_the_same(client, slug, with_password):
    wrong = password_login(client, slug, with_password["email"], "not the password")
    unknown = password_login(client, slug, "stranger@example.com", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "That email and password do not match an account." in text(wrong)
    assert without_secrets(text(wrong), with_password["email"]) == without_secrets(
        text(unknown), "stranger@example.com"
    )
    assert f'value="{with_password["email"]}"' in text(wrong)  # what was typed is kept
    assert client.get(f"/portal/{slug}/").status_code == 302


def test_a_client_sets_a_password_from_the_portal_and_logs_in_with_it(portal, app, slug, customer):
    asked = post(portal, f"/portal/{slug}/password")
    assert asked.status_code == 302
    assert f"We have emailed {customer['email']}" in text(portal.get(f"/portal/{slug}/"))
    link = last_link(customer["email"])
    assert "/password/" in link

    short = portal.post(
        link,
        data={"csrf_token": csrf_token(portal, link), "password": "short", "confirm": "short"},
    )
    assert short.status_code == 422
    html = text(short)
    field = html.split('<label for="password">')[1].split('<label for="confirm">')[0]
    assert 'aria-invalid="true"' in field
    assert 'class="field-error" id="password-error"' in field

    token = csrf_token(portal, link)
    saved = portal.post(link, data={"csrf_token": token, "password": PASSWORD, "confirm": PASSWORD})
    assert saved.status_code == 302

    browser = app.test_client()
    response = password_login(browser, slug, customer["email"], PASSWORD)
    assert (response.status_code, response.headers["Location"]) == (302, f"/portal/{slug}/")
    assert browser.get(f"/portal/{slug}/").status_code == 200

    reused = browser.get(link)
    assert reused.status_code == 410
    assert 'data-reason="link_used"' in text(reused)


def work_of_asking_for_a_link(client, slug, email):
    """The statements and commits the request runs."""
    path = f"/portal/{slug}/login"
    token = csrf_token(client, path)
    work = []

    def on_statement(_conn, _cursor, statement, *_args):
        work.append(statement.split()[0].upper())

    def on_commit(_conn):
        work.append("COMMIT")

    event.listen(db.engine, "before_cursor_execute", on_statement)
    event.listen(db.engine, "commit", on_commit)
    try:
        response = client.post(
            path, data={"link-csrf_token": token, "mode": "link", "link-email": email}
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", on_statement)
        event.remove(db.engine, "commit", on_commit)
    assert response.status_code == 200
    return work


def test_asking_for_a_link_does_the_same_work_for_a_known_and_an_unknown_email(
    client, slug, customer
):
    # Before, only a client's address was written to (INSERT, COMMIT): visible in timing.
    known = work_of_asking_for_a_link(client, slug, customer["email"])
    assert known == work_of_asking_for_a_link(client, slug, "stranger@example.com")
    assert "INSERT" in known and "COMMIT" in known
