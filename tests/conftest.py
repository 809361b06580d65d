"""Shared test setup.

The app database (`default`) is a throw-away test database on the real PostgreSQL (or SQLite
when DATABASE_URL is unset). The SDE (`sde`) is never created or destroyed by the test
runner: it is the real bundled SDE at SDE_PATH, installed once if missing, and opened
read-only. Tests that read it are marked `django_db(databases=["default", "sde"])`
(see `sde_db`).
"""

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.test.utils import setup_databases, teardown_databases

from sde import install

# Fixtures: the ESI and SSO stand-ins, Chromium, the ESI client's clock and stores.
pytest_plugins = ["tests.market_env", "tests.sso_env", "tests.browser_env", "tests.esi_env"]

sde_db = pytest.mark.django_db(databases=["default", "sde"])


def ensure_sde() -> Path:
    target = Path(settings.SDE_PATH)
    if install.read_info(target) is None:
        with install.candidate_file(target) as candidate:
            build = install.build_from_bundle(candidate)
            install.install(candidate, target, source="bundled", build=build)
    return target


@pytest.fixture(autouse=True)
def no_real_esi(settings: object) -> None:
    """No test reaches for the real ESI: by default it is a closed local port (fails at
    once). Market tests point ESI_BASE_URL at the stand-in instead (tests/market_env.py)."""
    settings.ESI_BASE_URL = "http://127.0.0.1:9"  # type: ignore[attr-defined]


def drop_store_prefix(prefix: str) -> None:
    """Delete every key a test wrote under its own store prefix (snapshots are tens of MB:
    left behind, run after run, they would fill Redis)."""
    import redis

    if not settings.REDIS_URL:
        return
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                client.unlink(*batch)
                batch.clear()
        if batch:
            client.unlink(*batch)
    except redis.ConnectionError:
        pass  # a test that made the store unreachable: it wrote nothing there
    finally:
        client.close()


@pytest.fixture
def store_down(settings: Any) -> Iterator[None]:
    """The shared store (Redis) cannot be reached: nothing listens on its port."""
    from market import publish
    from store import reset_store

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    reset_store()
    publish.forget_loaded()  # as a process that has loaded nothing yet
    yield
    reset_store()


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Tasks run in the calling thread as they are queued (no worker)."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = before


@pytest.fixture(autouse=True)
def structures_read_afresh() -> None:
    """Each test reads the known structures from its own database (a rolled-back test's
    rows must not name structures in the next one)."""
    from market import books, structures

    structures.forget_known()
    books.forget_views()


# One second into a one-minute rate-limit window: a test's requests never straddle two.
RATE_LIMIT_CLOCK = 1_800_000_001.0


@pytest.fixture(autouse=True)
def no_rate_limits(settings: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite sends many requests from one address; tests/test_protection.py turns the
    rate limits back on. The limits count in fixed windows, so their clock stands still: a
    test that crossed a window's edge would find its allowance refilled."""
    settings.RATE_LIMIT_ENABLED = False  # type: ignore[attr-defined]
    monkeypatch.setattr("config.protection.time", SimpleNamespace(time=lambda: RATE_LIMIT_CLOCK))


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment: None, django_db_blocker: object) -> object:
    """Create only the `default` test database; the SDE is the real, read-only file."""
    ensure_sde()
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        config = setup_databases(verbosity=0, interactive=False, aliases={"default": {}})
    yield
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        teardown_databases(config, verbosity=0)


@pytest.fixture(autouse=True)
def no_kept_answers() -> None:
    """Each test's API answers come from its own store: a history kept while fresh by an
    earlier test (its own recorded days) must not answer in the next one."""
    from config import page_cache

    page_cache.answers.clear()
