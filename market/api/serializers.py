"""Query parameters and response shapes of the market API.

Views answer the selectors' dicts directly; the output serializers here document those shapes
in the OpenAPI schema (tests/test_market_api.py checks real answers against it).
"""

from __future__ import annotations

from rest_framework import serializers

from market.models import Structure
from sde.api.fields import AsciiIntegerField
from sde.api.serializers import PageParams
from sde.ids import parse_ascii_id

MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1  # station and structure ids

# --- Query parameters and bodies -----------------------------------------------------------


class NoParams(serializers.Serializer):
    pass


class OrdersParams(serializers.Serializer):
    order_type = serializers.ChoiceField(choices=["buy", "sell", "all"], default="all")
    station_id = AsciiIntegerField(
        min_value=1, max_value=MAX_BIG_ID, required=False, help_text="Only this station's."
    )
    limit = AsciiIntegerField(
        min_value=1, max_value=5000, default=200, help_text="At most this many orders per side."
    )


class CompareParams(serializers.Serializer):
    type_id = AsciiIntegerField(min_value=1, max_value=MAX_ID)
    regions = serializers.CharField(
        required=False,
        help_text="Comma-separated region ids, 1 to 10 (default: every tracked region).",
    )

    def validate_regions(self, value: str) -> str:
        region_list(value)
        return value


def region_list(value: str) -> list[int]:
    """Region ids from "10000002,10000043" (1 to 10 of them, repeats dropped)."""
    try:
        regions = [parse_ascii_id(part) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise serializers.ValidationError("a comma-separated list of region ids") from exc
    if not 1 <= len(regions) <= 10 or any(not 0 < r <= MAX_ID for r in regions):
        raise serializers.ValidationError("between 1 and 10 region ids")
    return list(dict.fromkeys(regions))


class RefreshIn(serializers.Serializer):
    region_id = AsciiIntegerField(min_value=1, max_value=MAX_ID)


# --- Responses -----------------------------------------------------------------------------


class SnapshotOut(serializers.Serializer):
    region_id = serializers.IntegerField(
        allow_null=True, help_text="The region of the book (null for a structure not placed)."
    )
    structure_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=(
            "Set when this is a structure's whole book, read through a member's access and "
            "merged into its region's market (docs/structures.md)."
        ),
    )
    generation = serializers.CharField(help_text="Changes with every published snapshot.")
    source = serializers.ChoiceField(  # type: ignore[assignment]  # (Field.source in stubs)
        choices=["esi", "demo"], help_text="demo: generated, shown until ESI answers"
    )
    esi_last_modified = serializers.DateTimeField(allow_null=True)
    esi_expires = serializers.DateTimeField(allow_null=True)
    fetched_at = serializers.DateTimeField(help_text="When ESI last confirmed this book.")
    age_seconds = serializers.IntegerField(help_text="Seconds since fetched_at.")
    stale = serializers.BooleanField(
        help_text="Past ESI's Expires plus the grace period, or demo data."
    )
    pages = serializers.IntegerField()
    orders = serializers.IntegerField()


class OrderOut(serializers.Serializer):
    order_id = serializers.IntegerField()
    type_id = serializers.IntegerField()
    location_id = serializers.IntegerField()
    location_name = serializers.CharField(allow_null=True, help_text="null for a player structure")
    system_id = serializers.IntegerField()
    is_buy_order = serializers.BooleanField()
    price = serializers.FloatField()
    volume_remain = serializers.IntegerField()
    volume_total = serializers.IntegerField()
    min_volume = serializers.IntegerField()
    duration = serializers.IntegerField(help_text="days")
    issued = serializers.DateTimeField()
    range = serializers.CharField(help_text="station, solarsystem, region or a number of jumps")
    elsewhere = serializers.BooleanField(
        required=False,
        help_text="In a station's book: a bid placed at another station whose range reaches "
        "this one (a seller here can fill it).",
    )
    system_name = serializers.CharField(
        allow_null=True, required=False, help_text="Where an `elsewhere` bid sits."
    )
    jumps = serializers.IntegerField(
        allow_null=True,
        required=False,
        help_text="Stargate jumps from an `elsewhere` bid's system to this station's.",
    )


class BookSideOut(serializers.Serializer):
    total_orders = serializers.IntegerField(help_text="All of this side's orders, before limit.")
    total_volume = serializers.IntegerField(help_text="Units remaining, before limit.")
    orders = OrderOut(many=True)
    elsewhere_orders = serializers.IntegerField(
        required=False, help_text="In a station's book: of those, bids from other stations."
    )
    elsewhere_volume = serializers.IntegerField(required=False, help_text="Their units remaining.")


class OrdersOut(serializers.Serializer):
    snapshot = SnapshotOut()
    region_id = serializers.IntegerField()
    type_id = serializers.IntegerField()
    type_name = serializers.CharField()
    buy = BookSideOut(required=False, help_text="Highest price first; absent for sell only.")
    sell = BookSideOut(required=False, help_text="Lowest price first; absent for buy only.")


class BestOut(serializers.Serializer):
    best_bid = serializers.FloatField(allow_null=True)
    best_ask = serializers.FloatField(allow_null=True)
    spread = serializers.FloatField(allow_null=True, help_text="best_ask - best_bid")
    spread_percent = serializers.FloatField(allow_null=True, help_text="of best_ask")
    bid_volume = serializers.IntegerField()
    ask_volume = serializers.IntegerField()
    bid_orders = serializers.IntegerField()
    ask_orders = serializers.IntegerField()


class HubBestOut(BestOut):
    station_id = serializers.IntegerField()
    station_name = serializers.CharField(allow_null=True)


class StructureBestOut(BestOut):
    structure_id = serializers.IntegerField()
    structure_name = serializers.CharField()
    system_name = serializers.CharField(allow_null=True)
    security = serializers.FloatField(allow_null=True)


class CompareRegionOut(serializers.Serializer):
    region_id = serializers.IntegerField()
    snapshot = SnapshotOut()
    region = BestOut(help_text="The whole region, shared structures' books included.")
    hub = HubBestOut(allow_null=True, help_text="The region's trade hub station, if it has one.")
    structures = StructureBestOut(
        many=True,
        help_text=(
            "Each structure of the region whose whole book members share "
            "(docs/structures.md), where the type has orders."
        ),
    )


class CompareOut(serializers.Serializer):
    type_id = serializers.IntegerField()
    type_name = serializers.CharField()
    regions = CompareRegionOut(many=True)
    notice = serializers.CharField(
        allow_null=True,
        help_text="Why some asked regions were left out: PLEX trades only in the global PLEX "
        "market (region 19000001), which holds nothing else.",
    )


class HistoryDayOut(serializers.Serializer):
    date = serializers.DateField()
    average = serializers.FloatField()
    highest = serializers.FloatField()
    lowest = serializers.FloatField()
    order_count = serializers.IntegerField()
    volume = serializers.IntegerField()


class HistoryOut(serializers.Serializer):
    region_id = serializers.IntegerField()
    type_id = serializers.IntegerField()
    type_name = serializers.CharField()
    days = HistoryDayOut(many=True)


class PricesOut(serializers.Serializer):
    type_id = serializers.IntegerField()
    type_name = serializers.CharField()
    average_price = serializers.FloatField(allow_null=True)
    adjusted_price = serializers.FloatField(allow_null=True)


class RefreshStateOut(serializers.Serializer):
    running = serializers.BooleanField(required=False)
    last_attempt_at = serializers.DateTimeField(allow_null=True, required=False)
    last_result = serializers.ChoiceField(choices=["ok", "error"], required=False)
    last_error = serializers.CharField(allow_null=True, required=False)
    last_success_at = serializers.DateTimeField(allow_null=True, required=False)
    failures = serializers.IntegerField(required=False)
    next_refresh_at = serializers.DateTimeField(allow_null=True, required=False)


class ProgressOut(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["fetching", "building", "published", "not_modified", "failed", "demo"]
    )
    done = serializers.IntegerField(help_text="pages")
    total = serializers.IntegerField(help_text="pages (0 until ESI said how many)")
    updated = serializers.FloatField(help_text="Unix time")


class RegionStatusOut(serializers.Serializer):
    region_id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    snapshot = SnapshotOut(allow_null=True)
    refresh = RefreshStateOut()
    progress = ProgressOut(allow_null=True, help_text="The latest refresh's, for an hour.")


class BreakerOut(serializers.Serializer):
    state = serializers.ChoiceField(choices=["closed", "open", "half_open"])
    failures = serializers.IntegerField()
    opened_at = serializers.DateTimeField(allow_null=True)
    retry_at = serializers.DateTimeField(allow_null=True)


class ErrorLimitOut(serializers.Serializer):
    remain = serializers.IntegerField(allow_null=True)
    reset_at = serializers.DateTimeField(allow_null=True)


class RateGroupOut(serializers.Serializer):
    limit = serializers.IntegerField(allow_null=True)
    window = serializers.FloatField(allow_null=True)
    remaining = serializers.IntegerField(allow_null=True)
    used = serializers.IntegerField(allow_null=True)
    paused_until = serializers.DateTimeField(allow_null=True)


class LimitsOut(serializers.Serializer):
    error_limit = ErrorLimitOut()
    groups = serializers.DictField(child=RateGroupOut(), help_text="by rate-limit group")
    paused_until = serializers.DateTimeField(allow_null=True)


class DowntimeOut(serializers.Serializer):
    window = serializers.CharField(allow_null=True, help_text='e.g. "11:00-11:15 UTC"')
    active = serializers.BooleanField()
    starts_at = serializers.DateTimeField(allow_null=True)
    resume_at = serializers.DateTimeField(allow_null=True)


class EsiStatusOut(serializers.Serializer):
    breaker = BreakerOut()
    limits = LimitsOut()
    downtime = DowntimeOut()


class StatusOut(serializers.Serializer):
    regions = RegionStatusOut(many=True)
    esi = EsiStatusOut()


class QueuedOut(serializers.Serializer):
    queued = serializers.IntegerField(help_text="The region whose refresh was queued.")


# --- Structures ----------------------------------------------------------------------------


class StructureParams(PageParams):
    region_id = AsciiIntegerField(min_value=1, max_value=MAX_ID, required=False)
    market_status = serializers.ChoiceField(choices=Structure.Status.values, required=False)


class StructureOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(
        allow_null=True, help_text="Told by ESI to characters with docking access: null "
        "until a member shares the structure's market."
    )  # fmt: skip
    system_id = serializers.IntegerField(allow_null=True)
    system_name = serializers.CharField(allow_null=True)
    region_id = serializers.IntegerField(allow_null=True)
    region_name = serializers.CharField(allow_null=True)
    security = serializers.FloatField(allow_null=True)
    type_id = serializers.IntegerField(allow_null=True)
    owner_id = serializers.IntegerField(allow_null=True)
    market_status = serializers.ChoiceField(choices=Structure.Status.choices)
    last_refresh = serializers.DateTimeField(allow_null=True)
    order_count = serializers.IntegerField(allow_null=True)
    learned_from = serializers.ChoiceField(choices=Structure.Learned.choices)
    learned_at = serializers.DateTimeField()
    broker_fee = serializers.FloatField(
        allow_null=True, help_text="The owner's rate (null: PROFIT_STRUCTURE_BROKER_FEE)."
    )
    is_hub = serializers.BooleanField()


class StructureListOut(serializers.Serializer):
    count = serializers.IntegerField()
    results = StructureOut(many=True)
