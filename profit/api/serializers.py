"""Query parameters, bodies and response shapes of the profit API.

The input serializers are shared with the pages (profit/views.py), so a form and the API
accept exactly the same values. The output serializers document the answers in the OpenAPI
schema (tests/test_profit_api.py checks real answers against it).
"""

from __future__ import annotations

import math
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from market.api.serializers import MAX_BIG_ID, MAX_ID, SnapshotOut
from profit import flags
from profit.hauling import HaulingParams as HaulingEngineParams
from profit.params import SKILL_RANGE, STANDING_RANGE, parse_snapshots
from sde import routes
from sde.api.fields import AsciiIntegerField
from sde.api.serializers import PlaceOut
from sde.ids import parse_ascii_id

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
MAX_PLACES = 10  # ids in one `from` or `to`
ROUTE_PREFERENCES = routes.PREFERENCES  # shortest, safer, less_secure
ROUTE_SECURITY = routes.SECURITY  # high (only), low (high and low), any
ROUTE_DEFAULTS = HaulingEngineParams()

# Sortable columns: a leading "-" sorts highest first.
STATION_SORTS = (
    "daily_profit",
    "profit_per_unit",
    "daily_units",
    "margin",
    "roi",
    "daily_volume",
    "best_bid",
    "best_ask",
    "buy_price",
    "sell_price",
    "buy_orders",
    "sell_orders",
    "bid_volume",
    "ask_volume",
    "type_name",
    "type_id",
)
HAULING_SORTS = (
    "net_profit",
    "roi",
    "isk_per_m3",
    "profit_per_jump",
    "jumps",
    "quantity",
    "volume_m3",
    "buy_total",
    "sell_total",
    "avg_buy",
    "avg_sell",
    "type_name",
    "type_id",
)


class FiniteFloatField(serializers.FloatField):
    """A float that is a real number: "nan" and "inf" are a 400, not a value."""

    default_error_messages = {"not_finite": "Must be a finite number."}

    def to_internal_value(self, data: Any) -> float:
        value = float(super().to_internal_value(data))
        if not math.isfinite(value):
            self.fail("not_finite")
        return value


def sort_choices(columns: tuple[str, ...]) -> list[str]:
    return [f"-{c}" for c in columns] + list(columns)


# What a place or type id looks like, for the messages of a value that is not one.
PLACE_EXAMPLE = "for example 60003760 for Jita IV - Moon 4"
TYPE_EXAMPLE = "for example 34 for Tritanium"


def id_field(name: str, example: str, help_text: str, maximum: int = MAX_BIG_ID) -> Any:
    """An id parameter whose errors say what an id is, with an example."""
    return AsciiIntegerField(
        min_value=1,
        max_value=maximum,
        help_text=help_text,
        error_messages={
            "invalid": f"{name} must be a number, {example}.",
            "min_value": f"{name} must be a positive id, {example}.",
            "max_value": f"{name} is too large to be an EVE id, {example}.",
        },
    )


def id_list(value: str, what: str) -> list[int]:
    """Ids from "60003760,60008494" (1 to MAX_PLACES of them, repeats dropped)."""
    try:
        ids = [parse_ascii_id(part) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise serializers.ValidationError(
            f"a comma-separated list of {what} ids, for example 60003760,60008494 "
            "(Jita IV - Moon 4 and Amarr VIII)"
        ) from exc
    if not 1 <= len(ids) <= MAX_PLACES or any(not 0 < i <= MAX_BIG_ID for i in ids):
        raise serializers.ValidationError(f"between 1 and {MAX_PLACES} {what} ids")
    return list(dict.fromkeys(ids))


# --- Shared parameter groups ---------------------------------------------------------------


def skill_level(help_text: str) -> serializers.IntegerField:
    low, high = SKILL_RANGE
    return AsciiIntegerField(
        min_value=low,
        max_value=high,
        required=False,
        help_text=f"{help_text}: 0 to 5 (default: the selected character's, else 0).",
    )


def standing(help_text: str) -> FiniteFloatField:
    low, high = STANDING_RANGE
    return FiniteFloatField(
        min_value=low,
        max_value=high,
        required=False,
        help_text=(
            f"{help_text}: -10 to 10, unmodified (default: the selected character's toward "
            "each station owner, else 0)."
        ),
    )


class SkillsParams(serializers.Serializer):
    """The trader's skills and standings; any left out is the logged-in selected character's
    (when the fees feature is on), else 0. Each one given replaces that value only."""

    accounting = skill_level("Accounting level (sales tax -11 % a level)")
    broker_relations = skill_level("Broker Relations level (broker fee -0.3 points a level)")
    advanced_broker_relations = skill_level(
        "Advanced Broker Relations level (relist discount +6 points a level)"
    )
    faction_standing = standing("Standing toward the station owner's faction")
    corp_standing = standing("Standing toward the station owner's corporation")


class PageParams(serializers.Serializer):
    page = AsciiIntegerField(min_value=1, default=1, help_text="Pages count from 1.")
    page_size = AsciiIntegerField(min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE)


class SnapshotsParam(serializers.Serializer):
    snapshots = serializers.CharField(
        required=False,
        help_text=(
            "Replay these snapshot generations (a permalink): region:generation pairs, comma "
            "separated, e.g. 10000002:20261122T025012-3f9a1c. A region left out uses its "
            "current snapshot; a generation no longer kept is a 410."
        ),
    )

    def validate_snapshots(self, value: str) -> dict[int, str]:
        try:
            return parse_snapshots(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc


TICK_RETIRED = (
    "tick is no longer accepted: EVE prices have at most 4 significant digits, so an outbid "
    "or an undercut is one step of that grid (900,000 -> 900,100; 1,000,000 -> 999,900; "
    "0.01 ISK under 100 ISK), and every price is computed on it for you."
)


@extend_schema_field(OpenApiTypes.NUMBER)
class RetiredField(serializers.Field):
    """A parameter that was once accepted: sending it is a 400 that says why it went."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(required=False, help_text=f"Not accepted: {message}")

    def to_internal_value(self, data: Any) -> Any:
        raise serializers.ValidationError(self.message)

    def to_representation(self, value: Any) -> Any:
        return None


def tick_field() -> RetiredField:
    return RetiredField(TICK_RETIRED)


def market_group_field() -> serializers.IntegerField:
    return AsciiIntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="Only this market group (and its sub-groups).",
    )


def category_field() -> serializers.IntegerField:
    return AsciiIntegerField(
        min_value=0, max_value=MAX_ID, required=False, help_text="Only this item category."
    )


@extend_schema_field(OpenApiTypes.STR)
class HideField(serializers.Field):
    """`hide`: the row flags whose rows are left out (profit.flags)."""

    def to_internal_value(self, data: Any) -> frozenset[str]:
        if not isinstance(data, str) or len(data) > 100:
            raise serializers.ValidationError("hide must be a comma-separated list of flags.")
        try:
            return flags.parse_hide(data)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def to_representation(self, value: Any) -> str:
        return flags.hide_param(value)


def hide_field() -> HideField:
    return HideField(
        required=False,
        help_text=(
            "Leave out rows with these flags, comma separated: thin (under one unit a day "
            "moves there), off_history (prices under half or over twice the 30-day median "
            "daily average there), volume_unknown (no daily volume yet); none shows every "
            f"row. Default: {flags.hide_param(flags.DEFAULT_HIDDEN)}."
        ),
    )


def route_preference() -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=list(ROUTE_PREFERENCES),
        required=False,
        help_text=f"Route preference (default {ROUTE_DEFAULTS.preference}).",
    )


def route_security() -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=list(ROUTE_SECURITY),
        required=False,
        help_text=(
            "high: through high-sec only; low: high and low; any: any system "
            f"(default {ROUTE_DEFAULTS.security})."
        ),
    )


# --- Station trading -----------------------------------------------------------------------


class StationTradingParams(SkillsParams, PageParams, SnapshotsParam):
    station_id = id_field("station_id", PLACE_EXAMPLE, "An NPC station or Upwell structure id.")
    min_profit = FiniteFloatField(
        default=0.0, help_text="Least profit per unit, ISK, after fees and tax (default 0)."
    )
    min_margin = FiniteFloatField(
        required=False, help_text="Least margin, a fraction of the buy price (0.05 = 5 %)."
    )
    max_margin = FiniteFloatField(required=False, help_text="Most margin, a fraction.")
    min_daily_volume = FiniteFloatField(
        min_value=0, required=False, help_text="Least average units traded a day (30 days)."
    )
    max_price = FiniteFloatField(
        min_value=0, required=False, help_text="Most ISK paid per unit (the buy price)."
    )
    market_group_id = market_group_field()
    category_id = category_field()
    tick = tick_field()
    sort = serializers.ChoiceField(
        choices=sort_choices(STATION_SORTS),
        default="-daily_profit",
        help_text="Default: estimated profit per day (daily_profit), highest first.",
    )
    hide = hide_field()
    limit = AsciiIntegerField(
        min_value=1, max_value=100_000, required=False, help_text="Keep only the top N rows."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        low, high = attrs.get("min_margin"), attrs.get("max_margin")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"max_margin": ["must be at least min_margin"]})
        return attrs


# --- Hauling -------------------------------------------------------------------------------


class HaulingParams(SkillsParams, PageParams, SnapshotsParam):
    # `from` is a Python keyword: the field is added below.
    to = serializers.CharField(
        help_text="Destination: station, system or region ids, comma separated (1 to 10)."
    )
    mode = serializers.ChoiceField(
        choices=["instant", "list"],
        default="instant",
        help_text=(
            "instant: buy from sell orders at the source, sell into the buy orders a seller "
            "at the destination can fill (ranged bids included). list: buy from sell orders, "
            "list a sell order at the destination one price step under its best ask but not "
            "above the 30-day median high of its history, with its broker fee."
        ),
    )
    cargo_m3 = FiniteFloatField(
        min_value=0.01, max_value=1e9, required=False, help_text="Cargo capacity, m3 (packaged)."
    )
    budget = FiniteFloatField(
        min_value=1, max_value=1e15, required=False, help_text="ISK to spend per item."
    )
    min_profit = FiniteFloatField(required=False, help_text="Least net profit, ISK.")
    min_roi = FiniteFloatField(required=False, help_text="Least ROI, a fraction (0.1 = 10 %).")
    max_jumps = AsciiIntegerField(min_value=0, max_value=1000, required=False)
    days_to_sell = FiniteFloatField(
        min_value=0.1,
        max_value=365,
        default=ROUTE_DEFAULTS.days_to_sell,
        help_text=(
            "list mode: list at most what the destination sells in this many days (its "
            f"estimated daily volume; default {ROUTE_DEFAULTS.days_to_sell:g})."
        ),
    )
    preference = route_preference()
    security = route_security()
    tick = tick_field()
    sort = serializers.ChoiceField(choices=sort_choices(HAULING_SORTS), default="-net_profit")
    hide = hide_field()
    market_group_id = market_group_field()
    category_id = category_field()
    limit = AsciiIntegerField(
        min_value=1, max_value=100_000, required=False, help_text="Keep only the top N rows."
    )

    def validate_from(self, value: str) -> list[int]:
        return id_list(value, "station, system or region")

    def validate_to(self, value: str) -> list[int]:
        return id_list(value, "station, system or region")


HaulingParams._declared_fields = {
    "from": serializers.CharField(
        help_text="Source: station, system or region ids, comma separated (1 to 10)."
    ),
    **HaulingParams._declared_fields,
}


# --- The trade calculator ------------------------------------------------------------------


class TraderSkillsIn(SkillsParams):
    pass


class CalculateIn(SnapshotsParam):
    type_id = id_field("type_id", TYPE_EXAMPLE, "The item's type id.", maximum=MAX_ID)
    buy_location = id_field(
        "buy_location", PLACE_EXAMPLE, "Where to buy: station, system or region."
    )
    sell_location = id_field(
        "sell_location", PLACE_EXAMPLE, "Where to sell: station, system or region."
    )
    quantity = AsciiIntegerField(min_value=1, max_value=10**12)
    mode = serializers.ChoiceField(choices=["instant", "list"], default="instant")
    skills = TraderSkillsIn(required=False, help_text="Skills and standings; any left out is 0.")
    preference = route_preference()
    security = route_security()
    tick = tick_field()

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            unknown = set(data.keys()) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field."] for name in sorted(unknown)}
                )
        return super().to_internal_value(data)


# --- Boards --------------------------------------------------------------------------------


class BoardsVersionParams(serializers.Serializer):
    pass


class BoardsParams(serializers.Serializer):
    board = serializers.CharField(
        required=False, help_text='One board only, e.g. "station:60003760" or "hauling".'
    )
    limit = AsciiIntegerField(
        min_value=1, max_value=500, default=20, help_text="Rows per board, best first."
    )


# --- Responses -----------------------------------------------------------------------------


class StandingsUsedOut(serializers.Serializer):
    corporation_id = AsciiIntegerField(allow_null=True)
    corporation_name = serializers.CharField(allow_null=True)
    corp_standing = serializers.FloatField()
    faction_id = AsciiIntegerField(allow_null=True)
    faction_name = serializers.CharField(allow_null=True)
    faction_standing = serializers.FloatField()
    location_ids = serializers.ListField(child=AsciiIntegerField())


class TraderSkillsOut(serializers.Serializer):
    source = serializers.CharField(  # type: ignore[assignment]  # (Field.source in stubs)
        help_text=(
            "Where the skills came from: parameters (this request), defaults (every skill 0, "
            'standings 0), "character: <name>" (the selected character\'s own) or '
            '"character: <name> with overrides: <fields>" (the character\'s, with the fields '
            "this request gave in their place)."
        ),
    )
    accounting = AsciiIntegerField()
    broker_relations = AsciiIntegerField()
    advanced_broker_relations = AsciiIntegerField()
    faction_standing = serializers.FloatField(
        allow_null=True,
        help_text="The faction standing the fees used; null when stations of the answer used "
        "different ones (see standings_used).",
    )
    corp_standing = serializers.FloatField(
        allow_null=True, help_text="The corporation standing the fees used; null likewise."
    )
    character_standings = serializers.BooleanField(
        help_text="A character's own standings toward each station owner were used."
    )
    standings = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        help_text="With a character's standings: owner id (faction or corporation) -> "
        "standing, the map the fees looked owners up in (an owner not in it counts 0).",
    )
    standings_used = StandingsUsedOut(
        many=True,
        required=False,
        help_text="With a character's standings: per station owner of the answer, the faction "
        "and corporation standings its broker fee used, and its stations.",
    )


def flags_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=list(flags.CODES)),
        help_text="Warnings: thin, off_history, volume_unknown (see the `hide` parameter).",
    )


class VolumesKnownOut(serializers.Serializer):
    known = AsciiIntegerField(help_text="Rows whose daily volume is known.")
    total = AsciiIntegerField(help_text="Rows the filters passed, hidden ones included.")
    filling = serializers.BooleanField(help_text="The history fill is still running today.")


class TruncatedOut(serializers.Serializer):
    rows = serializers.IntegerField(help_text="Rows offered (PROFIT_MAX_ROWS).")
    ranked = serializers.IntegerField(help_text="Rows the search ranked.")
    reason = serializers.CharField(help_text="The setting that cut the answer.")
    message = serializers.CharField()


class ProfitListOut(serializers.Serializer):
    snapshots = SnapshotOut(many=True, help_text="Every snapshot the answer read.")
    parameters = serializers.DictField(help_text="Every parameter, with the defaults used.")
    skills = TraderSkillsOut()
    rates = serializers.DictField(help_text="Every rate used and the fee schedule it came from.")
    permalink = serializers.CharField(
        help_text="This query pinned to the snapshots used: replays them while they are kept."
    )
    total = AsciiIntegerField(help_text="Rows found before `limit`.")
    hidden = serializers.DictField(
        child=AsciiIntegerField(),
        help_text="Rows each flag of `hide` left out, by flag (a row may count twice).",
    )
    volumes = VolumesKnownOut(required=False, help_text="How many rows have a daily volume.")
    truncated = TruncatedOut(
        required=False,
        help_text="Present only when a cap cut the answer: count and the pages cover the top "
        "`rows` of the `ranked` ones.",
    )
    count = AsciiIntegerField(help_text="Rows after `limit`, over all pages.")
    page = AsciiIntegerField()
    page_size = AsciiIntegerField()
    pages = AsciiIntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)


class StationRowOut(serializers.Serializer):
    type_id = AsciiIntegerField()
    type_name = serializers.CharField()
    best_bid = serializers.FloatField(
        help_text="Highest buy order a seller at the station can fill (ranged bids included)."
    )
    best_bid_location_id = AsciiIntegerField(
        help_text="Where that bid sits (another station when a ranged bid reaches this one)."
    )
    best_ask = serializers.FloatField(help_text="Lowest sell order at the station.")
    buy_price = serializers.FloatField(
        help_text="Your buy order: the next valid price above the best bid (4 significant digits)."
    )
    sell_price = serializers.FloatField(
        help_text="Your sell order: the next valid price below the best ask."
    )
    buy_broker_fee = serializers.FloatField(help_text="ISK per unit.")
    sell_broker_fee = serializers.FloatField(help_text="ISK per unit.")
    sales_tax = serializers.FloatField(help_text="ISK per unit.")
    profit_per_unit = serializers.FloatField()
    margin = serializers.FloatField(help_text="profit_per_unit / sell_price")
    roi = serializers.FloatField(help_text="profit_per_unit / (buy price + buy broker fee)")
    daily_volume = serializers.FloatField(
        allow_null=True,
        help_text=(
            "Estimated units a day at the station: the region's 30-day average x volume_share; "
            "null while unknown."
        ),
    )
    volume_share = serializers.FloatField(
        allow_null=True,
        help_text="The station's estimated share of the region's volume (1 at a hub).",
    )
    buy_orders = AsciiIntegerField(help_text="Buy orders reaching the station.")
    sell_orders = AsciiIntegerField()
    bid_volume = AsciiIntegerField()
    ask_volume = AsciiIntegerField()
    order_quantity = AsciiIntegerField(
        help_text="Units each order is assumed to be for (the thinner side's depth, at least 1): "
        "the broker fee's minimum charge is spread over them."
    )
    list_price_basis = serializers.ChoiceField(
        choices=["", "undercut", "history", "unchecked"],
        help_text="How the sell price was chosen: undercut (one step under the best ask), "
        "history (capped at the 30-day median high of the region's history), unchecked (no history "
        "yet).",
    )
    daily_units = serializers.FloatField(
        allow_null=True,
        help_text="Units you can expect to turn over a day: daily_volume / 2 / (1 + the busier "
        "side's order count); null while the volume is unknown.",
    )
    daily_profit = serializers.FloatField(
        allow_null=True, help_text="profit_per_unit x daily_units, ISK a day (the default sort)."
    )
    flags = flags_field()


class StationTradingOut(ProfitListOut):
    station = PlaceOut()
    results = StationRowOut(many=True)


class OrderSoldOut(serializers.Serializer):
    order_id = AsciiIntegerField()
    location_id = AsciiIntegerField(help_text="Where the order sits (its range reaches).")
    location_name = serializers.CharField()
    price = serializers.FloatField()
    units = AsciiIntegerField()


class HaulingRowOut(serializers.Serializer):
    type_id = AsciiIntegerField()
    type_name = serializers.CharField()
    from_location_id = AsciiIntegerField()
    from_name = serializers.CharField(allow_null=True)
    to_location_id = AsciiIntegerField()
    to_name = serializers.CharField(allow_null=True)
    quantity = AsciiIntegerField()
    volume_m3 = serializers.FloatField(help_text="Packaged volume of the quantity.")
    avg_buy = serializers.FloatField()
    avg_sell = serializers.FloatField()
    buy_total = serializers.FloatField()
    sell_total = serializers.FloatField()
    buy_broker_fee = serializers.FloatField(help_text="0 in instant mode.")
    sell_broker_fee = serializers.FloatField()
    sales_tax = serializers.FloatField()
    net_profit = serializers.FloatField()
    roi = serializers.FloatField()
    isk_per_m3 = serializers.FloatField()
    jumps = AsciiIntegerField(allow_null=True, help_text="Route length minus one.")
    profit_per_jump = serializers.FloatField(allow_null=True)
    buy_orders_used = AsciiIntegerField()
    sell_orders_used = AsciiIntegerField()
    daily_volume = serializers.FloatField(
        allow_null=True,
        help_text="Estimated units a day at the destination location; null while unknown.",
    )
    list_price_basis = serializers.ChoiceField(
        choices=["", "undercut", "history", "unchecked"],
        help_text=(
            "list mode: undercut (one step under the best ask), history (capped at the 30-day "
            "high), unchecked (no history yet); empty in instant mode."
        ),
    )
    sell_orders = OrderSoldOut(
        many=True, required=False, help_text="instant mode: the buy orders sold into."
    )
    flags = flags_field()


class HaulingOut(ProfitListOut):
    from_ = PlaceOut(many=True)
    to = PlaceOut(many=True)
    results = HaulingRowOut(many=True)


HaulingOut._declared_fields = {
    ("from" if name == "from_" else name): field
    for name, field in HaulingOut._declared_fields.items()
}


class ProfitSnapshotRefOut(serializers.Serializer):
    region_id = AsciiIntegerField()
    generation = serializers.CharField()
    esi_last_modified = serializers.DateTimeField(allow_null=True)
    source = serializers.ChoiceField(choices=["esi", "demo"])  # type: ignore[assignment]


class TradeLineOut(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # (Field.label in stubs)
    amount = serializers.FloatField(allow_null=True)
    unit = serializers.ChoiceField(choices=["ISK", "fraction", "m3", "jumps"])
    formula = serializers.CharField(help_text="How the amount was computed, with the values.")
    snapshot = ProfitSnapshotRefOut(allow_null=True, help_text="The one snapshot the line read.")
    snapshots = ProfitSnapshotRefOut(many=True)


class OrderFillOut(serializers.Serializer):
    order_id = AsciiIntegerField()
    location_id = AsciiIntegerField()
    location_name = serializers.CharField()
    system_id = AsciiIntegerField()
    price = serializers.FloatField()
    units = AsciiIntegerField(help_text="Units taken from (or sold into) this order.")
    min_volume = AsciiIntegerField()
    value = serializers.FloatField()


class TradeListingOut(serializers.Serializer):
    order_id = AsciiIntegerField(help_text="The best ask undercut.")
    location_id = AsciiIntegerField()
    system_id = AsciiIntegerField()
    best_ask = serializers.FloatField()
    price = serializers.FloatField(help_text="Your sell order, on the price grid.")
    list_price_basis = serializers.ChoiceField(
        choices=["", "undercut", "history", "unchecked"],
        help_text="undercut: one step under the best ask; history: capped at the 30-day "
        "median high; unchecked: no history known yet.",
    )
    history_high = serializers.FloatField(
        allow_null=True,
        help_text="The median of the daily highest prices of the last 30 days there.",
    )
    how = serializers.CharField(help_text="How the price was chosen, in words.")


class TradeAvailableOut(serializers.Serializer):
    buy = AsciiIntegerField(help_text="Units the sell orders at the buy place hold.")
    sell = AsciiIntegerField(
        allow_null=True, help_text="Units the buy orders at the sell place want (instant)."
    )


class TradeTotalsOut(serializers.Serializer):
    buy_total = serializers.FloatField()
    sell_total = serializers.FloatField()
    sales_tax = serializers.FloatField()
    broker_fee = serializers.FloatField()
    net_profit = serializers.FloatField()
    margin = serializers.FloatField(allow_null=True)
    roi = serializers.FloatField(allow_null=True)
    volume_m3 = serializers.FloatField()
    unit_volume_m3 = serializers.FloatField()
    jumps = AsciiIntegerField(allow_null=True)


class TradeRatesOut(serializers.Serializer):
    sales_tax = serializers.FloatField()
    broker_fee = serializers.FloatField(allow_null=True, help_text="list mode only")
    statement = serializers.DictField(help_text="Every rate and its formula and schedule.")


class TradeBreakdownOut(serializers.Serializer):
    type_id = AsciiIntegerField()
    type_name = serializers.CharField()
    mode = serializers.ChoiceField(choices=["instant", "list"])
    quantity_requested = AsciiIntegerField()
    quantity = AsciiIntegerField(help_text="Units priced (less when the books are thin).")
    quantity_available = TradeAvailableOut()
    complete = serializers.BooleanField(help_text="All the requested units were priced.")
    notes = serializers.ListField(child=serializers.CharField())
    buy_orders = OrderFillOut(many=True, help_text="The sell orders bought from, cheapest first.")
    sell_orders = OrderFillOut(many=True, help_text="The buy orders sold into, dearest first.")
    listing = TradeListingOut(allow_null=True, help_text="list mode: the sell order placed.")
    lines = TradeLineOut(many=True)
    totals = TradeTotalsOut()
    rates = TradeRatesOut()
    snapshots = ProfitSnapshotRefOut(many=True)


class CalculateOut(serializers.Serializer):
    snapshots = SnapshotOut(many=True)
    parameters = serializers.DictField()
    skills = TraderSkillsOut()
    buy_location = PlaceOut()
    sell_location = PlaceOut()
    breakdown = TradeBreakdownOut()
    permalink = serializers.CharField(help_text="The calculator page with this trade, pinned.")


class BoardsVersionOut(serializers.Serializer):
    version = serializers.CharField(allow_null=True, help_text="null until a first board.")
    published_at = serializers.DateTimeField(allow_null=True)


class OpportunityBoardOut(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.ChoiceField(choices=["station", "hauling"])
    title = serializers.CharField()
    size = AsciiIntegerField(help_text="Rows kept on the board.")
    station_id = AsciiIntegerField(required=False, help_text="A station board's hub.")
    region_id = AsciiIntegerField(required=False, help_text="A station board's region.")
    station_ids = serializers.ListField(
        child=AsciiIntegerField(), required=False, help_text="The hauling board's hubs."
    )
    cargo_m3 = serializers.FloatField(required=False, help_text="The hauling board's cargo.")
    budget = serializers.FloatField(required=False, help_text="The hauling board's ISK.")
    rows = serializers.ListField(
        child=serializers.DictField(),
        help_text="Best first: station rows as station-trading's, hauling rows as hauling's.",
    )


class OpportunityBoardsOut(BoardsVersionOut):
    snapshots = SnapshotOut(many=True)
    boards = OpportunityBoardOut(many=True)
