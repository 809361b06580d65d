"""Query-parameter validators and response shapes of the SDE API.

Views return the selectors' dicts directly; the output serializers here document those
shapes in the OpenAPI schema (and a test checks that responses match the schema).
"""

from rest_framework import serializers

from sde.api.fields import AsciiIntegerField

MAX_ID = 2**31 - 1


# --- Query parameters ----------------------------------------------------------------------


class NoParams(serializers.Serializer):
    pass


class SearchParams(serializers.Serializer):
    q = serializers.CharField(max_length=100, help_text="Part of an item name, any case.")
    limit = AsciiIntegerField(min_value=1, max_value=50, default=10)


class PageParams(serializers.Serializer):
    """Either the API's paging words (`page`, `page_size`, as every profit list) or the
    older `offset` and `limit`; `page`/`page_size` win when given."""

    page = AsciiIntegerField(min_value=1, max_value=1_000_000, required=False)
    page_size = AsciiIntegerField(min_value=1, max_value=5000, required=False)
    limit = AsciiIntegerField(min_value=1, max_value=5000, default=500)
    offset = AsciiIntegerField(min_value=0, max_value=1_000_000, default=0)


class SystemParams(PageParams):
    region_id = AsciiIntegerField(min_value=1, max_value=MAX_ID, required=False)
    security = serializers.ChoiceField(choices=["high", "low", "null"], required=False)
    q = serializers.CharField(max_length=100, required=False, help_text="Part of a name.")


class StationParams(PageParams):
    region_id = AsciiIntegerField(min_value=1, max_value=MAX_ID, required=False)
    system_id = AsciiIntegerField(min_value=1, max_value=MAX_ID, required=False)
    q = serializers.CharField(max_length=100, required=False, help_text="Part of a name.")


# --- Responses -----------------------------------------------------------------------------


class Ref(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField(allow_null=True)


class PlaceOut(serializers.Serializer):
    """A place, as every API answers it (`sde.places.place_json`; docs/places.md)."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(
        choices=["region", "system", "station", "structure", "solar_system", "other"],
        help_text=(
            "region, system (a solar system), station (an NPC station), structure (an Upwell "
            'structure: "Structure <id>" until a member shares its market or a character\'s '
            'refresh has learned its name), other (an id no known range holds: "Location '
            '<id>"). The characters API says solar_system for something in space in that '
            'system ("<name> (in space)").'
        ),
    )
    name = serializers.CharField()
    region_id = serializers.IntegerField(
        allow_null=True, help_text="Null for a structure nobody has placed."
    )
    region_name = serializers.CharField(allow_null=True)
    system_id = serializers.IntegerField(
        allow_null=True, help_text="Null for a region and a structure nobody has placed."
    )
    system_name = serializers.CharField(allow_null=True)
    security = serializers.FloatField(
        allow_null=True,
        help_text="The security status the game shows for its solar system (one decimal).",
    )
    docking_note = serializers.CharField(
        allow_null=True,
        help_text="For a structure: its owner may restrict who docks there. Null otherwise.",
    )


class TypeRef(serializers.Serializer):
    type_id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)


class SearchHitOut(serializers.Serializer):
    type_id = serializers.IntegerField()
    name = serializers.CharField()
    match = serializers.ChoiceField(
        choices=["exact", "prefix", "word_prefix", "substring", "fuzzy"]
    )
    image_url = serializers.URLField()


class SearchOut(serializers.Serializer):
    query = serializers.CharField()
    count = serializers.IntegerField()
    results = SearchHitOut(many=True)


class PackagedVolumeSourceOut(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["invVolumes", "group", "group_table", "assembled"],
        help_text=(
            "invVolumes: the type's own invVolumes row; group: no row, so its group's most "
            "common invVolumes volume (filled in by the SDE loader); group_table: no row in "
            "the group either, so the game's per-group table; assembled: no packaged figure, "
            "the assembled volume (invTypes)"
        ),
    )
    group = Ref(allow_null=True, help_text="the group whose packaged volume it takes")
    summary = serializers.CharField(help_text="the same, in words")
    basis = serializers.CharField(allow_blank=True, help_text="what a group's figure rests on")


class ItemOut(serializers.Serializer):
    type_id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_blank=True)
    group = Ref(allow_null=True)
    category = Ref(allow_null=True)
    market_group_path = Ref(many=True)
    volume = serializers.FloatField(allow_null=True, help_text="m³, assembled")
    packaged_volume = serializers.FloatField(allow_null=True, help_text="m³, as hauled")
    packaged_volume_source = PackagedVolumeSourceOut()
    portion_size = serializers.IntegerField(allow_null=True)
    mass = serializers.FloatField(allow_null=True)
    base_price = serializers.FloatField(allow_null=True)
    published = serializers.BooleanField()
    on_market = serializers.BooleanField()
    meta_group = Ref(allow_null=True)
    variation_of = TypeRef(allow_null=True)
    image_url = serializers.URLField()


class RegionOut(serializers.Serializer):
    region_id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    kind = serializers.ChoiceField(choices=["k-space", "wormhole", "abyssal", "other"])
    faction_id = serializers.IntegerField(allow_null=True)
    system_count = serializers.IntegerField()
    station_count = serializers.IntegerField()


class RegionListOut(serializers.Serializer):
    count = serializers.IntegerField()
    results = RegionOut(many=True)


class SystemOut(serializers.Serializer):
    solar_system_id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    security = serializers.FloatField(allow_null=True, help_text="as the game shows it")
    security_band = serializers.ChoiceField(choices=["high", "low", "null", "unknown"])
    region_id = serializers.IntegerField(allow_null=True)
    constellation_id = serializers.IntegerField(allow_null=True)


class SecurityBandsOut(serializers.Serializer):
    high = serializers.IntegerField()
    low = serializers.IntegerField()
    null = serializers.IntegerField()
    unknown = serializers.IntegerField()


class RegionDetailOut(serializers.Serializer):
    region_id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    kind = serializers.CharField()
    faction = Ref(allow_null=True)
    constellation_count = serializers.IntegerField()
    system_count = serializers.IntegerField()
    station_count = serializers.IntegerField()
    security_bands = SecurityBandsOut()
    systems = SystemOut(many=True)


class SystemListOut(serializers.Serializer):
    count = serializers.IntegerField()
    results = SystemOut(many=True)


class StationOut(serializers.Serializer):
    station_id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    security = serializers.FloatField(allow_null=True)
    security_band = serializers.CharField()
    solar_system = Ref()
    region = Ref()
    corporation = Ref()


class StationListOut(serializers.Serializer):
    count = serializers.IntegerField()
    results = StationOut(many=True)


class SystemDetailOut(serializers.Serializer):
    solar_system_id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    security = serializers.FloatField(allow_null=True)
    true_security = serializers.FloatField(allow_null=True)
    security_band = serializers.CharField()
    region = Ref()
    constellation = Ref()
    stargates_to = SystemOut(many=True)
    stations = StationOut(many=True)


class MarketGroupOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    has_types = serializers.BooleanField()
    children = serializers.ListField(child=serializers.DictField(), help_text="same shape")


class MarketGroupTreeOut(serializers.Serializer):
    results = MarketGroupOut(many=True)
