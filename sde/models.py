"""The Static Data Export (SDE), mapped as unmanaged models on Fuzzwork's table layout.

These tables live in the separate, read-only `sde` database (see sde/router.py) and are
installed as a whole by `manage.py sde_install`; Django never creates, migrates or writes them.
Table and column names are exactly Fuzzwork's, so a downloaded `sqlite-latest.sqlite` works
as it is. Foreign keys carry no database constraint and are nullable: the SDE has a few
dangling references (types in removed market groups, industry rows for removed types).
"""

from django.db import models

# Every foreign key below is `on_delete=DO_NOTHING, db_constraint=False`: the app never writes
# the SDE, and the SDE has a few dangling references. Most are nullable too; the ones inside a
# composite primary key cannot be, so never follow those with select_related (an inner join
# would drop the dangling rows).


class ActivityId(models.IntegerChoices):
    """industryActivity.activityID values as used by the SDE."""

    MANUFACTURING = 1, "Manufacturing"
    RESEARCH_TIME = 3, "Time efficiency research"
    RESEARCH_MATERIAL = 4, "Material efficiency research"
    COPYING = 5, "Copying"
    INVENTION = 8, "Invention"
    REACTION = 11, "Reaction"


class InvCategory(models.Model):
    category_id = models.IntegerField(primary_key=True, db_column="categoryID")
    category_name = models.TextField(db_column="categoryName", null=True)
    icon_id = models.IntegerField(db_column="iconID", null=True)
    published = models.BooleanField(db_column="published", null=True)

    class Meta:
        managed = False
        db_table = "invCategories"
        ordering = ["category_name"]
        verbose_name = "category"
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.category_name or f"Category {self.category_id}"


class InvGroup(models.Model):
    group_id = models.IntegerField(primary_key=True, db_column="groupID")
    category = models.ForeignKey(
        InvCategory,
        db_column="categoryID",
        related_name="groups",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    group_name = models.TextField(db_column="groupName", null=True)
    icon_id = models.IntegerField(db_column="iconID", null=True)
    use_base_price = models.BooleanField(db_column="useBasePrice", null=True)
    anchored = models.BooleanField(db_column="anchored", null=True)
    anchorable = models.BooleanField(db_column="anchorable", null=True)
    fittable_non_singleton = models.BooleanField(db_column="fittableNonSingleton", null=True)
    published = models.BooleanField(db_column="published", null=True)

    class Meta:
        managed = False
        db_table = "invGroups"
        ordering = ["group_name"]
        verbose_name = "group"

    def __str__(self) -> str:
        return self.group_name or f"Group {self.group_id}"


class InvMarketGroup(models.Model):
    market_group_id = models.IntegerField(primary_key=True, db_column="marketGroupID")
    parent_group = models.ForeignKey(
        "self",
        db_column="parentGroupID",
        related_name="children",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    market_group_name = models.TextField(db_column="marketGroupName", null=True)
    description = models.TextField(db_column="description", null=True)
    icon_id = models.IntegerField(db_column="iconID", null=True)
    has_types = models.BooleanField(db_column="hasTypes", null=True)

    class Meta:
        managed = False
        db_table = "invMarketGroups"
        ordering = ["market_group_name"]
        verbose_name = "market group"

    def __str__(self) -> str:
        return self.market_group_name or f"Market group {self.market_group_id}"


class InvMetaGroup(models.Model):
    meta_group_id = models.IntegerField(primary_key=True, db_column="metaGroupID")
    meta_group_name = models.TextField(db_column="metaGroupName", null=True)
    description = models.TextField(db_column="description", null=True)
    icon_id = models.IntegerField(db_column="iconID", null=True)

    class Meta:
        managed = False
        db_table = "invMetaGroups"
        ordering = ["meta_group_id"]
        verbose_name = "meta group"

    def __str__(self) -> str:
        return self.meta_group_name or f"Meta group {self.meta_group_id}"


class InvType(models.Model):
    type_id = models.IntegerField(primary_key=True, db_column="typeID")
    group = models.ForeignKey(
        InvGroup,
        db_column="groupID",
        related_name="types",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    type_name = models.TextField(db_column="typeName", null=True)
    description = models.TextField(db_column="description", null=True)
    mass = models.FloatField(db_column="mass", null=True)
    volume = models.FloatField(db_column="volume", null=True)
    capacity = models.FloatField(db_column="capacity", null=True)
    portion_size = models.IntegerField(db_column="portionSize", null=True)
    race_id = models.IntegerField(db_column="raceID", null=True)
    base_price = models.FloatField(db_column="basePrice", null=True)
    published = models.BooleanField(db_column="published", null=True)
    market_group = models.ForeignKey(
        InvMarketGroup,
        db_column="marketGroupID",
        related_name="types",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    icon_id = models.IntegerField(db_column="iconID", null=True)
    sound_id = models.IntegerField(db_column="soundID", null=True)
    graphic_id = models.IntegerField(db_column="graphicID", null=True)

    class Meta:
        managed = False
        db_table = "invTypes"
        ordering = ["type_name"]
        verbose_name = "type"

    def __str__(self) -> str:
        return self.type_name or f"Type {self.type_id}"


class InvMetaType(models.Model):
    type = models.OneToOneField(
        InvType,
        primary_key=True,
        db_column="typeID",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="meta",
    )
    parent_type = models.ForeignKey(
        InvType,
        db_column="parentTypeID",
        related_name="variations",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    meta_group = models.ForeignKey(
        InvMetaGroup,
        db_column="metaGroupID",
        related_name="meta_types",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )

    class Meta:
        managed = False
        db_table = "invMetaTypes"
        verbose_name = "meta type"

    def __str__(self) -> str:
        return f"Meta type of {self.type_id}"


class InvVolume(models.Model):
    """Packaged volume for the types whose packaged volume differs (ships, containers)."""

    type = models.OneToOneField(
        InvType,
        primary_key=True,
        db_column="typeID",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="packaged",
    )
    volume = models.FloatField(db_column="volume", null=True)

    class Meta:
        managed = False
        db_table = "invVolumes"
        verbose_name = "packaged volume"

    def __str__(self) -> str:
        return f"Packaged volume of {self.type_id}"


class ChrFaction(models.Model):
    faction_id = models.IntegerField(primary_key=True, db_column="factionID")
    faction_name = models.TextField(db_column="factionName", null=True)
    description = models.TextField(db_column="description", null=True)
    race_ids = models.IntegerField(db_column="raceIDs", null=True)
    solar_system = models.ForeignKey(
        "MapSolarSystem",
        db_column="solarSystemID",
        related_name="+",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    corporation = models.ForeignKey(
        "CrpNPCCorporation",
        db_column="corporationID",
        related_name="+",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    size_factor = models.FloatField(db_column="sizeFactor", null=True)
    station_count = models.IntegerField(db_column="stationCount", null=True)
    station_system_count = models.IntegerField(db_column="stationSystemCount", null=True)
    militia_corporation_id = models.IntegerField(db_column="militiaCorporationID", null=True)
    icon_id = models.IntegerField(db_column="iconID", null=True)

    class Meta:
        managed = False
        db_table = "chrFactions"
        ordering = ["faction_name"]
        verbose_name = "faction"

    def __str__(self) -> str:
        return self.faction_name or f"Faction {self.faction_id}"


class CrpNPCCorporation(models.Model):
    corporation_id = models.IntegerField(primary_key=True, db_column="corporationID")
    corporation_name = models.TextField(db_column="corporationName", null=True)
    size = models.TextField(db_column="size", null=True)
    extent = models.TextField(db_column="extent", null=True)
    solar_system = models.ForeignKey(
        "MapSolarSystem",
        db_column="solarSystemID",
        related_name="+",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    friend_id = models.IntegerField(db_column="friendID", null=True)
    enemy_id = models.IntegerField(db_column="enemyID", null=True)
    public_shares = models.IntegerField(db_column="publicShares", null=True)
    initial_price = models.IntegerField(db_column="initialPrice", null=True)
    min_security = models.FloatField(db_column="minSecurity", null=True)
    scattered = models.BooleanField(db_column="scattered", null=True)
    fringe = models.IntegerField(db_column="fringe", null=True)
    corridor = models.IntegerField(db_column="corridor", null=True)
    hub = models.IntegerField(db_column="hub", null=True)
    border = models.IntegerField(db_column="border", null=True)
    faction = models.ForeignKey(
        ChrFaction,
        db_column="factionID",
        related_name="corporations",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    size_factor = models.FloatField(db_column="sizeFactor", null=True)
    station_count = models.IntegerField(db_column="stationCount", null=True)
    station_system_count = models.IntegerField(db_column="stationSystemCount", null=True)
    description = models.TextField(db_column="description", null=True)
    icon_id = models.IntegerField(db_column="iconID", null=True)

    class Meta:
        managed = False
        db_table = "crpNPCCorporations"
        ordering = ["corporation_name"]
        verbose_name = "NPC corporation"

    def __str__(self) -> str:
        return self.corporation_name or f"Corporation {self.corporation_id}"


class MapRegion(models.Model):
    region_id = models.IntegerField(primary_key=True, db_column="regionID")
    region_name = models.TextField(db_column="regionName", null=True)
    x = models.FloatField(db_column="x", null=True)
    y = models.FloatField(db_column="y", null=True)
    z = models.FloatField(db_column="z", null=True)
    faction = models.ForeignKey(
        ChrFaction,
        db_column="factionID",
        related_name="+",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    nebula = models.IntegerField(db_column="nebula", null=True)

    class Meta:
        managed = False
        db_table = "mapRegions"
        ordering = ["region_name"]
        verbose_name = "region"

    def __str__(self) -> str:
        return self.region_name or f"Region {self.region_id}"


class MapConstellation(models.Model):
    region = models.ForeignKey(
        MapRegion,
        db_column="regionID",
        related_name="constellations",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    constellation_id = models.IntegerField(primary_key=True, db_column="constellationID")
    constellation_name = models.TextField(db_column="constellationName", null=True)
    x = models.FloatField(db_column="x", null=True)
    y = models.FloatField(db_column="y", null=True)
    z = models.FloatField(db_column="z", null=True)
    faction = models.ForeignKey(
        ChrFaction,
        db_column="factionID",
        related_name="+",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )

    class Meta:
        managed = False
        db_table = "mapConstellations"
        ordering = ["constellation_name"]
        verbose_name = "constellation"

    def __str__(self) -> str:
        return self.constellation_name or f"Constellation {self.constellation_id}"


class MapSolarSystem(models.Model):
    region = models.ForeignKey(
        MapRegion,
        db_column="regionID",
        related_name="systems",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    constellation = models.ForeignKey(
        MapConstellation,
        db_column="constellationID",
        related_name="systems",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    solar_system_id = models.IntegerField(primary_key=True, db_column="solarSystemID")
    solar_system_name = models.TextField(db_column="solarSystemName", null=True)
    x = models.FloatField(db_column="x", null=True)
    y = models.FloatField(db_column="y", null=True)
    z = models.FloatField(db_column="z", null=True)
    luminosity = models.FloatField(db_column="luminosity", null=True)
    border = models.BooleanField(db_column="border", null=True)
    fringe = models.BooleanField(db_column="fringe", null=True)
    corridor = models.BooleanField(db_column="corridor", null=True)
    hub = models.BooleanField(db_column="hub", null=True)
    international = models.BooleanField(db_column="international", null=True)
    regional = models.BooleanField(db_column="regional", null=True)
    security = models.FloatField(db_column="security", null=True)
    faction = models.ForeignKey(
        ChrFaction,
        db_column="factionID",
        related_name="+",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    star_id = models.IntegerField(db_column="starID", null=True)
    security_class = models.TextField(db_column="securityClass", null=True)

    class Meta:
        managed = False
        db_table = "mapSolarSystems"
        ordering = ["solar_system_name"]
        verbose_name = "solar system"

    def __str__(self) -> str:
        return self.solar_system_name or f"System {self.solar_system_id}"


class MapSolarSystemJump(models.Model):
    """One stargate connection, stored in both directions."""

    pk = models.CompositePrimaryKey("from_solar_system", "to_solar_system")
    from_region = models.ForeignKey(
        MapRegion,
        db_column="fromRegionID",
        related_name="+",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    from_constellation = models.ForeignKey(
        MapConstellation,
        db_column="fromConstellationID",
        related_name="+",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    from_solar_system = models.ForeignKey(
        MapSolarSystem,
        db_column="fromSolarSystemID",
        related_name="jumps_out",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
    )
    to_solar_system = models.ForeignKey(
        MapSolarSystem,
        db_column="toSolarSystemID",
        related_name="jumps_in",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
    )
    to_constellation = models.ForeignKey(
        MapConstellation,
        db_column="toConstellationID",
        related_name="+",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    to_region = models.ForeignKey(
        MapRegion,
        db_column="toRegionID",
        related_name="+",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )

    class Meta:
        managed = False
        db_table = "mapSolarSystemJumps"
        verbose_name = "stargate jump"

    def __str__(self) -> str:
        return f"{self.from_solar_system_id} -> {self.to_solar_system_id}"


class StaStation(models.Model):
    station_id = models.BigIntegerField(primary_key=True, db_column="stationID")
    security = models.FloatField(db_column="security", null=True)
    docking_cost_per_volume = models.FloatField(db_column="dockingCostPerVolume", null=True)
    max_ship_volume_dockable = models.FloatField(db_column="maxShipVolumeDockable", null=True)
    office_rental_cost = models.IntegerField(db_column="officeRentalCost", null=True)
    operation_id = models.IntegerField(db_column="operationID", null=True)
    station_type = models.ForeignKey(
        InvType,
        db_column="stationTypeID",
        related_name="+",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    corporation = models.ForeignKey(
        CrpNPCCorporation,
        db_column="corporationID",
        related_name="stations",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    solar_system = models.ForeignKey(
        MapSolarSystem,
        db_column="solarSystemID",
        related_name="stations",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    constellation = models.ForeignKey(
        MapConstellation,
        db_column="constellationID",
        related_name="stations",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    region = models.ForeignKey(
        MapRegion,
        db_column="regionID",
        related_name="stations",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
    )
    station_name = models.TextField(db_column="stationName", null=True)
    x = models.FloatField(db_column="x", null=True)
    y = models.FloatField(db_column="y", null=True)
    z = models.FloatField(db_column="z", null=True)
    reprocessing_efficiency = models.FloatField(db_column="reprocessingEfficiency", null=True)
    reprocessing_stations_take = models.FloatField(db_column="reprocessingStationsTake", null=True)
    reprocessing_hangar_flag = models.IntegerField(db_column="reprocessingHangarFlag", null=True)

    class Meta:
        managed = False
        db_table = "staStations"
        ordering = ["station_name"]
        verbose_name = "station"

    def __str__(self) -> str:
        return self.station_name or f"Station {self.station_id}"


class IndustryBlueprint(models.Model):
    type = models.OneToOneField(
        InvType,
        primary_key=True,
        db_column="typeID",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="blueprint",
    )
    max_production_limit = models.IntegerField(db_column="maxProductionLimit", null=True)

    class Meta:
        managed = False
        db_table = "industryBlueprints"
        verbose_name = "blueprint"

    def __str__(self) -> str:
        return f"Blueprint {self.type_id}"


class IndustryActivity(models.Model):
    """How long one activity (manufacturing, research, ...) takes on a blueprint."""

    pk = models.CompositePrimaryKey("blueprint_type", "activity_id")
    blueprint_type = models.ForeignKey(
        InvType,
        db_column="typeID",
        related_name="industry_activities",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
    )
    activity_id = models.IntegerField(db_column="activityID", choices=ActivityId.choices)
    time = models.IntegerField(db_column="time", null=True)

    class Meta:
        managed = False
        db_table = "industryActivity"
        verbose_name = "industry activity"
        verbose_name_plural = "industry activities"

    def __str__(self) -> str:
        return f"{self.get_activity_id_display()} of {self.blueprint_type_id}"


class IndustryActivityMaterial(models.Model):
    """One input material of a blueprint activity."""

    pk = models.CompositePrimaryKey("blueprint_type", "activity_id", "material_type")
    blueprint_type = models.ForeignKey(
        InvType,
        db_column="typeID",
        related_name="industry_materials",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
    )
    activity_id = models.IntegerField(db_column="activityID", choices=ActivityId.choices)
    material_type = models.ForeignKey(
        InvType,
        db_column="materialTypeID",
        related_name="used_in",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
    )
    quantity = models.IntegerField(db_column="quantity", null=True)

    class Meta:
        managed = False
        db_table = "industryActivityMaterials"
        verbose_name = "industry material"

    def __str__(self) -> str:
        return f"{self.quantity} x {self.material_type_id} for {self.blueprint_type_id}"


class IndustryActivityProduct(models.Model):
    """What a blueprint activity produces (manufacturing, invention, reaction)."""

    pk = models.CompositePrimaryKey("blueprint_type", "activity_id", "product_type")
    blueprint_type = models.ForeignKey(
        InvType,
        db_column="typeID",
        related_name="industry_products",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
    )
    activity_id = models.IntegerField(db_column="activityID", choices=ActivityId.choices)
    product_type = models.ForeignKey(
        InvType,
        db_column="productTypeID",
        related_name="made_by",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
    )
    quantity = models.IntegerField(db_column="quantity", null=True)

    class Meta:
        managed = False
        db_table = "industryActivityProducts"
        verbose_name = "industry product"

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_type_id} from {self.blueprint_type_id}"
