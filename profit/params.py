"""What a profit request says beyond its filters: whose skills and standings set the fees, and
which snapshots to read (a permalink pins their generations).

Shared by the API and the pages. Input is validated first (profit/api/serializers.py); these
functions turn the validated values into what the engines take.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np
from django.http import HttpRequest
from rest_framework.request import Request

from profit.fees import Skills
from sde.places import station_table

# The query parameters (and calculator body fields) that make a `Skills`, with their bounds.
SKILL_LEVELS = ("accounting", "broker_relations", "advanced_broker_relations")
STANDINGS = ("faction_standing", "corp_standing")
SKILL_FIELDS = SKILL_LEVELS + STANDINGS
SKILL_RANGE = (0, 5)
STANDING_RANGE = (-10.0, 10.0)

# Where the skills of an answer came from (every answer says it): a provider's own source
# ("character: Bruce Wayne"), with " with overrides: accounting, ..." when the request set
# some fields over it.
FROM_PARAMETERS = "parameters"
FROM_DEFAULTS = "defaults"
WITH_OVERRIDES = " with overrides: "

# A generation as market.publish makes it ("20261122T025012-3f9a1c"), kept lenient so hand-
# published snapshots (tests, imports) can be pinned too.
GENERATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
MAX_PINNED = 20


class ProvidedSkills(NamedTuple):
    """What a provider knows of the trader: the skills, where they came from (the answer's
    `skills.source`, e.g. "character: Bruce Wayne") and whose they are (the forms mark each
    field "from Bruce Wayne")."""

    skills: Skills
    source: str
    holder: str


# Who else may know the trader's skills: an app above profit (characters: the logged-in
# character's own) registers a provider here, in its AppConfig.ready(). A provider answers
# for a request, or None when it has nothing for it.
SkillsProvider = Callable[[HttpRequest | Request | None], ProvidedSkills | None]
skills_providers: list[SkillsProvider] = []


def provide_skills(provider: SkillsProvider) -> None:
    """Ask `provider` for a request's skills (asked in the order registered; registering
    twice is harmless)."""
    if provider not in skills_providers:
        skills_providers.append(provider)


def provided_skills(request: HttpRequest | Request | None) -> ProvidedSkills | None:
    """The first registered provider's answer for `request`, or None."""
    for provider in skills_providers:
        provided = provider(request)
        if provided is not None:
            return provided
    return None


def skills_from_request(
    request: HttpRequest | Request | None, data: Mapping[str, Any]
) -> tuple[Skills, str]:
    """The trader's skills and standings, and where they came from.

    `data` is the validated input: the skill fields a request gave (absent or None when not
    given). With a provider's skills for `request` (the selected character's: see
    `provide_skills`), each given field replaces that one value only ("character: Bruce
    Wayne with overrides: accounting"); without, the given fields and 0 for the rest
    ("parameters"), or every skill 0 and neutral standings ("defaults")."""
    given = {name: data[name] for name in SKILL_FIELDS if data.get(name) is not None}
    provided = provided_skills(request)
    if provided is None:
        return Skills(**_typed(given)), FROM_PARAMETERS if given else FROM_DEFAULTS
    if not given:
        return provided.skills, provided.source
    overrides = ", ".join(name for name in SKILL_FIELDS if name in given)
    return override_skills(provided.skills, given), f"{provided.source}{WITH_OVERRIDES}{overrides}"


def _typed(given: Mapping[str, Any]) -> dict[str, Any]:
    """Skill fields as `Skills` takes them: levels as int, standings as float."""
    return {
        name: int(value) if name in SKILL_LEVELS else float(value) for name, value in given.items()
    }


def override_skills(base: Skills, given: Mapping[str, Any]) -> Skills:
    """`base` with the given fields replaced, each on its own.

    Levels replace the level. A standing replaces the number; when `base` has standings per
    owner (`Skills.standings`, a character's: the fee of each station uses the standing
    toward its owner corporation and its faction), a faction standing becomes the standing
    toward every faction that owns stations, and a corporation standing toward every
    corporation that does; the other kind stays the character's own."""
    changes = _typed(given)
    if base.standings is not None and any(name in changes for name in STANDINGS):
        _, corporations, factions = station_table()
        standings = dict(base.standings)
        for name, owners in (("faction_standing", factions), ("corp_standing", corporations)):
            if name in changes:
                every = {int(owner) for owner in np.unique(owners) if owner}
                standings.update(dict.fromkeys(every, changes[name]))
        changes["standings"] = standings
    return replace(base, **changes)


def skills_json(
    skills: Skills, source: str, rates: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The `skills` block of an answer: the values used and where they came from.

    With standings as two numbers, `faction_standing` and `corp_standing` are the ones every
    NPC station's broker fee used. With a character's standings per owner
    (`character_standings`), the block adds `standings`, the map the fees looked the
    owners up in (owner id -> standing; an owner not in it counts 0), and, given `rates`
    (the answer's statement, `profit.fees.rates_used`), `standings_used`: per station owner
    of the answer, the faction and corporation standings its broker fee used and the
    stations; `faction_standing` and `corp_standing` are then the pair used when every
    station of the answer used the same one, else null (never a 0 that was not used)."""
    block: dict[str, Any] = {
        "source": source,
        "accounting": skills.accounting,
        "broker_relations": skills.broker_relations,
        "advanced_broker_relations": skills.advanced_broker_relations,
        "faction_standing": skills.faction_standing,
        "corp_standing": skills.corp_standing,
        "character_standings": skills.standings is not None,
    }
    if skills.standings is None:
        return block
    used = _standings_used(rates)
    pairs = {(u["faction_standing"], u["corp_standing"]) for u in used}
    block["faction_standing"], block["corp_standing"] = (
        pairs.pop() if len(pairs) == 1 else (None, None)
    )
    block["standings"] = {str(owner): skills.standings[owner] for owner in sorted(skills.standings)}
    block["standings_used"] = used
    return block


def _standings_used(rates: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Per station owner of a statement of rates: the standings its broker fee used, and
    the stations (structures use none)."""
    owners: dict[tuple[Any, ...], dict[str, Any]] = {}
    for location in (rates or {}).get("locations", ()):
        if location.get("kind") != "station":
            continue
        owner = location.get("owner") or {}
        entry = {
            "corporation_id": owner.get("corporation_id"),
            "corporation_name": owner.get("corporation_name"),
            "corp_standing": location["corp_standing"],
            "faction_id": owner.get("faction_id"),
            "faction_name": owner.get("faction_name"),
            "faction_standing": location["faction_standing"],
        }
        key = tuple(entry.values())
        owners.setdefault(key, {**entry, "location_ids": []})["location_ids"].append(
            location["location_id"]
        )
    return list(owners.values())


def parse_snapshots(value: str) -> dict[int, str]:
    """Pinned generations from "10000002:20261122T025012-3f9a1c,10000043:...": region ->
    generation. Raises ValueError with a message a user can act on."""
    pinned: dict[int, str] = {}
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        region, sep, generation = part.partition(":")
        if not sep or not region.strip().isdigit() or not GENERATION.match(generation.strip()):
            raise ValueError(
                f'"{part}" is not region:generation (e.g. 10000002:20261122T025012-3f9a1c)'
            )
        region_id = int(region)
        if region_id in pinned and pinned[region_id] != generation.strip():
            raise ValueError(f"region {region_id} is pinned to two generations")
        pinned[region_id] = generation.strip()
    if not pinned:
        raise ValueError("no region:generation pair")
    if len(pinned) > MAX_PINNED:
        raise ValueError(f"at most {MAX_PINNED} regions")
    return pinned


def snapshots_param(generations: Mapping[int, str]) -> str:
    """The `snapshots` value that replays these generations (the inverse of parse_snapshots)."""
    return ",".join(f"{region}:{generation}" for region, generation in sorted(generations.items()))
