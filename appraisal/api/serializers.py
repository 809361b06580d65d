"""The appraisal API's input and its documented answer."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from market.api.serializers import SnapshotOut
from profit.api.serializers import SkillsParams
from sde.api.serializers import PlaceOut

MARKET_HELP = (
    "Where to price the list: a station, structure, system or region id, or one of "
    "evepraisal's names (jita, amarr, dodixie, hek, rens, perimeter, universe: every "
    "tracked region). Default 60003760, Jita IV - Moon 4."
)


class AppraisalOptions(SkillsParams):
    """What a request asks besides the list (query parameters with a text/plain body)."""

    market = serializers.CharField(required=False, max_length=40, help_text=MARKET_HELP)
    percentage = serializers.FloatField(
        required=False,
        default=100.0,
        min_value=0,
        max_value=1000,
        help_text="A buyback's rate, applied to every total (100: the prices as they are).",
    )
    persist = serializers.BooleanField(
        required=False, default=True, help_text="Store it with a code and a permalink."
    )
    private = serializers.BooleanField(
        required=False, default=False, help_text="Readable only with its link's token."
    )
    expire_days = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=settings.APPRAISAL_MAX_DAYS,
        help_text=f"Days it is kept (default {settings.APPRAISAL_DAYS}).",
    )


class AppraisalIn(AppraisalOptions):
    """The JSON body: the text as pasted and the options."""

    text = serializers.CharField(
        trim_whitespace=False, help_text="The list as pasted from the game (any format)."
    )


class AppraisalSideOut(serializers.Serializer):
    min = serializers.FloatField()
    max = serializers.FloatField()
    avg = serializers.FloatField(help_text="Mean of the orders' prices.")
    median = serializers.FloatField()
    percentile = serializers.FloatField(
        help_text="Volume-weighted average price of the best 5 % of the side's units."
    )
    stddev = serializers.FloatField()
    volume = serializers.IntegerField()
    order_count = serializers.IntegerField()


class AppraisalPricesOut(serializers.Serializer):
    buy = AppraisalSideOut(help_text="The bids a seller at the market can fill.")
    sell = AppraisalSideOut(help_text="The asks at the market.")
    all = AppraisalSideOut()
    best_bid = serializers.FloatField(allow_null=True, help_text="What you get selling now.")
    best_ask = serializers.FloatField(allow_null=True, help_text="What you pay buying now.")
    split = serializers.FloatField(allow_null=True)


class AppraisalSellNowOut(serializers.Serializer):
    units = serializers.IntegerField()
    unsold = serializers.IntegerField(help_text="Units no bid here takes.")
    gross = serializers.FloatField()
    sales_tax = serializers.FloatField()
    net = serializers.FloatField()


class AppraisalListedOut(serializers.Serializer):
    price = serializers.FloatField(help_text="One step of the price grid under the best ask.")
    location_id = serializers.IntegerField()
    gross = serializers.FloatField()
    broker_fee = serializers.FloatField()
    broker_fee_rate = serializers.FloatField()
    sales_tax = serializers.FloatField()
    net = serializers.FloatField()


class AppraisalNetOut(serializers.Serializer):
    sell_now = AppraisalSellNowOut()
    list = AppraisalListedOut(
        allow_null=True, help_text="Null where no listing can be placed: see list_note."
    )
    list_note = serializers.CharField(
        allow_null=True,
        help_text="Why there is no listing: nothing listed, no room above the best bid, or "
        "the best ask at the grid's lowest price.",
    )


class AppraisalValuesOut(serializers.Serializer):
    buy = serializers.FloatField()
    sell = serializers.FloatField()
    split = serializers.FloatField()


class AppraisalPerM3Out(serializers.Serializer):
    buy = serializers.FloatField(allow_null=True)
    sell = serializers.FloatField(allow_null=True)


class AppraisalItemOut(serializers.Serializer):
    type_id = serializers.IntegerField()
    name = serializers.CharField()
    typed = serializers.CharField(help_text="The name as pasted.")
    quantity = serializers.IntegerField()
    lines = serializers.ListField(child=serializers.IntegerField())
    parsers = serializers.ListField(
        child=serializers.CharField(), help_text="Which format read it."
    )
    guess = serializers.BooleanField(help_text="The name was matched approximately.")
    bpc = serializers.BooleanField(help_text="A blueprint copy (valued at 0).")
    runs = serializers.IntegerField(allow_null=True)
    note = serializers.CharField(allow_null=True)
    volume = serializers.FloatField(help_text="m³ a unit, as the SDE gives it.")
    packaged_volume = serializers.FloatField(help_text="m³ a unit, packaged.")
    total_volume = serializers.FloatField()
    total_packaged_volume = serializers.FloatField()
    prices = AppraisalPricesOut()
    values = AppraisalValuesOut(help_text="quantity x best bid, best ask, split.")
    isk_per_m3 = AppraisalPerM3Out()
    net = AppraisalNetOut()


class AppraisalTotalsOut(serializers.Serializer):
    percentage = serializers.FloatField()
    buy = serializers.FloatField()
    sell = serializers.FloatField()
    split = serializers.FloatField()
    volume = serializers.FloatField()
    packaged_volume = serializers.FloatField()
    net_sell_now = serializers.FloatField()
    unsold_units = serializers.IntegerField()
    net_listed = serializers.FloatField()
    unlisted_types = serializers.IntegerField()


class AppraisalMarketOut(serializers.Serializer):
    name = serializers.CharField(help_text="As asked: evepraisal's name, or the place's.")
    title = serializers.CharField(help_text="The place's name, for people.")
    kind = serializers.CharField()
    place = PlaceOut(allow_null=True)


class AppraisalUnparsedOut(serializers.Serializer):
    line = serializers.IntegerField()
    text = serializers.CharField()


class AppraisalSkillsOut(serializers.Serializer):
    source = serializers.CharField()  # type: ignore[assignment]  # (Field.source in stubs)
    sales_tax = serializers.FloatField()


class AppraisalOut(serializers.Serializer):
    code = serializers.CharField(allow_null=True, help_text="Null when not stored.")
    permalink = serializers.CharField(allow_null=True)
    json_url = serializers.CharField(allow_null=True, help_text="This answer in JSON.")
    private = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    market = AppraisalMarketOut()
    kind = serializers.CharField(help_text="The format that read most lines.")
    percentage = serializers.FloatField()
    skills = AppraisalSkillsOut()
    totals = AppraisalTotalsOut()
    items = AppraisalItemOut(many=True)
    unparsed = AppraisalUnparsedOut(many=True, help_text="Lines no format could read.")
    snapshots = SnapshotOut(many=True)
