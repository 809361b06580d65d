"""Fixtures for market tests: the ESI stand-in over real HTTP, and settings pointing at it
with an isolated store (a unique key prefix on the real Redis, or files)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from market import publish
from sde.ids import STRUCTURE_ID_MIN
from standin.esi import EsiStandIn
from store import reset_store
from tests.conftest import drop_store_prefix

FORGE, DOMAIN = 10000002, 10000043


@pytest.fixture
def esi() -> Iterator[EsiStandIn]:
    with EsiStandIn(page_size=200, expires_in=300.0, seed=3) as server:
        server.generate(FORGE, 2_000)
        server.generate(DOMAIN, 600)
        yield server


@pytest.fixture
def market(settings, esi: EsiStandIn) -> Iterator[EsiStandIn]:
    """Settings for fast, isolated market refreshes against the stand-in."""
    settings.ESI_BASE_URL = esi.base_url
    settings.ESI_TIMEOUT = 1.0
    settings.ESI_MAX_RETRIES = 3
    settings.ESI_BACKOFF_BASE = 0.01
    settings.ESI_BACKOFF_MAX = 0.05
    settings.ESI_DOWNTIME = "off"  # the suite may run at 11:00 UTC
    settings.ESI_CIRCUIT_FAILURES = 50
    settings.STORE_KEY_PREFIX = f"test-{uuid.uuid4().hex}"
    settings.MARKET_REGIONS = [FORGE, DOMAIN]
    settings.MARKET_DEMO_FALLBACK = True
    reset_store()
    publish.forget_loaded()
    yield esi
    reset_store()
    publish.forget_loaded()
    drop_store_prefix(settings.STORE_KEY_PREFIX)


def structures_in_book(esi: EsiStandIn, region_id: int) -> dict[int, int]:
    """Structure -> system, from the orders the stand-in's region book serves."""
    return {
        o["location_id"]: o["system_id"]
        for o in esi.orders(region_id)
        if o["location_id"] >= STRUCTURE_ID_MIN
    }


def a_structure_with_sells(esi: EsiStandIn, region_id: int) -> tuple[int, int]:
    """A structure whose whole book holds sells (which no region book shows), and its
    system (from its ranged bids in the region book)."""
    placed = structures_in_book(esi, region_id)
    for structure_id in sorted(placed):
        if any(not o["is_buy_order"] for o in esi.structure_orders(structure_id)):
            return structure_id, placed[structure_id]
    raise AssertionError("no structure with sells")
