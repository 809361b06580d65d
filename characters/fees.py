"""Fees follow the character: the `Skills` (profit/fees.py) of a linked character, from its
stored skills and NPC standings, and the selected character's skills for a profit request.

- `skills_for(character)`: the fee skills at their active levels, and the character's
  faction and NPC corporation standings as `Skills.standings` (owner id -> unmodified
  standing, as ESI gives them), so the broker fee of each station uses the standing toward
  that station's owner. Which skills count and how they are bounded is
  `profit.fees.skills_of_character`.
- `character_skills_for_request(request)`: the skills, "character: <name>" and the name
  (`profit.params.ProvidedSkills`) for a logged-in user whose selected character has granted
  the fees feature and whose skills were fetched; None otherwise. Registered with
  `profit.params.provide_skills` (characters/wiring.py): every profit answer starts from
  these, a skill parameter replaces that one value, and the answer says which it used; the
  profit forms show them (profit/templatetags/profit_skills.py).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework.request import Request

from characters import data as store_data
from characters.models import Character
from characters.scopes import has_feature
from characters.selectors import selected_character
from characters.valuation import HUB_STATION
from profit.fees import ACCOUNTING as ACCOUNTING
from profit.fees import ADVANCED_BROKER_RELATIONS as ADVANCED_BROKER_RELATIONS
from profit.fees import BROKER_RELATIONS as BROKER_RELATIONS
from profit.fees import FeeScheduleMissing, Skills, rates_for, skills_of_character
from profit.params import ProvidedSkills

STANDING_TYPES = ("faction", "npc_corp")
SOURCE_PREFIX = "character: "


def _levels(character_id: int) -> dict[int, int] | None:
    stored = store_data.load_group(character_id, "skills")
    if stored is None:
        return None
    return {int(s["skill_id"]): int(s.get("level", 0)) for s in stored["data"].get("skills", [])}


def _standings(character_id: int) -> dict[int, float] | None:
    stored = store_data.load_group(character_id, "standings")
    if stored is None:
        return None
    return {
        int(row["from_id"]): float(row["standing"])
        for row in stored["data"]
        if row.get("from_type") in STANDING_TYPES
    }


def skills_for(character: Character) -> Skills:
    """The character's fee skills and standings (zero levels and neutral standings for what
    has not been fetched)."""
    levels = _levels(character.character_id) or {}
    return skills_of_character(levels, _standings(character.character_id))


def uses_character_fees(character: Character) -> bool:
    """Whether the character's own skills can set the fees: the feature is granted and its
    skills have been fetched at least once."""
    if not has_feature(character, "fees"):
        return False
    return store_data.load_group(character.character_id, "skills") is not None


def character_skills_for_request(
    request: HttpRequest | Request | None,
) -> ProvidedSkills | None:
    """The selected character's skills, "character: <name>" and its name, or None (anonymous
    user, no character, fees not granted or not fetched yet)."""
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return None
    character = selected_character(request)
    if character is None or not uses_character_fees(character):
        return None
    return ProvidedSkills(skills_for(character), f"{SOURCE_PREFIX}{character.name}", character.name)


def jita_rates(character: Character) -> dict[str, Any] | None:
    """What the character pays at Jita IV - Moon 4: sales tax and broker fee rates (as
    fractions), from the fee schedule in force today; None when there is no schedule."""
    try:
        rates = rates_for(HUB_STATION, skills_for(character))
    except (FeeScheduleMissing, ValueError):
        return None
    return {
        "station_id": HUB_STATION,
        "sales_tax": rates.sales_tax,
        "broker_fee": rates.broker_fee,
        "relist_discount": rates.relist_discount,
    }
