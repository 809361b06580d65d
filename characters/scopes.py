"""Least privilege: the ESI scopes each feature needs, asked for only when the user turns the
feature on (logging in asks for none).

`FEATURES` is the one place that says which scopes a feature needs and, in plain words, what
granting them lets this site see. To add a feature, add an entry here; the features page lists
it, `has_feature` checks it, and the SSO flow asks for exactly its scopes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from characters.models import Character


@dataclass(frozen=True)
class Feature:
    label: str
    scopes: tuple[str, ...]
    grants: str


FEATURES: dict[str, Feature] = {
    "fees": Feature(
        label="Fees from your skills and standings",
        scopes=("esi-skills.read_skills.v1", "esi-characters.read_standings.v1"),
        grants=(
            "Reads your skills and your NPC standings, so every profit figure uses your own "
            "sales tax (Accounting) and broker fee (Broker Relations, standings)."
        ),
    ),
    "assets": Feature(
        label="Assets",
        scopes=("esi-assets.read_assets.v1", "esi-universe.read_structures.v1"),
        grants=(
            "Reads the items you own and where they are (including the names of player "
            "structures you can dock at), to value them at hub prices."
        ),
    ),
    "wallet": Feature(
        label="Wallet",
        scopes=("esi-wallet.read_character_wallet.v1",),
        grants="Reads your wallet balance, recent transactions and journal. It cannot move ISK.",
    ),
    "orders": Feature(
        label="Market orders",
        scopes=("esi-markets.read_character_orders.v1",),
        grants=(
            "Reads your open market orders, to flag the ones that are outbid or undercut. "
            "It cannot change them."
        ),
    ),
    "structures": Feature(
        label="Structure markets",
        scopes=("esi-markets.structure_markets.v1", "esi-universe.read_structures.v1"),
        grants=(
            "Reads the markets and names of the Upwell structures you choose to share, with "
            "your docking access. Everyone using this site then sees those markets (never "
            "the structures you do not share)."
        ),
    ),
    "corporation_structures": Feature(
        label="Your corporation's structures",
        scopes=("esi-corporations.read_structures.v1",),
        grants=(
            "Lists the Upwell structures your corporation owns (ESI answers only a Station "
            "Manager), so their markets can be offered for sharing. Only their ids are kept "
            "for everyone; nothing is read unless you share a market."
        ),
    ),
    "location": Feature(
        label="Location and ship",
        scopes=("esi-location.read_location.v1", "esi-location.read_ship_type.v1"),
        grants="Reads the system or station you are in and the ship you are flying.",
    ),
}


def split_scopes(scopes: str | Iterable[str]) -> frozenset[str]:
    """A scope set from the space-separated form stored on a character (or any iterable)."""
    if isinstance(scopes, str):
        scopes = scopes.split()
    return frozenset(s for s in scopes if s)


def join_scopes(scopes: Iterable[str]) -> str:
    """The stored form: sorted, space-separated, no duplicates."""
    return " ".join(sorted(split_scopes(scopes)))


def has_feature(character: Character, key: str) -> bool:
    """Whether the character granted every scope of feature `key`. (A character that
    `needs_reauth` keeps its scopes, so authorising it again asks for the same; no data can
    be fetched for it meanwhile.)"""
    return set(FEATURES[key].scopes) <= split_scopes(character.scopes)


def enabled_features(character: Character) -> list[str]:
    """Keys of the features the character has granted, in `FEATURES` order."""
    return [key for key in FEATURES if has_feature(character, key)]


def scopes_with_feature(character: Character, key: str) -> list[str]:
    """What to ask the SSO for to turn feature `key` on without losing the others: the
    scopes already granted plus the feature's (an EVE token carries only what was asked)."""
    return sorted(split_scopes(character.scopes) | set(FEATURES[key].scopes))
