"""The market pages: the status page, plus the small reads the item page's market panels and
the site-wide banner need (market/context_processors.py).

The item page's panels themselves are read and rendered by `market.item_page`, through the
`market_panels` template tag. Views stay thin: they call `market.selectors` and turn ISO
strings into datetimes for the templates; static/js/market.js keeps the status page live.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config import page_cache
from market import books, publish, selectors
from market.display import age_text, moment
from market.hubs import HUB_STATIONS
from market.snapshot import SnapshotMeta
from sde import places

log = logging.getLogger(__name__)

STATUS_POLL_MS = 2000
# A refresh's progress states (market/refresh.py) as the status page says them (so does market.js).
PROGRESS_LABELS = {
    "fetching": "Fetching pages",
    "building": "Building the snapshot",
    "published": "Published",
    "not_modified": "Not modified: the snapshot is kept",
    "failed": "Failed: the previous snapshot is kept",
    "demo": "ESI unreachable: published the demo market",
}


def _hub_names() -> dict[int, tuple[str | None, str | None]]:
    """Each trade hub's station and system name (`sde.places`, read once per installed SDE)."""
    hubs: dict[int, tuple[str | None, str | None]] = {}
    for station_id in HUB_STATIONS.values():
        where = places.describe(station_id)
        hubs[station_id] = (where.name, where.system_name)
    return hubs


def tracked_hubs() -> list[dict[str, Any]]:
    """The tracked regions in settings order, with their names and trade hubs from the SDE."""
    regions = list(settings.MARKET_REGIONS)
    names = selectors.region_names()  # every region, read once per installed SDE
    hubs = _hub_names()
    rows = []
    for region_id in regions:
        hub_id = HUB_STATIONS.get(region_id)
        hub_name, hub_system = hubs.get(hub_id, (None, None)) if hub_id else (None, None)
        rows.append(
            {
                "region_id": region_id,
                "region_name": names.get(region_id) or f"Region {region_id}",
                "hub_id": hub_id,
                "hub_name": hub_name or (f"Station {hub_id}" if hub_id else None),
                "hub_system": hub_system,
            }
        )
    return rows


# `served_metas` is read again after this many seconds (`publish.load`'s own pointer TTL): a
# cached page's key, its live ages and the banner then cost no read of the snapshots at all.
SERVED_TTL = publish.POINTER_TTL
_served: tuple[float, tuple[int, ...], int, list[SnapshotMeta | None]] | None = None


def served_metas() -> list[SnapshotMeta | None]:
    """Each tracked region's snapshot meta as this process serves it (`publish.load`: the
    snapshot the item page's panels read too), None for a region without a snapshot yet;
    kept SERVED_TTL seconds, or until this process keeps another snapshot (one it published
    itself is served at once). Raises when the store cannot be read and this process has no
    snapshot of a region (one that has one keeps serving it, as `publish.load` does)."""
    global _served
    regions = tuple(settings.MARKET_REGIONS)
    now = time.monotonic()
    kept = _served
    if (
        kept is not None
        and kept[1] == regions
        and kept[2] == publish.loaded_changes()
        and now - kept[0] < SERVED_TTL
    ):
        return kept[3]
    metas: list[SnapshotMeta | None] = []
    for region_id in regions:
        snapshot = books.view(region_id)
        if snapshot is None:
            publish.current_generation(region_id)  # raises if the store is unreachable
        metas.append(snapshot.meta if snapshot is not None else None)
    _served = (now, regions, publish.loaded_changes(), metas)
    return metas


def forget_served(**_: Any) -> None:
    """Read the snapshots again at the next call (a settings change: tests)."""
    global _served
    _served = None


setting_changed.connect(forget_served)


def banner_state() -> dict[str, Any]:
    """What the site-wide banner says: is any tracked region on the demo market, is any real
    snapshot stale (and since when did ESI last answer). Reads the snapshots this process
    serves (`served_metas`); never raises (an unreachable store gives {"unavailable": True})."""
    try:
        metas = served_metas()
        if publish.store_down():
            raise ConnectionError("the shared store is unreachable: serving this process's copy")
        demo = any(meta is not None and meta.source == "demo" for meta in metas)
        stale_since = [
            datetime.fromisoformat(fresh["fetched_at"])
            for fresh in (
                publish.freshness(meta) for meta in metas if meta and meta.source != "demo"
            )
            if fresh["stale"]
        ]
    except Exception:
        log.warning("market banner: snapshot metas unavailable", exc_info=True)
        return {"unavailable": True, "demo": False, "stale": False, "stale_since": None}
    return {
        "unavailable": False,
        "demo": demo,
        "stale": bool(stale_since),
        "stale_since": min(stale_since) if stale_since else None,
    }


def _banner_state(region_id: int, meta: SnapshotMeta | None, now: datetime) -> tuple[Any, ...]:
    """What the banner and the pages' notices show of one market besides its figures."""
    if meta is None:
        return (region_id, None)
    fresh = publish.freshness(meta, now)
    banner_age = age_text(fresh["age_seconds"]) if fresh["stale"] and meta.source != "demo" else ""
    return (region_id, meta.source, fresh["stale"], banner_age)


def banner_fingerprint() -> tuple[Any, ...]:
    """`pages_fingerprint` without the snapshots' generations: what a page that reads only
    some of the markets shows of the others (the banner's demo and stale notices). Such a
    page adds the generations it reads to its key (`generations_of`)."""
    now = datetime.now(UTC)
    states = [
        _banner_state(region_id, meta, now)
        for region_id, meta in zip(settings.MARKET_REGIONS, served_metas(), strict=True)
    ]
    return (*states, publish.store_down())


def generations_of(region_ids: Iterable[int]) -> tuple[tuple[int, str | None], ...]:
    """The generation this process serves of each of these regions (None: no snapshot, or a
    region not tracked here)."""
    metas = dict(zip(settings.MARKET_REGIONS, served_metas(), strict=True))
    return tuple(
        (region_id, meta.generation if (meta := metas.get(region_id)) else None)
        for region_id in sorted(set(region_ids))
    )


def pages_fingerprint() -> tuple[Any, ...]:
    """What the read pages show of the market, as a key part of their cache
    (config/page_cache.py): per tracked region, its snapshot's generation and source and
    whether it is stale, from the snapshots this process serves (`served_metas`, as the
    banner and the item page's panels read them); for a stale real snapshot also its age as
    words, which the banner's "ESI has not answered since ... (N minutes ago)" follows. The
    ages the item page writes are live fragments (`snapshot_age`), not part of the key. A new
    snapshot or a snapshot going stale makes a new key. Raises when the store cannot be read
    (`served_metas`): the pages then render uncached."""
    now = datetime.now(UTC)
    states = [
        (*_banner_state(region_id, meta, now), meta.generation if meta else None)
        for region_id, meta in zip(settings.MARKET_REGIONS, served_metas(), strict=True)
    ]
    return (*states, publish.store_down())  # the banner says when the store is unreachable


def snapshot_age(region_id: str) -> str:
    """A tracked region's snapshot age now, as the item page writes it ("3 min old"): the
    live fragment "age" of the cached pages."""
    metas = dict(zip(settings.MARKET_REGIONS, served_metas(), strict=True))
    meta = metas.get(int(region_id))
    return age_text(publish.freshness(meta)["age_seconds"]) if meta else ""


page_cache.register("market", pages_fingerprint)
page_cache.register("banner", banner_fingerprint)
page_cache.register_live("age", snapshot_age)


def _region_row(region: dict[str, Any], hub: dict[str, Any] | None) -> dict[str, Any]:
    snapshot = region.get("snapshot")
    refresh = region.get("refresh") or {}
    progress = region.get("progress")
    return {
        "region_id": region["region_id"],
        "name": region.get("name") or (hub or {}).get("region_name"),
        "hub": hub,
        "snapshot": snapshot,
        "esi_last_modified": moment(snapshot and snapshot.get("esi_last_modified")),
        "fetched_at": moment(snapshot and snapshot.get("fetched_at")),
        "age": age_text(snapshot["age_seconds"]) if snapshot else None,
        "refresh": refresh,
        "last_attempt_at": moment(refresh.get("last_attempt_at")),
        "last_success_at": moment(refresh.get("last_success_at")),
        "next_refresh_at": moment(refresh.get("next_refresh_at")),
        "progress": progress,
        "progress_label": PROGRESS_LABELS.get(progress["state"], progress["state"])
        if progress
        else "",
    }


def _esi_view(esi: dict[str, Any]) -> dict[str, Any]:
    limits = esi.get("limits") or {}
    return {
        "breaker": esi.get("breaker") or {},
        "error_limit": limits.get("error_limit") or {},
        "groups": sorted((limits.get("groups") or {}).items()),
        "paused_until": limits.get("paused_until"),
        "downtime": esi.get("downtime") or {},
    }


def status_page(request: HttpRequest) -> HttpResponse:
    """Every tracked region's snapshot and refresh, and the ESI budgets. market.js keeps it
    live from GET /api/v1/market/status; this render is what a browser without JS sees."""
    hubs = {hub["region_id"]: hub for hub in tracked_hubs()}
    context: dict[str, Any] = {
        "can_refresh": request.user.is_staff,
        "poll_ms": STATUS_POLL_MS,
        "now": datetime.now(UTC),
    }
    try:
        data = selectors.status()
    except Exception:
        log.warning("market status unavailable", exc_info=True)
        context["unavailable"] = True
        context["regions"] = [_region_row({"region_id": r}, hubs.get(r)) for r in hubs]
        context["esi"] = None
        return render(request, "market/status.html", context, status=503)
    context["regions"] = [_region_row(r, hubs.get(r["region_id"])) for r in data["regions"]]
    context["esi"] = _esi_view(data["esi"])
    return render(request, "market/status.html", context)
