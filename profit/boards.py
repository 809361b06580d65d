"""Opportunity boards: the best station-trading opportunities at each trade hub (the NPC hub
stations, and the structures an operator marks as hubs) and the best hauling routes between
the hubs, recomputed after each snapshot publish with default
parameters (every skill 0) and served from the shared store at once.

Storage (the shared store: Redis sorted sets, or the file store's equivalent):

- `profit:boards:current`: the pointer, JSON: `version`, `published_at`, the snapshot meta
  of every region the boards read, and the list of boards (id, kind, title, size).
- `profit:boards:<version>:<board>:rank`: a sorted set, member = row key, score = the value
  the board ranks by (profit per unit, net profit).
- `profit:boards:<version>:<board>:rows`: JSON, row key -> the row.

A recompute writes a new version's keys, then swaps the pointer in one write (readers see the
old boards or the new, never a mix) and lets the old version expire after BOARD_KEEP. One
worker computes at a time (a store lock); a recompute that finds the boards already built
from the current snapshots does nothing, so repeating it is harmless.

Open pages learn of a new board by polling its version (see docs/profit-pages.md for why a
poll rather than Server-Sent Events under gunicorn's threaded workers).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from market import books, publish, structures
from market.hubs import HUB_STATIONS
from market.snapshot import Snapshot, SnapshotMeta
from profit.fees import Skills
from profit.hauling import HaulingParams, hauling
from profit.locations import resolve_place
from profit.station import StationFilters, station_trading
from sde.places import Place
from store import Store, get_store

log = logging.getLogger(__name__)

POINTER = "profit:boards:current"
LOCK = "profit:boards:recompute"
# Rows kept per board, and how long a replaced version stays readable.
BOARD_SIZE = 50  # a board built on its own; compute_boards uses PROFIT_BOARD_SIZE
BOARD_KEEP = 3600.0
LOCK_TTL = 300.0
# Boards of hubs whose snapshot changed while a recompute ran are rebuilt at once, up to
# this many rounds (beat's periodic check catches anything later).
MAX_ROUNDS = 3
HAULING_BOARD = "hauling"
# Station boards leave out spreads no real trade fills: junk asks and lowball bids.
STATION_MAX_MARGIN = 0.5


@dataclass
class Board:
    id: str
    kind: str  # "station" or "hauling"
    title: str
    score_key: str  # the row value the board ranks by
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)  # row key -> row
    extra: dict[str, Any] = field(default_factory=dict)
    # The rank of each row when it is not simply row[score_key] (higher first).
    scores: dict[str, float] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "score": self.score_key,
            "size": len(self.rows),
            **self.extra,
        }


# --- Computing -----------------------------------------------------------------------------


def hub_snapshots(store: Store | None = None) -> dict[int, Snapshot]:
    """The current market (market.books.view) of every tracked region that has a trade hub,
    and of the region of every structure marked as a hub (those that have one)."""
    found = {}
    regions = [r for r in settings.MARKET_REGIONS if r in HUB_STATIONS]
    regions += [hub.region_id for hub in structures.hubs() if hub.shared and hub.region_id]
    for region_id in dict.fromkeys(regions):
        snapshot = books.view(region_id, store=store)
        if snapshot is not None:
            found[region_id] = snapshot
    return found


def hub_places(snapshots: Mapping[int, Snapshot]) -> list[tuple[Snapshot, Place]]:
    """Every hub the boards cover, in settings order: each region's NPC trade hub station,
    then each structure an operator marked as a hub whose region's market is read here (its
    book shared by a member: docs/structures.md)."""
    hubs = [
        (snapshots[r], resolve_place(HUB_STATIONS[r]))
        for r in sorted(snapshots, key=_hub_order)
        if r in HUB_STATIONS
    ]
    for hub in structures.hubs():
        snapshot = snapshots.get(hub.region_id) if hub.shared and hub.region_id else None
        if snapshot is not None:
            hubs.append((snapshot, resolve_place(hub.structure_id)))
    return hubs


def station_board(snapshot: Snapshot, where: Place, size: int = BOARD_SIZE) -> Board:
    """The best station trades at one hub, ranked by profit a day; while the history fill
    has not reached a type, its row follows the known ones, by profit per unit (the
    engine's order)."""
    filters = StationFilters(max_margin=STATION_MAX_MARGIN, sort="-daily_profit", limit=size)
    rows = station_trading(snapshot, where.id, Skills(), filters).rows
    board = Board(
        id=f"station:{where.id}",
        kind="station",
        title=where.name,
        score_key="daily_profit",
        extra={"station_id": where.id, "region_id": snapshot.meta.region_id},
    )
    board.rows = {str(row["type_id"]): row for row in rows[:size]}
    board.scores = {
        key: row["daily_profit"] if row["daily_profit"] is not None else -1.0 - i
        for i, (key, row) in enumerate(board.rows.items())
    }
    return board


def hauling_board(hubs: Sequence[tuple[Snapshot, Place]], size: int = BOARD_SIZE) -> Board:
    """The best routes from each hub to every other hub (default parameters), merged."""
    rows: list[dict[str, Any]] = []
    for source in hubs:
        others = [hub for hub in hubs if hub is not source]
        if not others:
            continue
        haul = hauling(
            [source],
            others,
            Skills(),
            HaulingParams(
                sort="-net_profit",
                limit=size,
                cargo_m3=settings.PROFIT_BOARD_CARGO_M3,
                budget=settings.PROFIT_BOARD_BUDGET,
            ),
        )
        rows.extend(haul.rows)
    rows.sort(key=lambda row: -row["net_profit"])
    board = Board(
        id=HAULING_BOARD,
        kind="hauling",
        title=(
            f"Hauling between the hubs ({settings.PROFIT_BOARD_CARGO_M3:,.0f} m³, "
            f"{settings.PROFIT_BOARD_BUDGET / 1e6:,.0f}M ISK)"
        ),
        score_key="net_profit",
        extra={
            "station_ids": [where.id for _, where in hubs],
            "cargo_m3": settings.PROFIT_BOARD_CARGO_M3,
            "budget": settings.PROFIT_BOARD_BUDGET,
        },
    )
    board.rows = {
        f"{row['type_id']}:{row['from_location_id']}:{row['to_location_id']}": row
        for row in rows[:size]
    }
    return board


def compute_boards(snapshots: Mapping[int, Snapshot], size: int | None = None) -> list[Board]:
    size = size or settings.PROFIT_BOARD_SIZE
    hubs = hub_places(snapshots)
    boards = [station_board(snapshot, where, size) for snapshot, where in hubs]
    if len(hubs) > 1:
        boards.append(hauling_board(hubs, size))
    return boards


def _hub_order(region_id: int) -> int:
    regions = list(settings.MARKET_REGIONS)
    return regions.index(region_id) if region_id in regions else len(regions)


# --- Publishing ----------------------------------------------------------------------------


def _rank_key(version: str, board_id: str) -> str:
    return f"profit:boards:{version}:{board_id}:rank"


def _rows_key(version: str, board_id: str) -> str:
    return f"profit:boards:{version}:{board_id}:rows"


def new_version() -> str:
    return publish.new_generation()


def publish_boards(
    boards: list[Board], snapshots: Mapping[int, Snapshot], store: Store | None = None
) -> dict[str, Any]:
    """Write a new version of the boards, then swap the pointer to it."""
    store = store or get_store()
    version = new_version()
    for board in boards:
        scores = board.scores or {
            key: float(row[board.score_key]) for key, row in board.rows.items()
        }
        store.set_json(_rows_key(version, board.id), board.rows)
        store.zadd(_rank_key(version, board.id), scores)
    previous = read_pointer(store)
    pointer = {
        "version": version,
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "snapshots": {str(r): s.meta.to_json() for r, s in sorted(snapshots.items())},
        "structure_fees": structures.fees_version(),
        "boards": [board.describe() for board in boards],
    }
    store.set_json(POINTER, pointer)  # the swap
    if previous and previous.get("version") != version:
        for board in previous.get("boards", []):
            store.expire(_rank_key(previous["version"], board["id"]), BOARD_KEEP)
            store.expire(_rows_key(previous["version"], board["id"]), BOARD_KEEP)
    log.info(
        "published boards version=%s boards=%s",
        version,
        len(boards),
        extra={"board_version": version, "built_from": _generations(snapshots)},
    )
    return pointer


def read_pointer(store: Store | None = None) -> dict[str, Any] | None:
    value = (store or get_store()).get_json(POINTER)
    return dict(value) if value else None


def _generations(snapshots: Mapping[int, Snapshot]) -> dict[str, str]:
    return {str(r): s.meta.generation for r, s in snapshots.items()}


def _built_from(pointer: Mapping[str, Any] | None) -> dict[str, str] | None:
    if not pointer:
        return None
    return {r: meta["generation"] for r, meta in pointer.get("snapshots", {}).items()}


def recompute(
    store: Store | None = None,
    *,
    force: bool = False,
    compute: Callable[[Mapping[int, Snapshot]], list[Board]] = compute_boards,
) -> str:
    """Rebuild the boards from the current snapshots, unless another worker is at it
    ("busy") or they were built from these snapshots already ("unchanged"). Returns
    "published", "unchanged", "busy" or "no_snapshots"."""
    store = store or get_store()
    lock = store.lock(LOCK, ttl=LOCK_TTL)
    if not lock.acquire():
        return "busy"
    result = "unchanged"
    try:
        for _ in range(MAX_ROUNDS):
            snapshots = hub_snapshots(store)
            if not snapshots:
                return "no_snapshots"
            pointer = read_pointer(store)
            same_fees = (pointer or {}).get("structure_fees", []) == structures.fees_version()
            if not force and same_fees and _built_from(pointer) == _generations(snapshots):
                break
            started = time.monotonic()
            boards = compute(snapshots)
            lock.extend(LOCK_TTL)
            publish_boards(boards, snapshots, store)
            log.info("boards computed in %.2f s", time.monotonic() - started)
            result, force = "published", False
    finally:
        lock.release()
    return result


# --- Reading -------------------------------------------------------------------------------

_cache_lock = threading.Lock()
_cache: dict[tuple[str, str, int], dict[str, Any]] = {}  # (version, board, limit) -> board


def _board_rows(store: Store, version: str, board: Mapping[str, Any], limit: int) -> dict[str, Any]:
    key = (version, board["id"], limit)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    ranked = store.zrange(_rank_key(version, board["id"]), 0, limit - 1)
    rows = store.get_json(_rows_key(version, board["id"]), default={})
    answer = {
        **{k: board[k] for k in ("id", "kind", "title", "size")},
        **{k: v for k, v in board.items() if k not in ("id", "kind", "title", "size", "score")},
        "rows": [rows[member] for member, _ in ranked if member in rows],
    }
    with _cache_lock:
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = answer
    return answer


class UnknownBoard(Exception):
    pass


def read_boards(
    limit: int = 20, board_id: str | None = None, store: Store | None = None
) -> dict[str, Any]:
    """The current boards, best rows first (an empty answer before the first recompute).
    Costs one small read, of the pointer, once a version's rows are in this process."""
    store = store or get_store()
    pointer = read_pointer(store)
    if pointer is None:
        if board_id is not None:
            raise UnknownBoard(f"No board {board_id!r}: no boards are published yet.")
        return {"version": None, "published_at": None, "snapshots": [], "boards": []}
    boards = pointer.get("boards", [])
    if board_id is not None:
        boards = [b for b in boards if b["id"] == board_id]
        if not boards:
            known = ", ".join(b["id"] for b in pointer.get("boards", []))
            raise UnknownBoard(f"No board {board_id!r}; the boards are: {known}.")
    return {
        "version": pointer["version"],
        "published_at": pointer["published_at"],
        "snapshots": [
            publish.freshness(SnapshotMeta.from_json(meta))
            for _, meta in sorted(pointer.get("snapshots", {}).items())
        ],
        # Copies: callers may decorate a board; the rows stay shared (read-only).
        "boards": [dict(_board_rows(store, pointer["version"], b, limit)) for b in boards],
    }


def board_version(store: Store | None = None) -> dict[str, Any]:
    """What a page polls: the current version and when it was published."""
    pointer = read_pointer(store)
    if pointer is None:
        return {"version": None, "published_at": None}
    return {"version": pointer["version"], "published_at": pointer["published_at"]}
