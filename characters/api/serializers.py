"""Response shapes of the characters API (characters/sections.py builds them; these document
them in the OpenAPI schema, and tests/test_characters_api.py checks real answers against it).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from market.api.serializers import SnapshotOut
from sde.api.serializers import PlaceOut


class CharacterNoParams(serializers.Serializer):
    pass


# --- Shared blocks -------------------------------------------------------------------------


class CharacterFeatureOut(serializers.Serializer):
    key = serializers.CharField(help_text="fees, assets, wallet, orders or location")
    label = serializers.CharField()  # type: ignore[assignment]  # (Field.label in stubs)
    grants = serializers.CharField(help_text="What granting its scopes lets this site read.")
    enabled = serializers.BooleanField(help_text="Whether the character granted its scopes.")


class CharacterEsiTimesOut(serializers.Serializer):
    last_modified = serializers.DateTimeField(
        allow_null=True, help_text="The latest Last-Modified of the ESI answers used."
    )
    expires = serializers.DateTimeField(
        allow_null=True, help_text="The earliest Expires of the ESI answers used."
    )


class CharacterSystemOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    security = serializers.FloatField(allow_null=True)
    band = serializers.CharField(help_text="high, low, null or unknown (security band)")
    region_id = serializers.IntegerField(allow_null=True)
    region_name = serializers.CharField(allow_null=True)


# --- Group data ----------------------------------------------------------------------------


class CharacterIdentityOut(serializers.Serializer):
    name = serializers.CharField(allow_null=True)
    birthday = serializers.DateTimeField(allow_null=True)
    security_status = serializers.FloatField(allow_null=True)
    corporation_id = serializers.IntegerField(allow_null=True)
    corporation_name = serializers.CharField(allow_null=True)
    corporation_ticker = serializers.CharField(allow_null=True)
    alliance_id = serializers.IntegerField(allow_null=True)
    alliance_name = serializers.CharField(allow_null=True)
    alliance_ticker = serializers.CharField(allow_null=True)
    portrait = serializers.DictField(
        child=serializers.CharField(), help_text="px64x64 ... px512x512 image URLs"
    )


class CharacterTradingSkillOut(serializers.Serializer):
    skill_id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.IntegerField(help_text="Active level, 0 if not trained.")
    effect = serializers.CharField()


class CharacterSkillOut(serializers.Serializer):
    skill_id = serializers.IntegerField()
    name = serializers.CharField()
    group = serializers.CharField(allow_null=True)
    level = serializers.IntegerField(help_text="Active level")
    trained_level = serializers.IntegerField()
    skillpoints = serializers.IntegerField()
    trading = serializers.BooleanField(help_text="One of the trading skills.")


class CharacterFeesOut(serializers.Serializer):
    station_id = serializers.IntegerField(help_text="Jita IV - Moon 4")
    sales_tax = serializers.FloatField(help_text="fraction of the sale value")
    broker_fee = serializers.FloatField(help_text="fraction of the order value")
    relist_discount = serializers.FloatField()


class SkillsOut(serializers.Serializer):
    total_sp = serializers.IntegerField()
    unallocated_sp = serializers.IntegerField()
    trading = CharacterTradingSkillOut(many=True)
    skills = CharacterSkillOut(many=True)
    fees = CharacterFeesOut(
        allow_null=True, help_text="What these skills and standings pay at Jita."
    )


class CharacterStandingOut(serializers.Serializer):
    from_id = serializers.IntegerField()
    from_type = serializers.ChoiceField(choices=["agent", "npc_corp", "faction"])
    standing = serializers.FloatField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text="Faction, Corporation or Agent")


class CharacterStandingsOut(serializers.Serializer):
    factions = CharacterStandingOut(many=True)
    corporations = CharacterStandingOut(many=True)
    agents = CharacterStandingOut(many=True)


class CharacterValuationOut(serializers.Serializer):
    basis = serializers.CharField(help_text="best bid")
    station_id = serializers.IntegerField()
    station_name = serializers.CharField()
    snapshot = SnapshotOut(allow_null=True)
    note = serializers.CharField()


class CharacterAssetOut(serializers.Serializer):
    item_id = serializers.IntegerField()
    type_id = serializers.IntegerField()
    type_name = serializers.CharField()
    name = serializers.CharField(allow_null=True, help_text="A ship's or container's own name.")
    quantity = serializers.IntegerField()
    location_id = serializers.IntegerField()
    location_type = serializers.CharField()
    location_flag = serializers.CharField()
    is_singleton = serializers.BooleanField()
    is_blueprint_copy = serializers.BooleanField()
    in_item = serializers.IntegerField(allow_null=True, help_text="The item that holds it.")
    unit_value = serializers.FloatField(allow_null=True)
    value = serializers.FloatField(allow_null=True, help_text="null: no bid, or a copy")


class CharacterAssetLocationOut(serializers.Serializer):
    location = PlaceOut()
    items = CharacterAssetOut(many=True)
    value = serializers.FloatField()
    unvalued = serializers.IntegerField(help_text="Items without a value.")


class CharacterAssetsOut(serializers.Serializer):
    valuation = CharacterValuationOut()
    total_value = serializers.FloatField()
    items = serializers.IntegerField()
    locations = CharacterAssetLocationOut(many=True)


class CharacterTransactionOut(serializers.Serializer):
    transaction_id = serializers.IntegerField()
    date = serializers.DateTimeField()
    type_id = serializers.IntegerField()
    type_name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.FloatField()
    total = serializers.FloatField(help_text="negative for a purchase")
    is_buy = serializers.BooleanField()
    is_personal = serializers.BooleanField(allow_null=True)
    location_id = serializers.IntegerField()
    location = PlaceOut()
    client_id = serializers.IntegerField(allow_null=True)
    journal_ref_id = serializers.IntegerField(allow_null=True)


class CharacterJournalOut(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateTimeField()
    ref_type = serializers.CharField()
    ref_label = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    amount = serializers.FloatField(allow_null=True)
    balance = serializers.FloatField(allow_null=True)
    first_party_id = serializers.IntegerField(allow_null=True)
    second_party_id = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_null=True)
    tax = serializers.FloatField(allow_null=True)


class CharacterWalletOut(serializers.Serializer):
    balance = serializers.FloatField()
    transactions = CharacterTransactionOut(many=True)
    journal = CharacterJournalOut(many=True)


class CharacterOrderOut(serializers.Serializer):
    order_id = serializers.IntegerField()
    type_id = serializers.IntegerField()
    type_name = serializers.CharField()
    region_id = serializers.IntegerField()
    location_id = serializers.IntegerField()
    location = PlaceOut()
    side = serializers.ChoiceField(choices=["buy", "sell"])
    is_buy_order = serializers.BooleanField(allow_null=True)
    price = serializers.FloatField()
    volume_remain = serializers.IntegerField()
    volume_total = serializers.IntegerField()
    min_volume = serializers.IntegerField(allow_null=True)
    escrow = serializers.FloatField(allow_null=True)
    range = serializers.CharField()
    duration = serializers.IntegerField(help_text="days")
    issued = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    is_corporation = serializers.BooleanField(allow_null=True)
    flag = serializers.ChoiceField(
        choices=["outbid", "undercut", "best", "unknown"],
        help_text="outbid: a higher bid at the same station; undercut: a lower ask there; "
        "unknown: no snapshot of its region.",
    )
    best_other = serializers.FloatField(
        allow_null=True,
        help_text="The best competing price at its station (bids: any that reach it).",
    )
    relist_price = serializers.FloatField(
        allow_null=True,
        help_text="Outbid or undercut: the price one step of EVE's price grid past it.",
    )
    snapshot_region = serializers.IntegerField()
    snapshot_generation = serializers.CharField(allow_null=True)


class CharacterOrdersOut(serializers.Serializer):
    orders = CharacterOrderOut(many=True)
    buy_total = serializers.FloatField(help_text="ISK in escrow")
    sell_total = serializers.FloatField(help_text="ISK of the remaining sell volume")
    outbid = serializers.IntegerField()
    undercut = serializers.IntegerField()
    snapshots = SnapshotOut(many=True)


class CharacterShipOut(serializers.Serializer):
    ship_item_id = serializers.IntegerField()
    ship_name = serializers.CharField()
    ship_type_id = serializers.IntegerField()
    type_name = serializers.CharField(allow_null=True)
    image = serializers.CharField(allow_null=True)


class CharacterLocationOut(serializers.Serializer):
    system = CharacterSystemOut(allow_null=True)
    docked = PlaceOut(allow_null=True, help_text="The station or structure, if docked.")
    ship = CharacterShipOut(allow_null=True)


# --- Sections and characters ---------------------------------------------------------------


class CharacterSectionOut(serializers.Serializer):
    character_id = serializers.IntegerField()
    group = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # (Field.label in stubs)
    state = serializers.CharField(
        help_text="ok; pending (not fetched yet); disabled (feature not granted: data is null); "
        "needs_reauth (the last data, if any, is still shown)",
    )
    feature = CharacterFeatureOut(allow_null=True, help_text="null for public data (identity)")
    fetched_at = serializers.DateTimeField(allow_null=True, help_text="When it was fetched.")
    esi = CharacterEsiTimesOut(help_text="The ESI cache times of the answers it was made of.")
    error = serializers.CharField(allow_null=True, help_text="Why the last refresh failed.")


def _section(name: str, data: serializers.Serializer) -> type[serializers.Serializer]:
    """A section envelope whose `data` is `data` (null unless the state is ok/needs_reauth)."""
    fields: dict[str, Any] = {"data": data, "__module__": __name__}
    return type(name, (CharacterSectionOut,), fields)


IdentitySection = _section("IdentitySection", CharacterIdentityOut(allow_null=True))
SkillsSection = _section("SkillsSection", SkillsOut(allow_null=True))
StandingsSection = _section("StandingsSection", CharacterStandingsOut(allow_null=True))
AssetsSection = _section("AssetsSection", CharacterAssetsOut(allow_null=True))
WalletSection = _section("WalletSection", CharacterWalletOut(allow_null=True))
OrdersSection = _section("OrdersSection", CharacterOrdersOut(allow_null=True))
LocationSection = _section("LocationSection", CharacterLocationOut(allow_null=True))


class CharacterOut(serializers.Serializer):
    character_id = serializers.IntegerField()
    name = serializers.CharField()
    corporation_id = serializers.IntegerField(allow_null=True)
    alliance_id = serializers.IntegerField(allow_null=True)
    portrait = serializers.CharField(help_text="128 px portrait URL")
    needs_reauth = serializers.BooleanField()
    features = serializers.DictField(
        child=serializers.BooleanField(), help_text="feature key -> granted"
    )
    selected = serializers.BooleanField(help_text="The character profit figures use.")
    refreshed_at = serializers.DateTimeField(allow_null=True)
    next_refresh_at = serializers.DateTimeField(allow_null=True)
    refresh_problem = serializers.CharField(
        allow_null=True, help_text="Why the last refresh stopped early."
    )


class CharacterListOut(serializers.Serializer):
    selected_id = serializers.IntegerField(allow_null=True)
    characters = CharacterOut(many=True)


class CharacterSectionStateOut(serializers.Serializer):
    group = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # (Field.label in stubs)
    state = serializers.CharField(help_text="ok, pending, disabled or needs_reauth")
    fetched_at = serializers.DateTimeField(allow_null=True)
    feature = CharacterFeatureOut(allow_null=True)


class CharacterDetailOut(CharacterOut):
    identity = IdentitySection()
    sections = CharacterSectionStateOut(many=True)


class CharacterRefreshOut(serializers.Serializer):
    queued = serializers.BooleanField(help_text="False when a refresh was already queued.")
    detail = serializers.CharField()
