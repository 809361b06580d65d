"""What the API and the dashboard show of a character: each stored group (characters/data.py)
with names resolved through the SDE (places through `sde.places`, types through
`profit.engine.type_table`), assets valued and orders flagged against the current
market snapshot (characters/valuation.py), and the state of the group (shown, not granted,
waiting for the first fetch, needs re-authorisation).

Every section has the same envelope, so a page or a client handles them all alike:

    {"character_id", "group", "label", "state", "feature": {key, label, grants, enabled},
     "fetched_at", "esi": {"last_modified", "expires"}, "error", "data"}

`state`: "ok" (data shown), "pending" (granted, not fetched yet), "disabled" (the feature's
scopes are not granted: `data` is None and `feature` says what enabling it grants),
"needs_reauth" (the character's token was revoked: the last data, if any, is still shown).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from characters import data as store_data
from characters import valuation
from characters.fees import jita_rates
from characters.scopes import FEATURES, has_feature
from profit.engine import type_table
from sde import places
from sde.selectors import image_url, security_band

if TYPE_CHECKING:
    from characters.models import Character

SECTIONS = ("skills", "standings", "assets", "wallet", "orders", "location")

# The trading skills, highlighted wherever skills are shown (ids checked against the SDE by
# the tests). Advanced Broker Relations took over the id of the retired Margin Trading.
TRADING_SKILLS: dict[int, str] = {
    3443: "Trade",
    3444: "Retail",
    16596: "Wholesale",
    18580: "Tycoon",
    16598: "Marketing",
    16594: "Procurement",
    16595: "Daytrading",
    3447: "Visibility",
    16622: "Accounting",
    3446: "Broker Relations",
    16597: "Advanced Broker Relations",
}
# What each trading skill does for a trader, in a few words.
SKILL_EFFECTS: dict[int, str] = {
    3443: "+4 active orders per level",
    3444: "+8 active orders per level",
    16596: "+16 active orders per level",
    18580: "+32 active orders per level",
    16598: "sell orders from a distance",
    16594: "buy orders from a distance",
    16595: "modify orders from a distance",
    3447: "buy-order range",
    16622: "-11 % sales tax per level",
    3446: "-0.3 % broker fee per level",
    16597: "cheaper order changes (relist)",
}


# --- Names -----------------------------------------------------------------------------------


def type_name(type_id: int) -> str:
    return type_table().name(type_id)


def group_name(type_id: int) -> str | None:
    return type_table().group_name(type_id)


def system_info(system_id: int | None) -> dict[str, Any] | None:
    """A solar system with its security band (`SystemOut`)."""
    if system_id is None:
        return None
    where = places.describe(system_id)
    known = where.kind == "system"
    return {
        "id": system_id,
        "name": where.name if known else f"System {system_id}",
        "security": where.security,
        "band": security_band(where.security),
        "region_id": where.region_id,
        "region_name": where.region_name,
    }


def place(location_id: int, structures: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Where an item, an order or the character is (`sde.api.serializers.PlaceOut`): a
    station, a structure (named as ESI told this character's refresh, `structures` as the
    assets group stored them, else "Structure <id>": a structure's name is what a character
    with access was told, never shown to anyone else), a solar system, which here means in
    space there (kind "solar_system", "<name> (in space)"), or "other"."""
    found = (structures or {}).get(str(location_id)) if places.is_structure(location_id) else None
    if found:
        system = found.get("solar_system_id")
        learned = places.Structure(found.get("name") or None, int(system) if system else None)
        where = places.structure_place(location_id, learned)
    else:
        where = places.describe(location_id)
    shown = places.place_json(where)
    if where.kind == "system":
        shown.update(kind="solar_system", name=f"{where.name} (in space)")
    elif where.kind == "region":  # never a character's location: nothing to show
        shown.update(places.place_json(places.other_place(location_id)))
    return shown


STANDING_KINDS = {"faction": "Faction", "npc_corp": "Corporation", "agent": "Agent"}


def npc_name(from_id: int, from_type: str) -> str:
    if from_type == "faction":
        return places.faction_name(from_id)
    if from_type == "npc_corp":
        return places.corporation_name(from_id)
    return f"{STANDING_KINDS.get(from_type, 'NPC')} {from_id}"


# --- Envelope ----------------------------------------------------------------------------------


def _feature_block(character: Character, key: str | None) -> dict[str, Any] | None:
    if key is None:
        return None
    feature = FEATURES[key]
    return {
        "key": key,
        "label": feature.label,
        "grants": feature.grants,
        "enabled": has_feature(character, key),
    }


def _envelope(character: Character, group: str, data: Any, stored: dict[str, Any] | None) -> Any:
    status = store_data.load_status(character.character_id)
    info = store_data.GROUPS[group]
    feature = _feature_block(character, info.feature)
    if character.needs_reauth:
        state = "needs_reauth"
    elif feature is not None and not feature["enabled"]:
        state, data, stored = "disabled", None, None
    elif stored is None:
        state = "pending"
    else:
        state = "ok"
    return {
        "character_id": character.character_id,
        "group": group,
        "label": info.label,
        "state": state,
        "feature": feature,
        "fetched_at": stored["fetched_at"] if stored else None,
        "esi": stored["esi"] if stored else {"last_modified": None, "expires": None},
        "error": (status.get("failed") or {}).get(group) if state != "disabled" else None,
        "data": data if stored else None,
    }


def section(character: Character, group: str) -> dict[str, Any]:
    """One section of a character, in the envelope above."""
    builders: dict[str, Callable[[Character, Any], dict[str, Any]]] = {
        "identity": identity_data,
        "skills": skills_data,
        "standings": standings_data,
        "assets": assets_data,
        "wallet": wallet_data,
        "orders": orders_data,
        "location": location_data,
    }
    stored = store_data.load_group(character.character_id, group)
    data = builders[group](character, stored["data"]) if stored else None
    return _envelope(character, group, data, stored)


def section_state(character: Character, group: str) -> dict[str, Any]:
    """The envelope of a section with `data` None: its state, feature and fetch times, for a
    list of sections (nothing is resolved or valued)."""
    stored = store_data.load_group(character.character_id, group)
    return _envelope(character, group, None, stored)


def summary(character: Character, *, selected: bool = False) -> dict[str, Any]:
    """A character in a list: who, which features, when its data was last refreshed, and
    whether it is the selected one (whose skills set the fees)."""
    identity = store_data.load_group(character.character_id, "identity")
    status = store_data.load_status(character.character_id)
    portrait = (identity or {}).get("data", {}).get("portrait", {})
    return {
        "character_id": character.character_id,
        "name": character.name,
        "corporation_id": character.corporation_id,
        "alliance_id": character.alliance_id,
        "portrait": portrait.get("px128x128") or _portrait_url(character.character_id, 128),
        "needs_reauth": character.needs_reauth,
        "selected": selected,
        "features": {
            key: block["enabled"]
            for key in FEATURES
            if (block := _feature_block(character, key)) is not None
        },
        "refreshed_at": status.get("finished_at"),
        "next_refresh_at": status.get("next_at"),
        "refresh_problem": status.get("stopped"),
    }


def _portrait_url(character_id: int, size: int) -> str:
    return f"https://images.evetech.net/characters/{character_id}/portrait?size={size}"


# --- Groups ------------------------------------------------------------------------------------


def identity_data(character: Character, stored: dict[str, Any]) -> dict[str, Any]:
    return {
        **stored,
        "portrait": stored.get("portrait")
        or {f"px{s}x{s}": _portrait_url(character.character_id, s) for s in (64, 128, 256, 512)},
    }


def skills_data(character: Character, stored: dict[str, Any]) -> dict[str, Any]:
    skills = []
    for row in stored.get("skills", []):
        skill_id = row["skill_id"]
        skills.append(
            {
                **row,
                "name": TRADING_SKILLS.get(skill_id) or type_name(skill_id),
                "group": group_name(skill_id),
                "trading": skill_id in TRADING_SKILLS,
            }
        )
    skills.sort(key=lambda s: (s["group"] or "", s["name"]))
    levels = {s["skill_id"]: s["level"] for s in skills}
    trading = [
        {
            "skill_id": skill_id,
            "name": name,
            "level": levels.get(skill_id, 0),
            "effect": SKILL_EFFECTS[skill_id],
        }
        for skill_id, name in TRADING_SKILLS.items()
    ]
    return {
        "total_sp": stored.get("total_sp", 0),
        "unallocated_sp": stored.get("unallocated_sp", 0),
        "trading": trading,
        "skills": skills,
        "fees": _fees_summary(character),
    }


def _fees_summary(character: Character) -> dict[str, Any] | None:
    """The sales tax and Jita broker fee these skills and standings give (profit/fees.py)."""
    return jita_rates(character)


def standings_data(character: Character, stored: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [
        {
            **row,
            "name": npc_name(row["from_id"], row["from_type"]),
            "kind": STANDING_KINDS.get(row["from_type"], row["from_type"]),
        }
        for row in sorted(stored, key=lambda r: (-r["standing"], r["from_id"]))
    ]
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_type[row["from_type"]].append(row)
    return {
        "factions": by_type["faction"],
        "corporations": by_type["npc_corp"],
        "agents": by_type["agent"],
    }


def assets_data(character: Character, stored: dict[str, Any]) -> dict[str, Any]:
    items = stored.get("items", [])
    names = stored.get("names", {})
    structures = stored.get("structures", {})
    by_id = {a["item_id"]: a for a in items}

    def root(item: dict[str, Any]) -> int:
        seen = 0
        while item["location_type"] == "item" and item["location_id"] in by_id and seen < 20:
            item = by_id[item["location_id"]]
            seen += 1
        return int(item["location_id"])

    prices = valuation.hub_prices({a["type_id"] for a in items})
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        groups[root(item)].append(item)
    locations: list[dict[str, Any]] = []
    for location_id, rows in groups.items():
        shown = []
        for item in rows:
            unit_bid = None if item["is_blueprint_copy"] else prices.best_bid.get(item["type_id"])
            shown.append(
                {
                    **item,
                    "type_name": type_name(item["type_id"]),
                    "name": names.get(str(item["item_id"])),
                    "in_item": item["location_id"] if item["location_type"] == "item" else None,
                    "unit_value": unit_bid,
                    "value": unit_bid * item["quantity"] if unit_bid is not None else None,
                }
            )
        shown.sort(key=lambda r: (-(r["value"] or 0.0), r["type_name"]))
        locations.append(
            {
                "location": place(location_id, structures),
                "items": shown,
                "value": sum(r["value"] or 0.0 for r in shown),
                "unvalued": sum(1 for r in shown if r["value"] is None),
            }
        )
    locations.sort(key=lambda group: (-group["value"], group["location"]["name"]))
    return {
        "valuation": prices.describe(),
        "total_value": sum(group["value"] for group in locations),
        "items": len(items),
        "locations": locations,
    }


def wallet_data(character: Character, stored: dict[str, Any]) -> dict[str, Any]:
    transactions = [
        {
            **row,
            "type_name": type_name(row["type_id"]),
            "location": place(row["location_id"]),
            "total": row["unit_price"] * row["quantity"] * (-1 if row["is_buy"] else 1),
        }
        for row in stored.get("transactions", [])
    ]
    journal = [
        {**row, "ref_label": str(row.get("ref_type", "")).replace("_", " ").capitalize()}
        for row in stored.get("journal", [])
    ]
    return {"balance": stored.get("balance", 0.0), "transactions": transactions, "journal": journal}


def orders_data(character: Character, stored: list[dict[str, Any]]) -> dict[str, Any]:
    flagged = valuation.flag_orders(stored)
    rows = []
    for order, flag in zip(stored, flagged, strict=True):
        issued = _parse_time(order.get("issued"))
        rows.append(
            {
                **order,
                "type_name": type_name(order["type_id"]),
                "location": place(order["location_id"]),
                "side": "buy" if order.get("is_buy_order") else "sell",
                "expires_at": (issued + timedelta(days=order["duration"])).isoformat()
                if issued
                else None,
                **flag,
            }
        )
    counts = {
        "outbid": sum(1 for r in rows if r["flag"] == "outbid"),
        "undercut": sum(1 for r in rows if r["flag"] == "undercut"),
    }
    return {
        "orders": rows,
        "buy_total": sum(r["escrow"] or 0.0 for r in rows if r["side"] == "buy"),
        "sell_total": sum(r["price"] * r["volume_remain"] for r in rows if r["side"] == "sell"),
        **counts,
        "snapshots": valuation.snapshots_used({o["region_id"] for o in stored}),
    }


def location_data(character: Character, stored: dict[str, Any]) -> dict[str, Any]:
    location = stored.get("location", {})
    ship = stored.get("ship", {})
    docked = location.get("station_id") or location.get("structure_id")
    structures = stored.get("structures", {})
    return {
        "system": system_info(location.get("solar_system_id")),
        "docked": place(int(docked), structures) if docked else None,
        "ship": {
            **ship,
            "type_name": type_name(ship["ship_type_id"]) if ship.get("ship_type_id") else None,
            "image": image_url(ship["ship_type_id"]) if ship.get("ship_type_id") else None,
        }
        if ship
        else None,
    }


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
