"""Refreshing snapshots against the ESI stand-in over real HTTP, with real Redis: the happy
path, conditional refreshes, and every fault the refresh must survive without publishing a
partial or inconsistent book."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from market import publish
from market.refresh import RefreshBusy, RefreshFailed, is_due, refresh_region
from store import get_store
from tests.market_env import DOMAIN, FORGE


def current_generation() -> str | None:
    return publish.current_generation(FORGE)


def published_ids() -> list[int]:
    snapshot = publish.load(FORGE)
    assert snapshot is not None
    return sorted(snapshot.book["order_id"].tolist())


def test_a_refresh_publishes_the_whole_book(market):
    outcome = refresh_region(FORGE)
    assert outcome.result == "published"
    meta = outcome.meta
    assert meta.source == "esi"
    assert meta.pages == 10  # 2,000 orders (+ the real samples) on pages of 200
    assert published_ids() == sorted(o["order_id"] for o in market.orders(FORGE))
    assert meta.orders == len(market.orders(FORGE))
    pages = [r for r in market.requests if r.path == f"/markets/{FORGE}/orders/"]
    assert {r.query["page"] for r in pages} == {str(n) for n in range(1, 11)}
    assert meta.esi_last_modified and meta.esi_expires
    assert publish.read_status(FORGE)["last_result"] == "ok"


def test_an_unchanged_book_answers_304_and_keeps_the_generation(market):
    first = refresh_region(FORGE)
    market.requests.clear()
    again = refresh_region(FORGE)
    assert again.result == "not_modified"
    assert again.meta.generation == first.meta.generation
    statuses = {r.status for r in market.requests}
    assert statuses == {304}
    assert current_generation() == first.meta.generation


def test_a_new_esi_cache_generation_publishes_a_new_snapshot(market):
    first = refresh_region(FORGE)
    market.touch(FORGE)
    second = refresh_region(FORGE)
    assert second.result == "published"
    assert second.meta.generation != first.meta.generation
    assert current_generation() == second.meta.generation


def test_readers_see_the_old_snapshot_until_the_swap(market):
    first = refresh_region(FORGE)
    old = publish.load(FORGE)
    market.generate(FORGE, 1_000, seed=9)
    refresh_region(FORGE)
    assert publish.load(FORGE).meta.generation != first.meta.generation
    kept = publish.load(FORGE, generation=first.meta.generation)  # kept for permalinks
    assert kept is not None and kept.meta.orders == old.meta.orders


def test_a_5xx_burst_is_retried_and_published(market):
    market.faults.fail_next = 2
    assert refresh_region(FORGE).result == "published"
    assert [r.status for r in market.requests[:3]] == [503, 503, 200]


def test_retry_after_is_honoured(market):
    market.faults.rate_limit_after = 3
    market.faults.retry_after = 1
    started = time.monotonic()
    assert refresh_region(FORGE).result == "published"
    assert time.monotonic() - started >= 1.0
    assert 429 in {r.status for r in market.requests}


def test_last_modified_drift_is_refetched_and_published_consistently(market):
    market.faults.drift_pages = {4}
    outcome = refresh_region(FORGE)
    assert outcome.result == "published"
    assert published_ids() == sorted(o["order_id"] for o in market.orders(FORGE))
    page_one = [r for r in market.requests if r.query.get("page") == "1"]
    assert len(page_one) == 2  # the whole set was fetched again


def test_endless_drift_keeps_the_previous_snapshot(market):
    first = refresh_region(FORGE)
    market.touch(FORGE)
    market.faults.drift_pages = {3}
    market.faults.drift_always = True
    with pytest.raises(RefreshFailed, match=r"Last-Modified|drift|inconsistent|disagree"):
        refresh_region(FORGE)
    assert current_generation() == first.meta.generation
    assert publish.read_status(FORGE)["last_result"] == "error"


def test_duplicate_orders_never_reach_a_snapshot(market):
    first = refresh_region(FORGE)
    market.touch(FORGE)
    market.faults.duplicate_orders = True
    with pytest.raises(RefreshFailed):
        refresh_region(FORGE)
    assert current_generation() == first.meta.generation
    ids = published_ids()
    assert len(ids) == len(set(ids))


def test_truncated_json_fails_the_refresh_cleanly(market):
    first = refresh_region(FORGE)
    market.touch(FORGE)
    market.faults.truncate_pages = {2}
    market.faults.truncate_always = True
    with pytest.raises(RefreshFailed) as failed:
        refresh_region(FORGE)
    assert "\n" not in str(failed.value)
    assert current_generation() == first.meta.generation


def test_an_error_limit_pause_publishes_nothing_partial(market, settings):
    first = refresh_region(FORGE)
    market.touch(FORGE)
    settings.ESI_MAX_PAUSE = 0.5  # the 420 window is longer: the refresh gives up
    market.faults.error_limit_window = 30.0
    market.faults.error_limit_remain = 0
    with pytest.raises(RefreshFailed):
        refresh_region(FORGE)
    assert current_generation() == first.meta.generation
    assert publish.load(FORGE).meta.generation == first.meta.generation


def test_one_refresh_per_region_at_a_time(market):
    lock = get_store().lock(f"market:refresh:{FORGE}", ttl=30)
    assert lock.acquire()
    try:
        with pytest.raises(RefreshBusy):
            refresh_region(FORGE)
        assert refresh_region(DOMAIN).result == "published"  # other regions go on
    finally:
        lock.release()
    assert refresh_region(FORGE).result == "published"


def test_next_refresh_follows_expires_plus_jitter(market, settings):
    settings.MARKET_REFRESH_JITTER = 5.0
    outcome = refresh_region(FORGE)
    status = publish.read_status(FORGE)
    expires = datetime.fromisoformat(outcome.meta.esi_expires)
    next_at = datetime.fromisoformat(status["next_refresh_at"])
    assert expires < next_at <= expires + timedelta(seconds=6)
    assert not is_due(FORGE)
    assert is_due(FORGE, now=next_at)


def test_a_failure_backs_off_before_the_next_try(market):
    market.faults.unreachable = True
    with pytest.raises(RefreshFailed):
        refresh_region(FORGE, demo_fallback=False)
    status = publish.read_status(FORGE)
    assert status["failures"] == 1
    assert datetime.fromisoformat(status["next_refresh_at"]) > datetime.now(UTC)


def test_unreachable_esi_with_no_snapshot_publishes_the_labelled_demo(market):
    market.faults.unreachable = True
    with pytest.raises(RefreshFailed, match="demo"):
        refresh_region(FORGE)
    snapshot = publish.load(FORGE)
    assert snapshot.meta.source == "demo"
    assert snapshot.meta.orders > 1_000
    assert publish.freshness(snapshot.meta)["stale"] is True
    market.faults.unreachable = False
    real = refresh_region(FORGE)
    assert real.result == "published"
    assert publish.load(FORGE).meta.source == "esi"


def test_unreachable_esi_never_replaces_a_real_snapshot_with_the_demo(market):
    first = refresh_region(FORGE)
    market.faults.unreachable = True
    with pytest.raises(RefreshFailed) as failed:
        refresh_region(FORGE)
    assert "demo" not in str(failed.value)
    assert publish.load(FORGE).meta.generation == first.meta.generation
    assert publish.load(FORGE).meta.source == "esi"


def test_a_snapshot_turns_stale_after_expires_plus_grace(market, settings):
    outcome = refresh_region(FORGE)
    meta = outcome.meta
    expires = datetime.fromisoformat(meta.esi_expires)
    settings.MARKET_STALE_GRACE = 60
    assert publish.freshness(meta, now=expires + timedelta(seconds=59))["stale"] is False
    assert publish.freshness(meta, now=expires + timedelta(seconds=61))["stale"] is True
