"""Helpers for the character tests: a roster character of the ESI stand-in linked to a user,
and its data fetched from the stand-in (the fixtures are in tests/characters_env.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from characters import data
from characters.models import Character
from characters.scopes import join_scopes
from esi.client import EsiClient
from standin.characters import ROSTER
from store import get_store
from tests.characters_tokens import ALL_SCOPES, TokenSigner
from tests.profit_books import JITA_44


def make_character(
    user: User, character_id: int, scopes: tuple[str, ...] = ALL_SCOPES
) -> Character:
    """The stand-in roster's character `character_id`, linked to `user` with `scopes`."""
    name = next(e.name for e in ROSTER if e.character_id == character_id)
    return Character.objects.create(
        character_id=character_id, user=user, name=name, scopes=join_scopes(scopes)
    )


def fetch(character: Character, signer: TokenSigner, scopes: tuple[str, ...]) -> None:
    """Fetch `character`'s data from the ESI stand-in with tokens `signer` makes for `scopes`."""
    cid = character.character_id
    data.refresh_character(
        character,
        client=EsiClient.from_settings(),
        token_source=lambda: signer.token(cid, scopes),
    )


def store_group(character_id: int, group: str, value: Any) -> None:
    """A character's data group as if its refresh had stored it."""
    get_store().set_json(
        data.group_key(character_id, group),
        {"data": value, "fetched_at": "2026-01-01T00:00:00+00:00", "esi": {}},
    )


def skill(skill_id: int, level: int) -> dict[str, int]:
    """One trained skill as ESI's skills route lists it."""
    return {"skill_id": skill_id, "level": level, "trained_level": level, "skillpoints": 0}


def station_trading(client: Client, **params: Any) -> dict[str, Any]:
    """The station-trading API's answer at Jita 4-4 for this client (its session's
    character), asserted 200."""
    response = client.get(
        "/api/v1/profit/station-trading",
        {"station_id": JITA_44, **params},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200, response.content[:300]
    return dict(response.json())
