"""What a profit request says beyond its filters: whose skills and standings set the fees, and
which snapshots to read (a permalink pins their generations).

Shared by the API and the pages. Input is validated first (profit/api/serializers.py); these
functions turn the validated values into what the engines take.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest
from rest_framework.request import Request

from profit.fees import Skills

# The query parameters (and calculator body fields) that make a `Skills`, with their bounds.
SKILL_LEVELS = ("accounting", "broker_relations", "advanced_broker_relations")
STANDINGS = ("faction_standing", "corp_standing")
SKILL_FIELDS = SKILL_LEVELS + STANDINGS
SKILL_RANGE = (0, 5)
STANDING_RANGE = (-10.0, 10.0)

# Where the skills of an answer came from (every answer says it).
FROM_PARAMETERS = "parameters"
FROM_DEFAULTS = "defaults"

# A generation as market.publish makes it ("20261122T025012-3f9a1c"), kept lenient so hand-
# published snapshots (tests, imports) can be pinned too.
GENERATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
MAX_PINNED = 20

# Who else may know the trader's skills: an app above profit (characters: the logged-in
# character's own) registers a provider here, in its AppConfig.ready(). A provider answers
# the skills and where they came from, or None when it has nothing for this request.
SkillsProvider = Callable[[HttpRequest | Request | None], tuple[Skills, str] | None]
skills_providers: list[SkillsProvider] = []


def provide_skills(provider: SkillsProvider) -> None:
    """Ask `provider` for a request's skills when its input gives none (asked in the order
    registered; registering twice is harmless)."""
    if provider not in skills_providers:
        skills_providers.append(provider)


def skills_from_request(
    request: HttpRequest | Request | None, data: Mapping[str, Any]
) -> tuple[Skills, str]:
    """The trader's skills and standings, and where they came from.

    `data` is the validated input: the skill fields a request gave (absent when not given).
    Any given field makes the source "parameters" (the others stay 0); none gives the
    defaults, every skill 0 and neutral standings. `request` is there for the logged-in
    character's skills (the characters app provides them: `provide_skills`)."""
    given = {name: data[name] for name in SKILL_FIELDS if data.get(name) is not None}
    if not given:  # the selected character's own, when logged in (docs/characters.md)
        for provider in skills_providers:
            provided = provider(request)
            if provided is not None:
                return provided
        return Skills(), FROM_DEFAULTS
    return (
        Skills(
            accounting=int(given.get("accounting", 0)),
            broker_relations=int(given.get("broker_relations", 0)),
            advanced_broker_relations=int(given.get("advanced_broker_relations", 0)),
            faction_standing=float(given.get("faction_standing", 0.0)),
            corp_standing=float(given.get("corp_standing", 0.0)),
        ),
        FROM_PARAMETERS,
    )


def skills_json(skills: Skills, source: str) -> dict[str, Any]:
    """The `skills` block of an answer: the five values used and where they came from."""
    return {
        "source": source,
        "accounting": skills.accounting,
        "broker_relations": skills.broker_relations,
        "advanced_broker_relations": skills.advanced_broker_relations,
        "faction_standing": skills.faction_standing,
        "corp_standing": skills.corp_standing,
        "character_standings": skills.standings is not None,
    }


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
