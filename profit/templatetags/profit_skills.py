"""`{% character_skills as character %}`: what the skills fieldset of every profit form
(templates/profit/_skills.html) shows for a trader whose skills a provider knows (the
selected character's: `profit.params.provide_skills`, registered by the characters app).

Each field shows the provider's value as the choice that submits nothing (a level) or as the
placeholder (a standing), marked "from <name>", so a search sends only the fields the trader
changed and each of those replaces that one value (`profit.params.skills_from_request`).
A character's standings are per station owner: a standing field shows the standing toward
the owner of the station(s) the form names, or "per station" when they differ or the form
names regions or systems.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template

from profit.fees import Skills
from profit.params import SKILL_LEVELS, SKILL_RANGE, provided_skills
from sde.ids import is_ascii_number
from sde.places import StationOwner, station_names, station_owners

register = template.Library()

# The form fields that name places (a hauling side may list several ids).
PLACE_FIELDS = ("station_id", "buy_location", "sell_location", "from", "to")
PER_STATION = "per station"

LABELS = {
    "accounting": "Accounting",
    "broker_relations": "Broker Relations",
    "advanced_broker_relations": "Advanced Broker Relations",
    "faction_standing": "standing toward the station owner's faction",
    "corp_standing": "standing toward the station owner's corporation",
}


@register.simple_tag(takes_context=True)
def skill_state(context: template.Context) -> tuple[tuple[str, Any, Any], ...]:
    """What the skills fieldset shows when no provider knows the trader: each field's
    submitted value and error. The key under which `{% kept %}` keeps that fieldset (about
    2 ms of template a page, the same for nearly every search)."""
    values = context.get("values") or {}
    errors = context.get("errors") or {}
    return tuple(
        (field["name"], values.get(field["name"]), errors.get(field["name"]))
        for field in context.get("skill_inputs") or ()
    )


@register.simple_tag(takes_context=True)
def character_skills(context: template.Context) -> dict[str, Any] | None:
    """The provider's holder and, per skill field, what the form shows (None when no
    provider knows the trader: the fields then mean 0 when empty)."""
    provided = provided_skills(context.get("request"))
    if provided is None:
        return None
    holder = provided.holder
    skills = provided.skills
    fields: dict[str, dict[str, Any]] = {}
    for name in SKILL_LEVELS:
        level = int(getattr(skills, name))
        fields[name] = {
            "text": str(level),
            "choices": [str(n) for n in range(SKILL_RANGE[0], SKILL_RANGE[1] + 1)],
            "title": f"{holder}'s {LABELS[name]}: {level}",
        }
    places = _place_ids(context.get("values") or {})
    fields["faction_standing"] = _standing(skills, holder, "faction", places)
    fields["corp_standing"] = _standing(skills, holder, "corporation", places)
    return {"holder": holder, "source": provided.source, "fields": fields}


def _place_ids(values: Mapping[str, Any]) -> list[int]:
    ids = []
    for name in PLACE_FIELDS:
        for part in str(values.get(name) or "").split(","):
            if is_ascii_number(part.strip()):
                ids.append(int(part))
    return list(dict.fromkeys(ids))


def _standing(skills: Skills, holder: str, kind: str, places: Iterable[int]) -> dict[str, Any]:
    """The standing one field shows: the character's toward the owner of the form's
    stations when they all agree, else "per station" (with each in the title)."""
    name = "faction_standing" if kind == "faction" else "corp_standing"
    if skills.standings is None:  # one number for every station
        value = float(getattr(skills, name))
        return {"text": f"{value:g}", "title": f"{holder}'s {LABELS[name]}: {value:g}"}
    standings = skills.standings
    ids = list(places)
    owners = [(i, o) for i, o in zip(ids, station_owners(ids), strict=True) if o is not None]
    names = station_names()
    seen: dict[tuple[int | None, str], float] = {}
    lines = []
    for location_id, owner in owners:
        owner_id, owner_name = _owner(owner, kind)
        value = float(standings.get(owner_id, 0.0)) if owner_id else 0.0
        seen[(owner_id, owner_name)] = value
        lines.append(f"{value:g} toward {owner_name} at {names.get(location_id, location_id)}")
    values = set(seen.values())
    if len(values) == 1:
        (value,) = values
        text = f"{value:g}"
    else:
        text = PER_STATION
        if not lines:
            lines.append(f"the standing toward each station's {kind}")
    return {"text": text, "title": f"{holder}'s {LABELS[name]}: " + "; ".join(lines)}


def _owner(owner: StationOwner, kind: str) -> tuple[int | None, str]:
    if kind == "faction":
        return owner.faction_id, owner.faction_name or "no faction"
    return owner.corporation_id, owner.corporation_name
