"""Failed admin logins are throttled (django-axes, settings AXES_*): after the limit, a client
address, or a user name from anywhere, is refused with 429, a message and Retry-After for the
cool-off; the EVE SSO login and other logins are not counted."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "pw-for-tests-only"
LOCKED = "Too many failed admin logins from this address or for this user name"


@pytest.fixture
def lockout(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = 0.25  # hours: 15 minutes
    return settings


@pytest.fixture
def staff() -> User:
    return User.objects.create_user("boss", password=PASSWORD, is_staff=True)


def attempt(address: str, username: str, password: str) -> object:
    return Client(REMOTE_ADDR=address).post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}
    )


def test_a_wrong_password_is_the_admin_form_again(lockout, staff):
    response = attempt("198.51.100.1", "boss", "wrong")
    assert response.status_code == 200
    assert "Please enter the correct username and password" in response.content.decode()


def test_the_third_failure_from_one_address_locks_it_out(lockout, staff):
    answers = [attempt("198.51.100.1", name, "wrong") for name in ("boss", "ann", "bob")]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert LOCKED in answers[-1].content.decode() and answers[-1]["Retry-After"] == "900"
    # Locked out: even the right password from that address is refused, with a message.
    refused = attempt("198.51.100.1", "boss", PASSWORD)
    assert refused.status_code == 429
    assert LOCKED in refused.content.decode()
    assert "15 minutes" in refused.content.decode()
    assert refused["Retry-After"] == str(15 * 60)
    # Another address signs in (the user name had one failure only).
    assert attempt("198.51.100.2", "boss", PASSWORD).status_code == 302


def test_three_failures_for_one_user_name_lock_it_out_from_every_address(lockout, staff):
    answers = [attempt(f"198.51.100.{i}", "boss", "wrong") for i in (1, 2, 3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    elsewhere = attempt("203.0.113.9", "boss", PASSWORD)
    assert elsewhere.status_code == 429 and LOCKED in elsewhere.content.decode()
    # Another staff user at yet another address is not affected.
    User.objects.create_user("deputy", password=PASSWORD, is_staff=True)
    assert attempt("203.0.113.10", "deputy", PASSWORD).status_code == 302


def test_a_successful_login_clears_the_failures(lockout, staff):
    for _ in range(2):
        assert attempt("198.51.100.1", "boss", "wrong").status_code == 200
    assert attempt("198.51.100.1", "boss", PASSWORD).status_code == 302
    for _ in range(2):  # two more: the count started again
        assert attempt("198.51.100.1", "boss", "wrong").status_code == 200


def test_behind_a_proxy_the_forwarded_client_is_locked_out_not_the_proxy(lockout, staff):
    lockout.TRUSTED_PROXIES = 1
    lockout.AXES_LOCKOUT_PARAMETERS = ["ip_address"]  # the address alone
    proxy = "10.0.0.1"

    def via_proxy(client_address: str, username: str, password: str) -> object:
        return Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=client_address).post(
            LOGIN, {"username": username, "password": password, "next": "/admin/"}
        )

    for name in ("a", "b", "c"):
        via_proxy("198.51.100.7", name, "wrong")
    assert via_proxy("198.51.100.7", "boss", PASSWORD).status_code == 429
    assert via_proxy("198.51.100.8", "boss", PASSWORD).status_code == 302


def test_logins_in_tests_and_shells_without_a_request_still_work(lockout, staff):
    client = Client()
    assert client.login(username="boss", password=PASSWORD)
    assert client.get("/admin/").status_code == 200
