"""Opportunity boards: recomputed after each snapshot publish, kept as ranked sorted sets in
the shared store (Redis, and the file store of the embedded default), one worker at a time,
served at once by the API and pushed to open pages through a version poll."""

from __future__ import annotations

import csv
import io
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from market import publish
from market.hubs import HUB_STATIONS
from profit import boards, volumes
from profit.fees import Skills
from profit.hauling import HaulingParams, hauling
from profit.locations import resolve_place
from profit.station import StationFilters, station_trading
from store import get_store, reset_store
from tests.market_env import DOMAIN, FORGE
from tests.test_profit_api import build

pytestmark = pytest.mark.django_db(databases=["default", "sde"])

JITA, AMARR = HUB_STATIONS[FORGE], HUB_STATIONS[DOMAIN]
BOARDS_URL = "/api/v1/profit/boards"
VERSION_URL = "/api/v1/profit/boards/version"


@pytest.fixture
def hubs(market) -> dict[int, Any]:
    """Published snapshots of both tracked hub regions (no boards yet)."""
    snapshots = {FORGE: build(FORGE, 12_000), DOMAIN: build(DOMAIN, 4_000)}
    for snapshot in snapshots.values():
        publish.publish(snapshot)
    return snapshots


def get(client, url: str, **params: Any):
    return client.get(url, params, HTTP_ACCEPT="application/json")


def board_ids() -> list[str]:
    return [f"station:{JITA}", f"station:{AMARR}", boards.HAULING_BOARD]


# --- Recompute after publish ---------------------------------------------------------------


def test_a_published_refresh_recomputes_the_boards(market, eager_celery):
    from market.tasks import refresh_region_task

    assert boards.read_pointer() is None
    assert refresh_region_task(FORGE) == "published"
    first = boards.read_pointer()
    assert first is not None
    assert [b["id"] for b in first["boards"]] == [f"station:{JITA}"]  # one hub: no hauling yet
    assert refresh_region_task(DOMAIN) == "published"
    pointer = boards.read_pointer()
    assert [b["id"] for b in pointer["boards"]] == board_ids()
    assert {r: m["generation"] for r, m in pointer["snapshots"].items()} == {
        str(FORGE): publish.current_generation(FORGE),
        str(DOMAIN): publish.current_generation(DOMAIN),
    }
    # Nothing changed at ESI: the refresh publishes nothing, and the boards stay as they are.
    assert refresh_region_task(FORGE) in ("not_modified", "busy")
    assert boards.read_pointer()["version"] == pointer["version"]


def test_recompute_is_harmless_to_repeat(hubs):
    assert boards.recompute() == "published"
    version = boards.read_pointer()["version"]
    assert boards.recompute() == "unchanged"
    assert boards.read_pointer()["version"] == version
    publish.publish(build(FORGE, 12_000, seed=4))
    assert boards.recompute() == "published"
    assert boards.read_pointer()["version"] != version


def test_no_snapshots_no_boards(market):
    assert boards.recompute() == "no_snapshots"
    assert boards.read_pointer() is None


def test_without_an_sde_the_boards_say_so_once_without_a_traceback(
    hubs, settings, tmp_path, caplog
):
    from profit.tasks import recompute_boards

    settings.SDE_PATH = tmp_path / "missing.sqlite"
    with caplog.at_level("WARNING", logger="profit.tasks"):
        assert recompute_boards() == "no_sde"
    (record,) = [r for r in caplog.records if r.name == "profit.tasks"]
    assert "no SDE at" in record.getMessage() and record.exc_info is None
    assert boards.read_pointer() is None  # nothing half-built was published


# --- Ranking -------------------------------------------------------------------------------


def test_station_boards_rank_the_hubs_best_trades(hubs, settings):
    settings.PROFIT_BOARD_SIZE = 10
    boards.recompute()
    version = boards.read_pointer()["version"]
    store = get_store()
    for region_id, hub in ((FORGE, JITA), (DOMAIN, AMARR)):
        # No daily volume is known yet: the board lists by profit per unit meanwhile.
        scan = station_trading(
            hubs[region_id],
            hub,
            Skills(),
            StationFilters(max_margin=boards.STATION_MAX_MARGIN, limit=10, sort="-profit_per_unit"),
        )
        ranked = store.zrange(boards._rank_key(version, f"station:{hub}"))
        assert [int(member) for member, _ in ranked] == [row["type_id"] for row in scan.rows]
        scores = [score for _, score in ranked]
        assert scores == sorted(scores, reverse=True)
        assert len(ranked) <= 10
        answer = boards.read_boards(limit=10, board_id=f"station:{hub}")
        assert answer["boards"][0]["rows"] == scan.rows


def test_the_hauling_board_ranks_routes_between_the_hubs(hubs, settings):
    settings.PROFIT_BOARD_SIZE = 12
    settings.PROFIT_BOARD_CARGO_M3, settings.PROFIT_BOARD_BUDGET = 5_000.0, 20_000_000.0
    boards.recompute()
    jita, amarr = resolve_place(JITA), resolve_place(AMARR)
    hauler = HaulingParams(cargo_m3=5_000.0, budget=20_000_000.0)
    expected = hauling([(hubs[FORGE], jita)], [(hubs[DOMAIN], amarr)], Skills(), hauler)
    expected_rows = [
        *expected.rows,
        *hauling([(hubs[DOMAIN], amarr)], [(hubs[FORGE], jita)], Skills(), hauler).rows,
    ]
    expected_rows.sort(key=lambda row: -row["net_profit"])
    (board,) = boards.read_boards(limit=12, board_id=boards.HAULING_BOARD)["boards"]
    assert [row["net_profit"] for row in board["rows"]] == [
        row["net_profit"] for row in expected_rows[:12]
    ]
    assert all(row["from_location_id"] != row["to_location_id"] for row in board["rows"])
    assert {row["from_location_id"] for row in board["rows"]} <= {JITA, AMARR}
    # The board's hauler: every row fits its hold and its purse.
    assert all(row["volume_m3"] <= 5_000.0 + 1e-6 for row in board["rows"])
    assert all(row["buy_total"] <= 20_000_000.0 + 1e-6 for row in board["rows"])
    assert "5,000 m³, 20M ISK" in board["title"]


def test_the_api_serves_the_ranked_boards(client, hubs):
    boards.recompute()
    body = get(client, BOARDS_URL, limit=3).json()
    assert body["version"] == boards.read_pointer()["version"]
    assert [b["id"] for b in body["boards"]] == board_ids()
    assert [s["region_id"] for s in body["snapshots"]] == [FORGE, DOMAIN]
    assert all(len(b["rows"]) <= 3 for b in body["boards"])
    jita = body["boards"][0]
    assert jita["kind"] == "station" and jita["station_id"] == JITA
    profits = [row["profit_per_unit"] for row in jita["rows"]]
    assert profits == sorted(profits, reverse=True)
    one = get(client, BOARDS_URL, board=boards.HAULING_BOARD).json()
    assert [b["id"] for b in one["boards"]] == [boards.HAULING_BOARD]
    missing = get(client, BOARDS_URL, board="station:1")
    assert missing.status_code == 404
    assert "station:60003760" in missing.json()["detail"]
    assert get(client, BOARDS_URL, limit=0).status_code == 400
    assert get(client, BOARDS_URL, colour="red").status_code == 400


def test_boards_as_csv(client, hubs):
    boards.recompute()
    response = client.get(BOARDS_URL, {"limit": 2, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert lines[0]["board"] == f"station:{JITA}"
    assert {line["board"] for line in lines} == set(board_ids())


def test_before_the_first_board_the_answer_is_empty(client, market):
    body = get(client, BOARDS_URL).json()
    assert body == {"version": None, "published_at": None, "snapshots": [], "boards": []}
    assert get(client, VERSION_URL).json() == {"version": None, "published_at": None}


def test_the_version_poll_is_cheap_and_conditional(client, hubs):
    boards.recompute()
    response = get(client, VERSION_URL)
    version = boards.read_pointer()["version"]
    assert response.json()["version"] == version
    assert response["ETag"] == f'"{version}"'
    unchanged = client.get(VERSION_URL, HTTP_IF_NONE_MATCH=f'"{version}"')
    assert unchanged.status_code == 304
    publish.publish(build(DOMAIN, 4_000, seed=8))
    boards.recompute()
    changed = client.get(VERSION_URL, HTTP_IF_NONE_MATCH=f'"{version}"')
    assert changed.status_code == 200
    assert changed.json()["version"] != version


def test_a_board_is_read_once_per_version(hubs, monkeypatch):
    boards.recompute()
    boards.read_boards(limit=5)
    store = get_store()
    reads: list[str] = []
    original = store.get

    def counting(key: str) -> bytes | None:
        reads.append(key)
        return original(key)

    monkeypatch.setattr(store, "get", counting)
    monkeypatch.setattr(store, "zrange", lambda *a, **k: pytest.fail("zrange again"))
    boards.read_boards(limit=5)
    assert reads == [boards.POINTER]


# --- One worker at a time ------------------------------------------------------------------


def test_a_held_lock_makes_a_recompute_busy(hubs):
    lock = get_store().lock(boards.LOCK, ttl=30)
    assert lock.acquire()
    try:
        assert boards.recompute() == "busy"
        assert boards.read_pointer() is None
    finally:
        lock.release()
    assert boards.recompute() == "published"


def test_concurrent_recomputes_compute_once(hubs):
    calls: list[float] = []

    def slow(snapshots):
        calls.append(time.monotonic())
        time.sleep(0.4)
        return boards.compute_boards(snapshots, size=3)

    results: list[str] = []

    def run() -> None:
        results.append(boards.recompute(compute=slow))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["busy", "busy", "published"]
    assert len(calls) == 1


def test_a_snapshot_published_while_computing_gets_its_board(hubs):
    newer = build(FORGE, 12_000, seed=6)
    calls = []

    def publish_meanwhile(snapshots):
        calls.append({r: s.meta.generation for r, s in snapshots.items()})
        if len(calls) == 1:
            publish.publish(newer)
        return boards.compute_boards(snapshots, size=3)

    assert boards.recompute(compute=publish_meanwhile) == "published"
    assert len(calls) == 2
    built = boards.read_pointer()["snapshots"]
    assert built[str(FORGE)]["generation"] == newer.meta.generation


def test_a_replaced_version_expires(hubs, monkeypatch):
    monkeypatch.setattr(boards, "BOARD_KEEP", 0.3)
    boards.recompute()
    old = boards.read_pointer()["version"]
    store = get_store()
    assert store.zcard(boards._rank_key(old, f"station:{JITA}")) > 0
    boards.recompute(force=True)
    assert store.zcard(boards._rank_key(old, f"station:{JITA}")) > 0  # still readable
    time.sleep(0.5)
    assert store.zcard(boards._rank_key(old, f"station:{JITA}")) == 0
    assert store.get(boards._rows_key(old, f"station:{JITA}")) is None


def test_boards_work_on_the_file_store(market, settings, tmp_path):
    settings.REDIS_URL = ""
    settings.VAR_DIR = tmp_path
    reset_store()
    publish.forget_loaded()
    for snapshot in (build(FORGE, 12_000), build(DOMAIN, 4_000)):
        publish.publish(snapshot)
    assert boards.recompute() == "published"
    answer = boards.read_boards(limit=4)
    assert [b["id"] for b in answer["boards"]] == board_ids()
    profits = [row["profit_per_unit"] for row in answer["boards"][0]["rows"]]
    assert profits == sorted(profits, reverse=True) and profits
    assert list((tmp_path / "store" / "values").iterdir())
    reset_store()


# --- Pages ---------------------------------------------------------------------------------


def test_the_home_page_shows_the_boards(client, hubs):
    empty = client.get("/")
    assert b"No boards yet" in empty.content
    boards.recompute()
    answer = boards.read_boards(limit=8)
    page = client.get("/").content.decode()
    assert f'data-version="{answer["version"]}"' in page
    assert 'data-version-url="/api/v1/profit/boards/version"' in page
    first = answer["boards"][0]["rows"][0]
    assert first["type_name"] in page
    assert page.count('data-board="') == 3


def test_the_fragment_is_the_boards_alone(client, hubs):
    boards.recompute()
    response = client.get("/profit/boards/fragment/", {"limit": 2})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.count("<tr data-type=") == sum(
        len(b["rows"]) for b in boards.read_boards(limit=2)["boards"]
    )
    assert response["Cache-Control"] == "no-cache"


def test_the_boards_page(client, hubs):
    boards.recompute()
    response = client.get("/profit/boards/")
    assert response.status_code == 200
    assert b"Opportunity boards" in response.content
    assert b"data-boards-live" in response.content


def test_station_boards_lead_with_profit_a_day_once_volumes_are_known(hubs, settings):
    settings.PROFIT_BOARD_SIZE = 10
    per_unit = station_trading(
        hubs[FORGE],
        JITA,
        Skills(),
        StationFilters(max_margin=boards.STATION_MAX_MARGIN, limit=10, sort="-profit_per_unit"),
    ).rows
    # The fill reached the three lowest of the ten: a big volume each, so none is thin.
    reached = [row["type_id"] for row in per_unit[-3:]]
    today = datetime.now(UTC).date().toordinal()
    nan = float("nan")
    volumes._save(FORGE, {t: (1e6, today, nan, nan) for t in reached}, get_store())
    try:
        boards.recompute()
        version = boards.read_pointer()["version"]
        ranked = get_store().zrange(boards._rank_key(version, f"station:{JITA}"))
        first = [int(member) for member, _ in ranked[:3]]
        assert set(first) == set(reached)
        # each by its profit a day: profit per unit x 1e6 / 2 / (1 + the busier side's orders)
        by_type = {row["type_id"]: row for row in per_unit}
        expected = sorted(
            (
                by_type[t]["profit_per_unit"]
                * 1e6
                / 2
                / (1 + max(by_type[t]["buy_orders"], by_type[t]["sell_orders"]))
                for t in reached
            ),
            reverse=True,
        )
        assert [score for _, score in ranked[:3]] == pytest.approx(expected)
        # then the others, still by profit per unit
        rest = [row["type_id"] for row in per_unit if row["type_id"] not in reached]
        assert [int(member) for member, _ in ranked[3:]] == rest
    finally:
        get_store().delete("profit:daily-volumes:10000002")
        volumes.forget_read()
