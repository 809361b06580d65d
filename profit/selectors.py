"""Reads of profit, shared by the API and the pages: station trading, hauling and the trade
calculator over published snapshots (never ESI), each answer naming the snapshots it used.

The engines (profit/station.py, profit/hauling.py, profit/calculator.py) do the math; this
module finds the places and snapshots a request names, pins generations for permalinks,
keeps what the engines found per snapshot generation (a search's trades or routes, without
its filters, sort and limit: each question ranks them anew and computes nothing else), and
raises one `ProfitError` subclass per HTTP status for the callers.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence, Sized
from dataclasses import fields, is_dataclass, replace
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from django.conf import settings

from config import slots
from market import books, structures
from market.selectors import MarketNotFound
from market.selectors import market_type as name_of
from market.snapshot import Snapshot, SnapshotMeta
from profit import hauling as haul
from profit import station as scan
from profit.calculator import CalculatorError
from profit.calculator import calculate as price_trade
from profit.fees import Skills, rates_used
from profit.hauling import Haul, HaulingParams
from profit.locations import place_mask, resolve_place
from profit.params import snapshots_param
from profit.station import Scan, StationFilters
from profit.volumes import DailyVolumes, daily_volume_table, volume_coverage
from sde import routes
from sde.places import Place, UnknownPlace, place_json

T = TypeVar("T")
Entry = tuple[Snapshot, Place]
log = logging.getLogger(__name__)


class ProfitError(Exception):
    """A request profit cannot answer; `status` is its HTTP status."""

    status = 400


class BadRequest(ProfitError):
    status = 400


class NotFound(ProfitError):
    status = 404


class SnapshotGone(ProfitError):
    """A pinned generation is no longer kept (a permalink outlived it)."""

    status = 410


class NoSnapshot(ProfitError):
    """A region the request needs has no snapshot (not tracked, or not yet refreshed)."""

    status = 503


class Busy(ProfitError):
    """Every heavy slot of this process is taken (config/slots.py): 503 with Retry-After."""

    status = 503

    def __init__(self, busy: slots.Busy) -> None:
        super().__init__(str(busy))
        self.retry_after = busy.retry_after


def heavy(compute: Callable[[], T]) -> Callable[[], T]:
    """`compute` run inside one of the process's heavy slots (`Busy` when none is free)."""

    def run() -> T:
        try:
            with slots.heavy_slot():
                return compute()
        except slots.Busy as exc:
            raise Busy(exc) from exc

    return run


# --- Places and snapshots ------------------------------------------------------------------


def place(location_id: int) -> Place:
    """The station, structure, system or region with this id."""
    try:
        return resolve_place(location_id)
    except UnknownPlace as exc:
        raise NotFound(exc.message) from exc


def snapshot_for(region_id: int, pinned: Mapping[int, str]) -> Snapshot:
    """The region's market (market.books.view: its book and its shared structures'), as
    current or at the generations `pinned` names (by book id: region or structure)."""
    generation = pinned.get(region_id)
    untracked = region_id not in settings.MARKET_REGIONS
    if generation is None and untracked and not structures.shared_in(region_id):  # never will
        tracked = ", ".join(str(r) for r in settings.MARKET_REGIONS)
        raise NotFound(
            f"Region {region_id} is not tracked and no member shares a structure market in "
            f"it, so it has no market snapshot (tracked regions: {tracked}; see "
            "/market/status/)."
        )
    try:
        snapshot = books.view(region_id, pinned)
    except books.PinnedGone as exc:
        raise SnapshotGone(_gone(f"structure {exc.book_id}", exc.generation)) from exc
    if snapshot is None and generation is not None:
        raise SnapshotGone(_gone(f"region {region_id}", generation))
    if snapshot is None:
        raise NoSnapshot(
            f"No market snapshot of region {region_id} yet; the first refresh is on its way "
            "(see /market/status/)."
        )
    return snapshot


def _gone(book: str, generation: str) -> str:
    keep = int(settings.MARKET_SNAPSHOT_KEEP // 60)
    return (
        f"Snapshot {generation} of {book} is no longer kept (a replaced snapshot is kept for "
        f"{keep} minutes). Leave out `snapshots` to use the current one."
    )


def _structure_region(location_id: int, pinned: Mapping[int, str]) -> int:
    """The tracked region whose market has orders at this structure."""
    for region_id in settings.MARKET_REGIONS:
        try:
            snapshot = snapshot_for(region_id, pinned)
        except NoSnapshot:
            continue
        if bool(np.any(snapshot.stations["location_id"] == location_id)):
            return int(region_id)
    raise NotFound(
        f"No orders at structure {location_id} in any tracked region's snapshot "
        "(a structure's market is only known from its orders)."
    )


def located(where: Place, pinned: Mapping[int, str]) -> tuple[Snapshot, Place]:
    """A place with the snapshot of its region (a structure's found from the snapshots)."""
    region_id = where.region_id
    if region_id is None:
        region_id = _structure_region(where.id, pinned)
        where = replace(where, region_id=region_id)
    return snapshot_for(region_id, pinned), where


def freshness(snapshots: Sequence[Snapshot]) -> list[dict[str, Any]]:
    """The `snapshots` block: each book used (a region's, a shared structure's), once, by id."""
    seen: dict[int, SnapshotMeta] = {}
    for snapshot in snapshots:
        for meta in snapshot.parts:
            seen.setdefault(meta.region_id, meta)
    return [books.freshness(seen[book]) for book in sorted(seen)]


def generations(snapshots: Sequence[Snapshot]) -> dict[int, str]:
    """The generation of each book used, by id (what a permalink pins)."""
    return {meta.region_id: meta.generation for s in snapshots for meta in s.parts}


def permalink_snapshots(snapshots: Sequence[Snapshot]) -> str:
    return snapshots_param(generations(snapshots))


# --- Computed answers, kept per snapshot generation -----------------------------------------


class Computed:
    """Least recently used answers of this process, keyed by their inputs and the snapshot
    generations they read (a new snapshot is a new key: nothing to invalidate).

    Bounded by the rows it holds, not only by the answers: a region-to-region haul is
    thousands of rows (a few MB), and every gunicorn worker keeps its own. At most
    `max_rows` rows (`PROFIT_COMPUTED_ROWS`) and `size` answers are kept."""

    def __init__(self, size: int, max_rows: int) -> None:
        self.size = size
        self.max_rows = max_rows
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._rows = 0
        self._lock = threading.Lock()

    @staticmethod
    def _weight(value: Any) -> int:
        rows = value.get("rows") if isinstance(value, dict) else value
        return max(1, len(rows)) if isinstance(rows, Sized) else 1

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        weight = self._weight(value)
        if weight > self.max_rows:
            return value  # larger than the whole budget: answered, not kept
        with self._lock:
            if key not in self._items:
                self._items[key] = value
                self._rows += weight
            while len(self._items) > self.size or self._rows > self.max_rows:
                _, dropped = self._items.popitem(last=False)
                self._rows -= self._weight(dropped)
        return value

    @property
    def rows(self) -> int:
        return self._rows

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._rows = 0


computed = Computed(settings.PROFIT_COMPUTED_KEEP, settings.PROFIT_COMPUTED_ROWS)


def daily_volumes(region_id: int) -> DailyVolumes:
    """The region's stored daily volumes; none while the store cannot be read (they are a
    column and a filter, never a reason to fail)."""
    try:
        return daily_volume_table(region_id)
    except Exception:
        log.warning("daily volumes of %s unreadable", region_id, exc_info=True)
        return DailyVolumes(region_id, np.empty(0, np.int64), np.empty(0, np.float64))


def volumes_seen(volumes: DailyVolumes) -> tuple[int, int, float]:
    """A fingerprint of a region's stored daily volumes: they change as their task works
    through the types, so answers that use them are keyed by it too."""
    return (
        len(volumes.type_ids),
        int(volumes.days.sum()),
        float(volumes.volumes.sum())
        + float(np.nansum(volumes.price_highs))
        + float(np.nansum(volumes.price_mids)),
    )


def _key(*parts: Any) -> str:
    return json.dumps([_plain(p) for p in parts], sort_keys=True, default=str)


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(value)
    return value


def rates_json(skills: Skills, location_ids: Sequence[int]) -> dict[str, Any]:
    """Every rate an answer used, the schedule it came from, and the broker fee at each
    location, with its formula."""
    return rates_used(skills, location_ids)


def _ranked(result: Scan | Haul, **more: Any) -> dict[str, Any]:
    """A kept answer of ranked rows (made into dicts as pages read them) and `more`."""
    return {"rows": result.rows, "total": int(result.total), "hidden": result.hidden, **more}


# --- Station trading -----------------------------------------------------------------------

STATION_FILTER_FIELDS = (
    "min_profit",
    "min_margin",
    "max_margin",
    "min_daily_volume",
    "max_price",
    "market_group_id",
    "category_id",
    "sort",
    "limit",
    "hide",
)


def station_filters(data: Mapping[str, Any]) -> StationFilters:
    """The engine's StationFilters from validated parameters (its defaults for the rest)."""
    return StationFilters(**{k: data[k] for k in STATION_FILTER_FIELDS if data.get(k) is not None})


def station_parameters(filters: StationFilters) -> dict[str, Any]:
    """Every station-trading parameter the engine used, defaults included."""
    return {name: getattr(filters, name) for name in STATION_FILTER_FIELDS}


def station_trading(
    *,
    station_id: int,
    skills: Skills,
    filters: StationFilters,
    pinned: Mapping[int, str],
) -> dict[str, Any]:
    """Every opportunity at one station (all rows; the caller pages), its snapshot, the
    station and the rates used."""
    where = place(station_id)
    if where.kind not in ("station", "structure"):
        raise BadRequest(
            f"station_id {station_id} is a {where.kind} ({where.name}); station trading needs "
            "a station or structure id."
        )
    snapshot, where = located(where, pinned)
    volumes = daily_volumes(snapshot.meta.region_id)

    # Every trade at the station is kept, not the answer: the filters, the sort and the limit
    # rank the kept trades anew for each question (a tenth of a millisecond at Jita), so the
    # people's few hundred station-trading questions are a few stations' scans.
    found = computed.get_or_compute(
        _key(
            "station trades",
            station_id,
            skills,
            snapshot.meta.generation,
            volumes_seen(volumes),
            structures.fees_version(),
        ),
        heavy(lambda: scan.find(snapshot, station_id, skills, volumes=volumes)),
    )

    result = scan.rank(found, filters)
    answer = _ranked(
        result,
        volumes={"known": result.volumes_known, "total": result.volumes_total},
        rates=rates_json(skills, [station_id]),
    )
    # Read apart from the kept trades: the fill can finish without changing the volumes.
    filling = volume_coverage(snapshot.meta.region_id, []).filling
    return {
        "snapshots": [snapshot],
        "station": place_json(where),
        **answer,
        "volumes": {**answer["volumes"], "filling": filling},
    }


def station_trading_for(data: Mapping[str, Any], skills: Skills) -> dict[str, Any]:
    """`station_trading` for validated StationTradingParams (the API's and the page's)."""
    return station_trading(
        station_id=data["station_id"],
        skills=skills,
        filters=station_filters(data),
        pinned=data.get("snapshots", {}),
    )


# --- Hauling -------------------------------------------------------------------------------

HAULING_FIELDS = (
    "mode",
    "cargo_m3",
    "budget",
    "min_profit",
    "min_roi",
    "max_jumps",
    "preference",
    "security",
    "sort",
    "limit",
    "days_to_sell",
    "hide",
    "market_group_id",
    "category_id",
)


def hauling_params(data: Mapping[str, Any]) -> HaulingParams:
    """The engine's HaulingParams from validated parameters (its defaults for the rest)."""
    return HaulingParams(**{k: data[k] for k in HAULING_FIELDS if data.get(k) is not None})


def hauling_parameters(params: HaulingParams) -> dict[str, Any]:
    """Every hauling parameter the engine used, defaults included."""
    return {name: getattr(params, name) for name in HAULING_FIELDS}


def hauling(
    *,
    from_ids: Sequence[int],
    to_ids: Sequence[int],
    skills: Skills,
    params: HaulingParams,
    pinned: Mapping[int, str],
) -> dict[str, Any]:
    """Every hauling opportunity from the `from` places to the `to` places (all rows)."""
    sources = [located(place(i), pinned) for i in from_ids]
    destinations = [located(place(i), pinned) for i in to_ids]
    check_place_pairs(sources, destinations)
    used = [s for s, _ in sources] + [s for s, _ in destinations]

    # every region's: the destinations' for volumes, and both ends' for the history check
    volumes = {s.meta.region_id: daily_volumes(s.meta.region_id) for s in used}

    # Every route is kept, not the answer: the ranking parameters (haul.RANKING) rank the
    # kept routes anew for each question (under a millisecond between hubs, 5-16 ms for a
    # region's 7,000-16,000 routes in list mode, against 25-160 ms to find them).
    found = computed.get_or_compute(
        _key(
            "hauling routes",
            [p.id for _, p in sources],
            [p.id for _, p in destinations],
            skills,
            haul.finding(params),
            sorted(generations(used).items()),
            # the destinations' daily volumes: a column, and list mode's caps
            [volumes_seen(v) for _, v in sorted(volumes.items())],
            structures.fees_version(),
        ),
        heavy(lambda: haul.find(sources, destinations, skills, params, volumes=volumes)),
    )

    result = haul.rank(found, params)
    answer = _ranked(result, rates=dict(result.rates))
    return {
        "snapshots": used,
        "from": [place_json(p) for _, p in sources],
        "to": [place_json(p) for _, p in destinations],
        **answer,
    }


def stations_with_orders(snapshot: Snapshot, where: Place) -> npt.NDArray[np.int64]:
    """The stations and structures a hauling place stands for: itself, or a system's or
    region's stations with orders in the snapshot."""
    if where.kind == "region":
        if snapshot.meta.region_id != where.id:
            return np.empty(0, np.int64)
        return np.unique(snapshot.stations["location_id"]).astype(np.int64)
    if where.kind == "system":
        book = snapshot.book
        return np.unique(book["location_id"][place_mask(snapshot, where)]).astype(np.int64)
    return np.array([where.id], np.int64)


def check_place_pairs(sources: Sequence[Entry], destinations: Sequence[Entry]) -> int:
    """The (source, destination) station pairs a hauling search expands to; a BadRequest
    naming the cap when they are more than `PROFIT_MAX_PLACE_PAIRS`."""

    def stations(entries: Sequence[Entry]) -> int:
        found = [stations_with_orders(snapshot, where) for snapshot, where in entries]
        return len(np.unique(np.concatenate(found))) if found else 0

    n_from, n_to = stations(sources), stations(destinations)
    pairs = n_from * n_to
    cap = int(settings.PROFIT_MAX_PLACE_PAIRS)
    if pairs > cap:
        raise BadRequest(
            f"This hauling search expands to {n_from:,} source stations x {n_to:,} "
            f"destination stations = {pairs:,} place pairs (a region counts its stations with "
            f"orders); at most {cap:,} are searched at once (PROFIT_MAX_PLACE_PAIRS). Name "
            "fewer or smaller places: a region to a region fits, or stations and systems."
        )
    return pairs


def hauling_for(data: Mapping[str, Any], skills: Skills) -> dict[str, Any]:
    """`hauling` for validated HaulingParams (the API's and the page's)."""
    return hauling(
        from_ids=data["from"],
        to_ids=data["to"],
        skills=skills,
        params=hauling_params(data),
        pinned=data.get("snapshots", {}),
    )


# --- The trade calculator ------------------------------------------------------------------


def calculate(
    *,
    type_id: int,
    buy_location: int,
    sell_location: int,
    quantity: int,
    mode: str,
    skills: Skills,
    pinned: Mapping[int, str],
    **route: Any,
) -> dict[str, Any]:
    """One trade, itemised: the engine's breakdown plus the snapshots and places used.
    `route`: preference and security when given (else the engine's defaults)."""
    market_type(type_id)
    buy_snapshot, buy_place = located(place(buy_location), pinned)
    sell_snapshot, sell_place = located(place(sell_location), pinned)
    used = [buy_snapshot, sell_snapshot]
    route = {
        "preference": route.get("preference") or routes.DEFAULT_PREFERENCE,
        "security": route.get("security") or routes.DEFAULT_SECURITY,
    }
    try:
        breakdown = heavy(
            lambda: price_trade(
                type_id,
                buy_place,
                sell_place,
                quantity,
                mode,
                skills,
                snapshots={s.meta.region_id: s for s in used},
                **route,
            )
        )()
    except CalculatorError as exc:
        raise BadRequest(str(exc)) from exc
    return {
        "route": route,
        "snapshots": used,
        "buy_location": place_json(buy_place),
        "sell_location": place_json(sell_place),
        "breakdown": breakdown,
    }


def calculate_for(data: Mapping[str, Any], skills: Skills) -> dict[str, Any]:
    """`calculate` for a validated CalculateIn body (the API's and the page's)."""
    return calculate(
        type_id=data["type_id"],
        buy_location=data["buy_location"],
        sell_location=data["sell_location"],
        quantity=data["quantity"],
        mode=data["mode"],
        skills=skills,
        pinned=data.get("snapshots", {}),
        preference=data.get("preference"),
        security=data.get("security"),
    )


def market_type(type_id: int) -> str:
    try:
        return name_of(type_id)
    except MarketNotFound as exc:
        raise NotFound(str(exc)) from exc


# --- Pages of rows -------------------------------------------------------------------------


def paginate(rows: Sequence[T], page: int, page_size: int) -> tuple[list[T], dict[str, int]]:
    """One page of rows (pages count from 1) and the counts an answer states. A page past
    the last is a 404 (an empty result still has its page 1)."""
    count = len(rows)
    pages = max(1, -(-count // page_size))
    if page > pages:
        raise NotFound(f"Page {page} does not exist: there are {pages} of {page_size} rows.")
    start = (page - 1) * page_size
    return list(rows[start : start + page_size]), {
        "count": count,
        "page": page,
        "page_size": page_size,
        "pages": pages,
    }
