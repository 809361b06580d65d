"""Secrets stay out of the logs and out of other users' reach: a failed EVE SSO callback logs
why it failed, never its authorisation code or state (characters/sso.py, config/errors.py);
`make .env` writes the settings file readable by its owner only."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.test import Client, RequestFactory
from pythonjsonlogger.json import JsonFormatter

from characters import sso as sso_module
from config.errors import HideRequestSecrets, request_for_log
from standin.sso import SsoStandIn
from tests.sso_env import sso  # noqa: F401

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def every_log_line(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """Everything logged inside the block, DEBUG included: as the deployment writes it (the
    configured JSON console handler, extra fields included) and as each record holds it
    (every attribute, repr'd). The list is filled when the block ends."""
    handler = next(
        h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)
    )
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    found: list[str] = []
    try:
        yield found
    finally:
        handler.setStream(previous)
        caplog.set_level(logging.INFO)
    written = buffer.getvalue().splitlines()
    for line in written:
        json.loads(line)  # still one JSON object per line
    found.extend(written)
    found.extend(f"{r.getMessage()} {r.__dict__!r}" for r in caplog.records)


def approve(client: Client, server: SsoStandIn) -> tuple[str, dict[str, str]]:
    """Start a login and let the stand-in approve it as Bruce Wayne: the callback's path and
    query (code and state), not yet followed."""
    start = client.post("/accounts/login/eve/")
    assert start.status_code == 302
    answer = requests.get(
        start["Location"], params={"character_id": "1001"}, allow_redirects=False, timeout=5
    )
    assert answer.status_code == 302
    callback = urlsplit(answer.headers["Location"])
    query = {key: values[0] for key, values in parse_qs(callback.query).items()}
    assert query["code"] and query["state"]
    return callback.path, query


def test_a_failed_token_exchange_logs_neither_code_nor_state(
    client: Client,
    sso: SsoStandIn,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    path, query = approve(client, sso)  # the browser's part: the app never sees these lines
    sso.fail_token_status = 503
    with every_log_line(caplog) as lines:
        response = client.get(path, query)
    assert response.status_code == 401  # allauth's "login failed" page
    text = "\n".join(lines)
    # Django's own line about the 401 is there, with the request, its secrets hidden.
    assert "Unauthorized: /accounts/eveonline/login/callback/" in text
    assert "code=[hidden]&state=[hidden]" in text
    # The cause: the status and OAuth error of the token exchange.
    assert (
        "EVE SSO login failed: unknown; TokenExchangeFailed: EVE SSO answered 503 to the code "
        "exchange (server_error)"
    ) in text
    assert query["code"] not in text
    assert query["state"] not in text


def test_an_error_callback_logs_no_state(
    client: Client,
    sso: SsoStandIn,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    path, query = approve(client, sso)
    with every_log_line(caplog) as lines:
        response = client.get(path, {"error": "server_error", "state": query["state"]})
    assert response.status_code == 401
    text = "\n".join(lines)
    assert "EVE SSO login failed: unknown; the SSO sent error=server_error" in text
    assert query["state"] not in text


def test_the_code_exchange_says_the_status_and_oauth_error_without_the_code(
    sso: SsoStandIn,  # noqa: F811
) -> None:
    sso.fail_token_status = 503
    with pytest.raises(sso_module.TokenExchangeFailed) as failed:
        sso_module.exchange_code("a-secret-code-0123456789", "http://testserver/callback/", "v")
    assert (failed.value.status, failed.value.error) == (503, "server_error")
    assert str(failed.value) == "EVE SSO answered 503 to the code exchange (server_error)"
    assert "a-secret-code" not in sso_module.failure_cause("unknown", failed.value)


def test_a_refused_code_is_invalid_grant(sso: SsoStandIn) -> None:  # noqa: F811
    with pytest.raises(sso_module.TokenExchangeFailed) as failed:
        sso_module.exchange_code("never-issued-code", "http://testserver/callback/", "v")
    assert failed.value.status == 400
    assert failed.value.error == "invalid_grant"


SECRET = "Zq8secretCODEvalue0123"


@pytest.mark.parametrize(
    ("error", "exception", "callback_error", "expected"),
    [
        # allauth's token exchange: the SSO's body quoted whole; only its error code is kept.
        (
            "unknown",
            OAuth2Error(
                f'Error retrieving access token: b\'{{"error": "server_error", "x": "{SECRET}"}}\''
            ),
            None,
            "unknown; OAuth2Error (server_error)",
        ),
        # A 200 without an access token: a body of tokens is not copied.
        (
            "unknown",
            OAuth2Error(f'Error retrieving access token: b\'{{"refresh_token": "{SECRET}"}}\''),
            None,
            "unknown; OAuth2Error",
        ),
        # The SSO sent the user back with an error; free text instead of a code is not copied.
        ("unknown", None, "access_denied", "unknown; the SSO sent error=access_denied"),
        ("unknown", None, f"<b>{SECRET} here</b>", "unknown; the SSO sent error=(not a code)"),
        # Our own messages (token validation, exchange) hold no secret: they are the cause.
        (
            "unknown",
            sso_module.TokenExchangeFailed(502, "server_error"),
            None,
            "unknown; TokenExchangeFailed: EVE SSO answered 502 to the code exchange "
            "(server_error)",
        ),
        (
            "unknown",
            sso_module.SsoUnavailable("EVE SSO unreachable: ConnectTimeout"),
            None,
            "unknown; SsoUnavailable: EVE SSO unreachable: ConnectTimeout",
        ),
        (
            None,
            requests.ConnectionError(f"http://sso/?code={SECRET}"),
            None,
            "unknown; ConnectionError",
        ),
    ],
)
def test_the_failure_cause_names_the_cause_and_no_secret(
    error: Any, exception: BaseException | None, callback_error: Any, expected: str
) -> None:
    cause = sso_module.failure_cause(error, exception, callback_error)
    assert cause == expected
    assert SECRET not in cause


def test_a_wrapped_sso_error_is_the_cause() -> None:
    # The provider turns a token that fails validation into allauth's ProviderException.
    from allauth.socialaccount.providers.base import ProviderException

    try:
        try:
            raise sso_module.InvalidAccessToken("access token expired")
        except sso_module.InvalidAccessToken as exc:
            raise ProviderException(str(exc)) from None
    except ProviderException as wrapped:
        cause = sso_module.failure_cause("unknown", wrapped)
    assert cause == "unknown; InvalidAccessToken: access token expired"


def test_the_request_in_a_log_record_keeps_names_and_harmless_values() -> None:
    request = RequestFactory().get(
        "/accounts/eveonline/login/callback/",
        {"code": SECRET, "state": "st4te", "next": "/profit/", "refresh_token": SECRET},
    )
    assert request_for_log(request) == (
        "GET /accounts/eveonline/login/callback/?code=[hidden]&state=[hidden]&next=/profit/"
        "&refresh_token=[hidden]"
    )
    record = logging.LogRecord("django.request", logging.WARNING, "", 0, "Unauthorized", (), None)
    record.request = request
    assert HideRequestSecrets().filter(record)
    assert SECRET not in repr(record.__dict__)


def test_make_env_writes_a_file_only_its_owner_reads(tmp_path: Path) -> None:
    subprocess.run(
        ["make", "-s", "-f", str(ROOT / "Makefile"), "-C", str(tmp_path), ".env"],
        check=True,
        capture_output=True,
        env={**os.environ, "MAKEFLAGS": ""},
    )
    created = tmp_path / ".env"
    assert created.read_text().startswith("SECRET_KEY=")
    assert created.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("sub", ["CHARACTER:EVE:\u00b2", "CHARACTER:EVE:\uff11\uff10\uff10\uff11"])
def test_a_token_subject_in_other_digits_is_no_character(sub: str) -> None:
    with pytest.raises(sso_module.InvalidAccessToken):
        sso_module.character_id_from_sub(sub)
    assert sso_module.character_id_from_sub("CHARACTER:EVE:1001") == 1001
