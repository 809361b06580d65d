"""Reads of the SDE, shared by the API and the pages: each returns plain dicts or lists.

Functions raise `SdeNotFound` for an unknown id; callers turn it into a 404. These are the
SDE browser's listings and detail pages; "what is this location id, what is it called, where
is it" for everything else is `sde.places` (docs/places.md).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections
from django.db.models import Count, Q

from sde import packaged_volumes
from sde.models import (
    ActivityId,
    IndustryActivity,
    IndustryActivityMaterial,
    IndustryActivityProduct,
    InvMarketGroup,
    InvMetaType,
    InvType,
    InvVolume,
    MapRegion,
    MapSolarSystem,
    StaStation,
)

IMAGE_SERVER = "https://images.evetech.net"
T = TypeVar("T")


class SdeNotFound(Exception):
    def __init__(self, kind: str, ident: int) -> None:
        super().__init__(f"No {kind} with id {ident} in the installed SDE.")


def installed_sde() -> tuple[int, int]:
    """The installed SDE file, told apart from the one it replaces: inode and mtime."""
    stat = os.stat(Path(settings.SDE_PATH))
    return (stat.st_ino, stat.st_mtime_ns)


def per_installed_sde(load: Callable[[], T]) -> Callable[[], T]:
    """Memoise `load()` until the SDE file is replaced (`installed_sde`)."""
    lock = threading.Lock()
    memo: dict[tuple[int, int], T] = {}

    def cached() -> T:
        key = installed_sde()
        if key not in memo:
            with lock:
                if key not in memo:
                    value = load()
                    memo.clear()
                    memo[key] = value
        return memo[key]

    return cached


# --- Security ------------------------------------------------------------------------------


def security_band(security: float | None) -> str:
    """High-sec, low-sec or null-sec, from the security status the game shows."""
    shown = display_security(security)
    if shown is None:
        return "unknown"
    if shown >= 0.5:
        return "high"
    if shown > 0.0:
        return "low"
    return "null"


def display_security(security: float | None) -> float | None:
    """The one-decimal security status the game shows (true security, rounded)."""
    if security is None:
        return None
    if 0 < security < 0.05:
        return 0.1  # the game never shows a positive system as 0.0
    return round(security, 1)


# --- Market groups -------------------------------------------------------------------------


@per_installed_sde
def _market_groups() -> dict[int, tuple[str, int | None, bool]]:
    rows = InvMarketGroup.objects.values_list(
        "market_group_id", "market_group_name", "parent_group_id", "has_types"
    )
    return {gid: (name or "", parent, bool(has)) for gid, name, parent, has in rows}


def market_group_path(market_group_id: int | None) -> list[dict[str, Any]]:
    """Root-first breadcrumb of a market group (empty for none or an unknown group)."""
    groups = _market_groups()
    path: list[dict[str, Any]] = []
    seen: set[int] = set()
    while market_group_id is not None and market_group_id in groups and market_group_id not in seen:
        seen.add(market_group_id)
        name, parent, _ = groups[market_group_id]
        path.append({"id": market_group_id, "name": name})
        market_group_id = parent
    return path[::-1]


@per_installed_sde
def market_group_tree() -> list[dict[str, Any]]:
    """Every market group as a tree, roots first, children sorted by name."""
    groups = _market_groups()
    children: dict[int | None, list[dict[str, Any]]] = {}
    nodes = {}
    for gid, (name, _, has) in groups.items():
        nodes[gid] = {
            "id": gid,
            "name": name,
            "has_types": has,
            "children": children.setdefault(gid, []),
        }
    roots: list[dict[str, Any]] = []
    for gid, (_, parent, _) in groups.items():
        (children[parent] if parent in nodes else roots).append(nodes[gid])
    for siblings in children.values():
        siblings.sort(key=lambda n: n["name"])
    return sorted(roots, key=lambda n: n["name"])


# --- Items ---------------------------------------------------------------------------------


def image_url(type_id: int, size: int = 64) -> str:
    return f"{IMAGE_SERVER}/types/{type_id}/icon?size={size}"


def item_detail(type_id: int) -> dict[str, Any]:
    item = InvType.objects.select_related("group__category").filter(type_id=type_id).first()
    if item is None:
        raise SdeNotFound("item", type_id)
    group = item.group
    category = group.category if group else None
    packaged = InvVolume.objects.filter(type_id=type_id).values_list("volume", flat=True).first()
    source = packaged_volume_source(type_id, has_row=packaged is not None)
    meta = (
        InvMetaType.objects.select_related("meta_group", "parent_type")
        .filter(type_id=type_id)
        .first()
    )
    return {
        "type_id": item.type_id,
        "name": item.type_name,
        "description": item.description or "",
        "group": {"id": group.group_id, "name": group.group_name} if group else None,
        "category": (
            {"id": category.category_id, "name": category.category_name} if category else None
        ),
        "market_group_path": market_group_path(item.market_group_id),
        "volume": item.volume,
        "packaged_volume": packaged if packaged is not None else item.volume,
        "packaged_volume_source": source,
        "portion_size": item.portion_size,
        "mass": item.mass,
        "base_price": item.base_price,
        "published": bool(item.published),
        "on_market": item.market_group_id is not None and bool(item.published),
        "meta_group": (
            {"id": meta.meta_group.meta_group_id, "name": meta.meta_group.meta_group_name}
            if meta and meta.meta_group
            else None
        ),
        "variation_of": (
            {"type_id": meta.parent_type.type_id, "name": meta.parent_type.type_name}
            if meta and meta.parent_type and meta.parent_type_id != type_id
            else None
        ),
        "image_url": image_url(item.type_id),
    }


@per_installed_sde
def _has_packaged_volume_sources() -> bool:
    """Whether the installed SDE records filled packaged volumes (SDEs installed before the
    loader filled them do not)."""
    tables = connections["sde"].introspection.table_names()
    return packaged_volumes.SOURCE_TABLE in tables


def packaged_volume_source(type_id: int, *, has_row: bool) -> dict[str, Any]:
    """Where a type's packaged volume comes from: its own invVolumes row, its group's packaged
    volume filled in by the loader, or (no row at all) its assembled volume."""
    filled = None
    if has_row and _has_packaged_volume_sources():
        with connections["sde"].cursor() as cursor:
            cursor.execute(
                f'SELECT s."source", s."groupID", g."groupName", s."basis" '
                f'FROM "{packaged_volumes.SOURCE_TABLE}" s '
                'LEFT JOIN "invGroups" g ON g."groupID" = s."groupID" WHERE s."typeID" = %s',
                [type_id],
            )
            filled = cursor.fetchone()
    if filled:
        kind, group_id, group_name, basis = filled
        group = {"id": group_id, "name": group_name}
    else:
        kind = packaged_volumes.FROM_INV_VOLUMES if has_row else packaged_volumes.FROM_ASSEMBLED
        group, basis = None, ""
    return {
        "kind": kind,
        "group": group,
        "summary": packaged_volumes.describe(kind, group["name"] if group else None),
        "basis": basis or "",
    }


def _names(type_ids: set[int]) -> dict[int, str]:
    rows = InvType.objects.filter(type_id__in=type_ids).values_list("type_id", "type_name")
    return {type_id: name or f"Type {type_id}" for type_id, name in rows}


def item_industry(type_id: int) -> dict[str, Any]:
    """What makes this item (blueprints or reaction formulas, with inputs) and what it makes."""
    products = list(
        IndustryActivityProduct.objects.filter(
            product_type_id=type_id,
            activity_id__in=[ActivityId.MANUFACTURING, ActivityId.REACTION],
        ).values("blueprint_type_id", "activity_id", "quantity")
    )
    blueprint_ids = {p["blueprint_type_id"] for p in products}
    materials = IndustryActivityMaterial.objects.filter(
        blueprint_type_id__in=blueprint_ids,
        activity_id__in=[ActivityId.MANUFACTURING, ActivityId.REACTION],
    ).values("blueprint_type_id", "activity_id", "material_type_id", "quantity")
    times = {
        (row["blueprint_type_id"], row["activity_id"]): row["time"]
        for row in IndustryActivity.objects.filter(blueprint_type_id__in=blueprint_ids).values(
            "blueprint_type_id", "activity_id", "time"
        )
    }
    names = _names(blueprint_ids | {m["material_type_id"] for m in materials})
    made_by = []
    for product in products:
        key = (product["blueprint_type_id"], product["activity_id"])
        inputs = [
            {
                "type_id": m["material_type_id"],
                "name": names.get(m["material_type_id"], f"Type {m['material_type_id']}"),
                "quantity": m["quantity"],
            }
            for m in materials
            if (m["blueprint_type_id"], m["activity_id"]) == key
        ]
        made_by.append(
            {
                "blueprint_type_id": product["blueprint_type_id"],
                "blueprint_name": names.get(product["blueprint_type_id"], ""),
                "activity": ActivityId(product["activity_id"]).label,
                "quantity": product["quantity"],
                "time_seconds": times.get(key),
                "materials": sorted(inputs, key=lambda m: -int(m["quantity"] or 0)),
            }
        )
    used_in_count = (
        IndustryActivityMaterial.objects.filter(material_type_id=type_id)
        .values("blueprint_type_id")
        .distinct()
        .count()
    )
    return {"made_by": made_by, "used_in_blueprints": used_in_count}


# --- Map: regions, systems, stations -------------------------------------------------------


def region_kind(region_id: int) -> str:
    if region_id < 11_000_000:
        return "k-space"
    if region_id < 12_000_000:
        return "wormhole"
    if region_id < 13_000_000:
        return "abyssal"
    return "other"


def _count_by_region(model: type[MapSolarSystem] | type[StaStation]) -> dict[int, int]:
    counted = (
        model.objects.values("region_id").annotate(n=Count("pk")).values_list("region_id", "n")
    )
    return dict(counted)


def region_list() -> list[dict[str, Any]]:
    # Two grouped counts: counting both through one join multiplies systems by stations.
    systems = _count_by_region(MapSolarSystem)
    stations = _count_by_region(StaStation)
    rows = MapRegion.objects.values("region_id", "region_name", "faction_id")
    regions = [
        {
            "region_id": r["region_id"],
            "name": r["region_name"],
            "kind": region_kind(r["region_id"]),
            "faction_id": r["faction_id"],
            "system_count": systems.get(r["region_id"], 0),
            "station_count": stations.get(r["region_id"], 0),
        }
        for r in rows
    ]
    kinds = ("k-space", "wormhole", "abyssal", "other")
    return sorted(regions, key=lambda r: (kinds.index(r["kind"]), r["name"] or ""))


def region_detail(region_id: int) -> dict[str, Any]:
    region = MapRegion.objects.select_related("faction").filter(region_id=region_id).first()
    if region is None:
        raise SdeNotFound("region", region_id)
    systems = system_list(region_id=region_id)
    bands: dict[str, int] = {"high": 0, "low": 0, "null": 0, "unknown": 0}
    for system in systems:
        bands[system["security_band"]] += 1
    return {
        "region_id": region.region_id,
        "name": region.region_name,
        "kind": region_kind(region.region_id),
        "faction": (
            {"id": region.faction.faction_id, "name": region.faction.faction_name}
            if region.faction
            else None
        ),
        "constellation_count": region.constellations.count(),
        "system_count": len(systems),
        "station_count": StaStation.objects.filter(region_id=region_id).count(),
        "security_bands": bands,
        "systems": systems,
    }


def _system_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "solar_system_id": row["solar_system_id"],
        "name": row["solar_system_name"],
        "security": display_security(row["security"]),
        "security_band": security_band(row["security"]),
        "region_id": row["region_id"],
        "constellation_id": row["constellation_id"],
    }


def system_list(
    *, region_id: int | None = None, security: str | None = None, q: str | None = None
) -> list[dict[str, Any]]:
    systems = MapSolarSystem.objects.all()
    if region_id is not None:
        systems = systems.filter(region_id=region_id)
    if q:
        systems = systems.filter(solar_system_name__icontains=q)
    rows = [
        _system_row(row)
        for row in systems.values(
            "solar_system_id", "solar_system_name", "security", "region_id", "constellation_id"
        ).order_by("solar_system_name")
    ]
    if security:
        rows = [row for row in rows if row["security_band"] == security]
    return rows


def system_detail(solar_system_id: int) -> dict[str, Any]:
    system = (
        MapSolarSystem.objects.select_related("region", "constellation")
        .filter(solar_system_id=solar_system_id)
        .first()
    )
    if system is None:
        raise SdeNotFound("solar system", solar_system_id)
    neighbours = MapSolarSystem.objects.filter(
        jumps_in__from_solar_system_id=solar_system_id
    ).values("solar_system_id", "solar_system_name", "security", "region_id", "constellation_id")
    return {
        "solar_system_id": system.solar_system_id,
        "name": system.solar_system_name,
        "security": display_security(system.security),
        "true_security": system.security,
        "security_band": security_band(system.security),
        "region": {
            "id": system.region_id,
            "name": system.region.region_name if system.region else None,
        },
        "constellation": {
            "id": system.constellation_id,
            "name": system.constellation.constellation_name if system.constellation else None,
        },
        "stargates_to": sorted((_system_row(n) for n in neighbours), key=lambda s: s["name"]),
        "stations": station_list(system_id=solar_system_id),
    }


def station_list(
    *,
    region_id: int | None = None,
    system_id: int | None = None,
    station_id: int | None = None,
    q: str | None = None,
) -> list[dict[str, Any]]:
    stations = StaStation.objects.all()
    if station_id is not None:
        stations = stations.filter(station_id=station_id)
    if region_id is not None:
        stations = stations.filter(region_id=region_id)
    if system_id is not None:
        stations = stations.filter(solar_system_id=system_id)
    if q:
        stations = stations.filter(Q(station_name__icontains=q))
    rows = stations.values(
        "station_id",
        "station_name",
        "security",
        "solar_system_id",
        "solar_system__solar_system_name",
        "region_id",
        "region__region_name",
        "corporation_id",
        "corporation__corporation_name",
    ).order_by("station_name")
    return [
        {
            "station_id": r["station_id"],
            "name": r["station_name"],
            "security": display_security(r["security"]),
            "security_band": security_band(r["security"]),
            "solar_system": {
                "id": r["solar_system_id"],
                "name": r["solar_system__solar_system_name"],
            },
            "region": {"id": r["region_id"], "name": r["region__region_name"]},
            "corporation": {"id": r["corporation_id"], "name": r["corporation__corporation_name"]},
        }
        for r in rows
    ]


def station_detail(station_id: int) -> dict[str, Any]:
    rows = station_list(station_id=station_id)
    if not rows:
        raise SdeNotFound("station", station_id)
    return rows[0]
