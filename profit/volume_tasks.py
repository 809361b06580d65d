"""Celery tasks that keep the daily volumes (`profit/volumes.py`) filled, in the worker only.

One fill serves every tracked region, so that the types people see first are fetched first
wherever they are (docs/tasks.md):

1. the opportunity types of every hub: those with a profitable station trade at the hub
   (`profit.station.station_trading`, default skills, no filter) and those of the stored
   hauling board's rows (at both ends);
2. then the rest of each hub's types, the most ISK on the hub's book first
   (`volumes.hub_types_by_value`).

Within each of the two the regions take turns, one type each, in MARKET_REGIONS' order.

`dispatch_daily_volumes` (run by beat every few minutes) queues `fill_daily_volumes_task`
when a tracked region is not complete for today. A run holds the fill's lock, plans from the
current snapshots, fetches history until the minute's share of the shared history budget is
used, saves what it got, marks the regions it completed (`volumes.mark_filled`) and queues
itself again for the next minute while types remain. A lost chain is harmless: the next
dispatch queues it again.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime

from celery import shared_task
from django.conf import settings

from market import publish
from market.generator import hub_station
from market.hubs import HUB_STATIONS
from market.snapshot import Snapshot
from profit.boards import HAULING_BOARD, UnknownBoard, read_boards
from profit.fees import Skills
from profit.station import station_trading
from profit.volumes import fill_daily_volumes, filled_on, hub_types_by_value, mark_filled
from store import Store, get_store
from store.queued import QueuedOnce

log = logging.getLogger(__name__)

LOCK = "profit:daily-volumes-fill"
LOCK_TTL = 120.0
RUN_SECONDS = 90.0  # one run stops after this long and queues the next
QUEUED_TTL = 600.0
QUEUED = QueuedOnce(key="profit:daily-volumes-queued:{}".format, ttl=QUEUED_TTL)
FILL = 0  # the QueuedOnce subject of the one fill (every region)


def _today() -> date:
    return datetime.now(UTC).date()


# --- The order of the work -----------------------------------------------------------------


def station_opportunity_types(snapshot: Snapshot) -> set[int]:
    """The types with a profitable station trade at the region's trade hub (default skills,
    the stored volumes and prices, no filter: what the station-trading page lists first);
    none for a region without one of the five hubs."""
    hub = HUB_STATIONS.get(snapshot.meta.region_id)
    if hub is None:
        return set()
    return {int(row["type_id"]) for row in station_trading(snapshot, hub, Skills()).rows}


def hauling_opportunity_types(
    regions: Collection[int], store: Store | None = None
) -> dict[int, set[int]]:
    """The types of the stored hauling board's rows, per tracked region at either end of the
    row (its hub station); none before the boards are first published."""
    at_hub = {hub_station(r): r for r in regions}
    try:
        (board,) = read_boards(settings.PROFIT_BOARD_SIZE, board_id=HAULING_BOARD, store=store)[
            "boards"
        ]
    except UnknownBoard:
        return {}
    found: dict[int, set[int]] = {}
    for row in board["rows"]:
        for end in ("from_location_id", "to_location_id"):
            region_id = at_hub.get(row[end])
            if region_id is not None:
                found.setdefault(region_id, set()).add(int(row["type_id"]))
    return found


def fill_order(
    by_value: Mapping[int, Sequence[int]], opportunities: Mapping[int, Collection[int]]
) -> list[tuple[int, int]]:
    """(region, type) pairs in the order to fetch them: every region's opportunity types,
    then the rest of every region's types. `by_value`: each region's hub types, the most ISK
    on the book first, which orders each region's types within both parts (opportunity types
    not on the hub's book follow the others, by id); the regions take turns in the order of
    `by_value`."""
    first: dict[int, list[int]] = {}
    rest: dict[int, list[int]] = {}
    for region_id, types in by_value.items():
        wanted = opportunities.get(region_id, ())
        first[region_id] = [t for t in types if t in wanted]
        first[region_id] += sorted(set(wanted) - set(types))
        rest[region_id] = [t for t in types if t not in wanted]
    return _taking_turns(first) + _taking_turns(rest)


def _taking_turns(lists: Mapping[int, Sequence[int]]) -> list[tuple[int, int]]:
    rounds = itertools.zip_longest(*([(r, t) for t in types] for r, types in lists.items()))
    return [pair for turn in rounds for pair in turn if pair is not None]


def volume_fill_plan(
    snapshots: Mapping[int, Snapshot], store: Store | None = None
) -> list[tuple[int, int]]:
    """The fill's order of work over these regions' snapshots (region -> snapshot, in the
    order the regions take turns)."""
    opportunities = hauling_opportunity_types(snapshots, store)
    for region_id, snapshot in snapshots.items():
        try:
            found = station_opportunity_types(snapshot)
        except Exception:  # the fill goes on by book value: volumes must not wait on it
            log.exception("station opportunities of %s for the volume fill", region_id)
            continue
        opportunities.setdefault(region_id, set()).update(found)
    by_value = {r: hub_types_by_value(s) for r, s in snapshots.items()}
    return fill_order(by_value, opportunities)


# --- The tasks -----------------------------------------------------------------------------


def _due(store: Store, today: date) -> list[int]:
    return [r for r in settings.MARKET_REGIONS if filled_on(r, store) != today]


@shared_task(ignore_result=True)
def dispatch_daily_volumes() -> list[int]:
    """Queue the fill when a tracked region is not done today (and it is not queued); the
    regions it is for, or [] when nothing was queued."""
    store = get_store()
    due = _due(store, _today())
    if due and QUEUED.queue(FILL, fill_daily_volumes_task.delay, store):
        return due
    return []


@shared_task(ignore_result=True)
def fill_daily_volumes_task() -> str:
    """One run of the fill over the regions not done today; repeats itself while types
    remain."""
    store = get_store()
    lock = store.lock(LOCK, ttl=LOCK_TTL)
    if not lock.acquire():
        return "busy"
    today = _today()
    try:
        # A region without a snapshot is left for a later run: its types are not known yet.
        due = [(r, publish.load(r, store=store)) for r in _due(store, today)]
        snapshots = {r: snapshot for r, snapshot in due if snapshot is not None}
        result = fill_daily_volumes(
            volume_fill_plan(snapshots, store),
            today=today,
            deadline=time.monotonic() + RUN_SECONDS,
            store=store,
        )
        for region_id in snapshots:
            if result.remaining.get(region_id, 0) == 0:
                mark_filled(region_id, today, store)
    finally:
        lock.release()
    if not any(result.remaining.values()):
        QUEUED.clear(FILL, store)
        return "done"
    if result.stopped == "esi":
        QUEUED.clear(FILL, store)  # the next dispatch tries again
        return "esi"
    delay = 1.0
    if result.resume_at is not None:
        delay = max(1.0, (result.resume_at - datetime.now(UTC)).total_seconds() + 1.0)
    QUEUED.mark(FILL, store)  # still queued: by itself, for the next minute
    fill_daily_volumes_task.apply_async(countdown=delay)
    return "continues"
