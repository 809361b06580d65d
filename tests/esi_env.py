"""Fixtures for the ESI client's shared state (limits, circuit breaker): a fake clock, and
the store on both backends, Redis under a prefix of its own and files."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from store.base import Store
from store.file_store import FileStore
from store.redis_store import RedisStore
from tests.conftest import drop_store_prefix

T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when something sleeps on it, or a test advances it."""

    def __init__(self, start: datetime = T0) -> None:
        self.moment = start
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.moment += timedelta(seconds=seconds)

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["redis", "files"])
def store(request: Any, tmp_path: Path) -> Iterator[Store]:
    """The store the ESI state lives in, on each backend."""
    if request.param == "files":
        yield FileStore(tmp_path / "store")
        return
    prefix = f"test-{uuid.uuid4().hex}"
    yield RedisStore(settings.REDIS_URL or "redis://127.0.0.1:6379/15", prefix=f"{prefix}:")
    drop_store_prefix(prefix)
