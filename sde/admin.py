"""The Django admin for inspecting the SDE: every table browsable, nothing editable.

Every SDE model is registered read-only (no add, change or delete, no bulk actions) and reads
the `sde` database through the router. List pages never count a big table in full: they use
`LookaheadPaginator`, which counts only a few pages past the one shown.

Django's admin refuses models with a `CompositePrimaryKey`, so the stargate and industry
tables (`mapSolarSystemJumps`, `industryActivity*`) are not registered: they are shown on their
parents' pages instead (a solar system's stargates, a type's or blueprint's industry).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import PAGE_VAR, ChangeList
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db import models
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from sde import selectors
from sde.display import duration
from sde.ids import is_ascii_number, parse_ascii_id
from sde.models import (
    ActivityId,
    ChrFaction,
    CrpNPCCorporation,
    IndustryActivity,
    IndustryActivityMaterial,
    IndustryActivityProduct,
    IndustryBlueprint,
    InvCategory,
    InvGroup,
    InvMarketGroup,
    InvMetaGroup,
    InvMetaType,
    InvType,
    InvVolume,
    MapConstellation,
    MapRegion,
    MapSolarSystem,
    StaStation,
)

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices

admin.site.site_header = "EVE market profit calculator admin"
admin.site.site_title = "EVE market profit calculator admin"
admin.site.index_title = "Administration"

T = TypeVar("T")
EMPTY = "-"  # the admin's own empty_value_display

# Security bands as `selectors.security_band` draws them from the status the game shows (true
# security rounded to one decimal, any positive value at least 0.1): high-sec shows 0.5 or
# more, low-sec 0.1-0.4 (every positive system below that), null-sec 0.0 or below.
HIGH_SEC_FROM = 0.45

# How many pages past the current one a list page counts.
LOOKAHEAD_PAGES = 10


# --- Pagination without COUNT(*) -----------------------------------------------------------


class LookaheadPaginator(Paginator):
    """Counts rows only up to a few pages past the current one, never a whole big table.

    `count` is exact when the listing ends within that window. Otherwise it is the window's
    size and `is_partial` is true; moving to a later page moves the window on.
    """

    def __init__(
        self,
        object_list: QuerySet[Any],
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
        *,
        page_number: int = 1,
    ) -> None:
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self.queryset = object_list
        self.count_limit = (max(page_number, 1) + LOOKAHEAD_PAGES) * int(per_page)

    @cached_property
    def counted(self) -> int:
        """Rows found, stopping one past the window (ordering is dropped: it can't matter)."""
        return self.queryset.order_by()[: self.count_limit + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self.counted, self.count_limit)

    @property
    def is_partial(self) -> bool:
        return self.counted > self.count_limit


def _page_number(request: HttpRequest) -> int:
    try:
        return parse_ascii_id(str(request.GET.get(PAGE_VAR, 1)))
    except ValueError:
        return 1


# --- Links and formatting ------------------------------------------------------------------


def admin_url(model: type[models.Model], pk: Any) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[quote(pk)])


def admin_link(model: type[models.Model], pk: Any, text: Any) -> SafeString:
    return format_html('<a href="{}">{}</a>', admin_url(model, pk), text)


def changelist_link(model: type[models.Model], params: dict[str, Any], text: str) -> SafeString:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(params), text)


def missing(pk: Any) -> SafeString:
    return format_html("{} (not in the SDE)", pk)


def related(obj: models.Model | None, field_name: str) -> Any:
    """The object a foreign key points to, or None (no value, or a dangling reference)."""
    if obj is None:
        return None
    try:
        return getattr(obj, field_name)
    except ObjectDoesNotExist:
        return None


def related_link(obj: models.Model | None, field_name: str) -> str:
    """A link to the admin page of what `obj.<field_name>` points to."""
    if obj is None:
        return EMPTY
    field = obj._meta.get_field(field_name)
    pk = getattr(obj, field.attname)  # type: ignore[union-attr]
    if pk is None:
        return EMPTY
    target = related(obj, field_name)
    if target is None:
        return missing(pk)
    return admin_link(type(target), pk, target)


def related_column(field_name: str, ordering: str) -> Callable[[Any, models.Model], str]:
    """A list column (an admin method) linking to a foreign key's admin page."""

    @admin.display(description=field_name.replace("_", " "), ordering=ordering)
    def column(model_admin: Any, obj: models.Model) -> str:
        return related_link(obj, field_name)

    return column


def number(value: float | int | None, unit: str = "") -> str:
    """1234.5 -> "1,234.5", 10000.0 -> "10,000" (exact, no rounding)."""
    if value is None:
        return EMPTY
    text = f"{value:,}".removesuffix(".0")
    return f"{text} {unit}".strip()


def bullet_list(items: Iterable[SafeString | str], empty: str = EMPTY) -> str:
    rows = list(items)
    if not rows:
        return empty
    return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((row,) for row in rows)))


def security_text(security: float | None) -> str:
    if security is None:
        return EMPTY
    return f"{selectors.display_security(security)} ({selectors.security_band(security)}-sec)"


def memo(obj: models.Model, key: str, load: Callable[[], T]) -> T:
    """`load()` computed once per instance: a change page reads several fields from it."""
    cache: dict[str, Any] = obj.__dict__.setdefault("_admin_memo", {})
    if key not in cache:
        cache[key] = load()
    return cache[key]


def with_type_name(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Adds `type_name` for models keyed by a type, without an inner join dropping rows."""
    name = InvType.objects.filter(type_id=OuterRef("type_id")).values("type_name")[:1]
    return queryset.annotate(type_name=Subquery(name))


def type_link(type_id: int | None, name: str | None) -> str:
    if type_id is None:
        return EMPTY
    return admin_link(InvType, type_id, name) if name else missing(type_id)


# --- The read-only base --------------------------------------------------------------------


class SdeAdmin(admin.ModelAdmin):
    """Browse only: views for superusers (and staff with view permission), no writes."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts would count whole tables
    list_per_page = 100
    search_help_text = "Search by name, or by exact id."

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> Paginator:
        return LookaheadPaginator(
            queryset, per_page, orphans, allow_empty_first_page, page_number=_page_number(request)
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        if isinstance(response, TemplateResponse) and response.context_data:
            cl = response.context_data.get("cl")
            if isinstance(cl, ChangeList) and getattr(cl.paginator, "is_partial", False):
                response.context_data["subtitle"] = (
                    f"More than {cl.result_count:,} {cl.opts.verbose_name_plural}: big lists "
                    "are counted only a few pages ahead. Page on, or narrow the search."
                )
        return response


# --- List filters --------------------------------------------------------------------------


class CategoryFilter(admin.SimpleListFilter):
    title = "category"
    parameter_name = "category"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        rows = InvCategory.objects.values_list("category_id", "category_name")
        return [
            (str(cid), name or f"Category {cid}") for cid, name in rows.order_by("category_name")
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(group__category_id=_filter_id(value)) if value else queryset

    def choices(self, changelist: ChangeList) -> Iterator[_ListFilterChoices]:
        # Like the default, but picking a category also clears the group picked in another.
        clear = [self.parameter_name, GroupFilter.parameter_name]
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=clear),
            "display": "All",
        }
        for value, title in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: value}, [GroupFilter.parameter_name]
                ),
                "display": title,
            }


class GroupFilter(admin.SimpleListFilter):
    """Groups of the chosen category only: all 1,600 groups would make an unusable list."""

    title = "group (choose a category first)"
    parameter_name = "group"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        category = request.GET.get(CategoryFilter.parameter_name, "")
        if not is_ascii_number(category):
            return []
        rows = InvGroup.objects.filter(category_id=int(category)).values_list(
            "group_id", "group_name"
        )
        return [(str(gid), name or f"Group {gid}") for gid, name in rows.order_by("group_name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(group_id=_filter_id(value)) if value else queryset


def _filter_id(value: str) -> int:
    """A filter's id in ASCII digits, else the admin's "invalid lookup" (a redirect to ?e=1)."""
    try:
        return parse_ascii_id(value)
    except ValueError as exc:
        raise IncorrectLookupParameters(str(exc)) from exc


def market_group_subtree(market_group_id: int) -> list[int]:
    """A market group's id and the ids of every group below it."""
    pending = list(selectors.market_group_tree())
    while pending:
        node = pending.pop()
        if node["id"] == market_group_id:
            ids: list[int] = []
            below = [node]
            while below:
                current = below.pop()
                ids.append(current["id"])
                below.extend(current["children"])
            return ids
        pending.extend(node["children"])
    return [market_group_id]


class MarketGroupFilter(admin.SimpleListFilter):
    """On the market or not, or under one top-level market group (any group id works)."""

    title = "market group"
    parameter_name = "market"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        roots = [(str(node["id"]), node["name"]) for node in selectors.market_group_tree()]
        return [("any", "Has a market group"), ("none", "No market group"), *roots]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        if value == "any":
            return queryset.filter(market_group_id__isnull=False)
        if value == "none":
            return queryset.filter(market_group_id__isnull=True)
        return queryset.filter(market_group_id__in=market_group_subtree(_filter_id(value)))


class SecurityBandFilter(admin.SimpleListFilter):
    """High-, low- or null-sec, with the thresholds of `selectors.security_band`."""

    title = "security band"
    parameter_name = "band"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("high", "High-sec (0.5 to 1.0)"),
            ("low", "Low-sec (0.1 to 0.4)"),
            ("null", "Null-sec (0.0 and below)"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "high":
            return queryset.filter(security__gte=HIGH_SEC_FROM)
        if value == "low":
            return queryset.filter(security__gt=0, security__lt=HIGH_SEC_FROM)
        if value == "null":
            return queryset.filter(security__lte=0)
        return queryset


# --- Items ---------------------------------------------------------------------------------


@admin.register(InvCategory)
class InvCategoryAdmin(SdeAdmin):
    list_display = ["category_id", "category_name", "published"]
    list_display_links = ["category_id", "category_name"]
    list_filter = ["published"]
    search_fields = ["category_name", "=category_id"]
    readonly_fields = ["browse"]

    @admin.display(description="browse")
    def browse(self, obj: InvCategory) -> str:
        return bullet_list(
            [
                changelist_link(InvGroup, {"category__category_id__exact": obj.pk}, "Its groups"),
                changelist_link(InvType, {"category": obj.pk}, "Its types"),
            ]
        )


@admin.register(InvGroup)
class InvGroupAdmin(SdeAdmin):
    list_display = ["group_id", "group_name", "category_link", "published"]
    list_display_links = ["group_id", "group_name"]
    list_select_related = ["category"]
    list_filter = ["category", "published"]
    search_fields = ["group_name", "=group_id"]
    readonly_fields = ["browse"]

    category_link = related_column("category", "category__category_name")

    @admin.display(description="browse")
    def browse(self, obj: InvGroup) -> str:
        params: dict[str, Any] = {"group": obj.pk}
        if obj.category_id is not None:  # so the group filter shows, with this group chosen
            params["category"] = obj.category_id
        return changelist_link(InvType, params, "Its types")


@admin.register(InvMarketGroup)
class InvMarketGroupAdmin(SdeAdmin):
    list_display = ["market_group_id", "market_group_name", "parent_link", "has_types"]
    list_display_links = ["market_group_id", "market_group_name"]
    list_select_related = ["parent_group"]
    list_filter = ["has_types"]
    search_fields = ["market_group_name", "=market_group_id"]
    readonly_fields = ["path", "children", "browse"]

    parent_link = related_column("parent_group", "parent_group__market_group_name")

    @admin.display(description="path")
    def path(self, obj: InvMarketGroup) -> str:
        return market_path(obj.pk)

    @admin.display(description="groups below")
    def children(self, obj: InvMarketGroup) -> str:
        rows = InvMarketGroup.objects.filter(parent_group_id=obj.pk).values_list(
            "market_group_id", "market_group_name"
        )
        return bullet_list(admin_link(InvMarketGroup, gid, name) for gid, name in rows)

    @admin.display(description="browse")
    def browse(self, obj: InvMarketGroup) -> str:
        return changelist_link(InvType, {"market": obj.pk}, "Types in it and below it")


def market_path(market_group_id: int | None) -> str:
    """The root-first market-group breadcrumb, each step linked."""
    path = selectors.market_group_path(market_group_id)
    if not path:
        return EMPTY if market_group_id is None else missing(market_group_id)
    steps = ((admin_link(InvMarketGroup, step["id"], step["name"]),) for step in path)
    return format_html_join(" \u203a ", "{}", steps)


@admin.register(InvMetaGroup)
class InvMetaGroupAdmin(SdeAdmin):
    list_display = ["meta_group_id", "meta_group_name", "description"]
    list_display_links = ["meta_group_id", "meta_group_name"]
    search_fields = ["meta_group_name", "=meta_group_id"]


@admin.register(InvType)
class InvTypeAdmin(SdeAdmin):
    list_display = [
        "type_id",
        "type_name",
        "group_link",
        "category_link",
        "market_group_link",
        "published",
        "volume_display",
    ]
    list_display_links = ["type_id", "type_name"]
    list_select_related = ["group__category", "market_group"]
    list_filter = [CategoryFilter, GroupFilter, MarketGroupFilter, "published"]
    search_fields = ["type_name", "=type_id"]
    fieldsets = [
        (None, {"fields": ["type_id", "type_name", "group", "category_link", "published"]}),
        ("Market", {"fields": ["market_group_path", "base_price"]}),
        (
            "Size",
            {"fields": ["volume_display", "packaged_volume", "mass", "capacity", "portion_size"]},
        ),
        ("Meta", {"fields": ["meta_group", "variation_of"]}),
        ("Industry", {"fields": ["made_by", "used_in", "blueprint_page"]}),
        ("Description", {"fields": ["description"]}),
        ("Other ids", {"fields": ["race_id", "icon_id", "graphic_id", "sound_id"]}),
    ]
    readonly_fields = [
        "category_link",
        "market_group_path",
        "volume_display",
        "packaged_volume",
        "meta_group",
        "variation_of",
        "made_by",
        "used_in",
        "blueprint_page",
    ]

    group_link = related_column("group", "group__group_name")
    market_group_link = related_column("market_group", "market_group__market_group_name")

    @admin.display(description="category", ordering="group__category__category_name")
    def category_link(self, obj: InvType) -> str:
        return related_link(related(obj, "group"), "category")

    @admin.display(description="market group")
    def market_group_path(self, obj: InvType) -> str:
        return market_path(obj.market_group_id)

    @admin.display(description="volume", ordering="volume")
    def volume_display(self, obj: InvType) -> str:
        return number(obj.volume, "m³")

    @admin.display(description="packaged volume")
    def packaged_volume(self, obj: InvType) -> str:
        detail = self._detail(obj)
        volume = number(detail["packaged_volume"], "m³")
        source = detail["packaged_volume_source"]
        if source["kind"] == "invVolumes":
            return volume
        return f"{volume} ({source['summary']})"

    @admin.display(description="meta group")
    def meta_group(self, obj: InvType) -> str:
        group = self._detail(obj)["meta_group"]
        return admin_link(InvMetaGroup, group["id"], group["name"]) if group else EMPTY

    @admin.display(description="variation of")
    def variation_of(self, obj: InvType) -> str:
        parent = self._detail(obj)["variation_of"]
        return type_link(parent["type_id"], parent["name"]) if parent else EMPTY

    @admin.display(description="made by")
    def made_by(self, obj: InvType) -> str:
        recipes = self._industry(obj)["made_by"]
        if not recipes:
            return "No blueprint or reaction formula makes it."
        return format_html_join("", "{}", ((render_recipe(recipe),) for recipe in recipes))

    @admin.display(description="used in")
    def used_in(self, obj: InvType) -> str:
        count = self._industry(obj)["used_in_blueprints"]
        if count == 1:
            return "An input of 1 blueprint or reaction formula."
        return f"An input of {count:,} blueprints or reaction formulas."

    @admin.display(description="its blueprint page")
    def blueprint_page(self, obj: InvType) -> str:
        if not IndustryBlueprint.objects.filter(type_id=obj.pk).exists():
            return "Not a blueprint."
        return admin_link(IndustryBlueprint, obj.pk, f"What {obj} makes")

    def _detail(self, obj: InvType) -> dict[str, Any]:
        return memo(obj, "detail", lambda: selectors.item_detail(obj.pk))

    def _industry(self, obj: InvType) -> dict[str, Any]:
        return memo(obj, "industry", lambda: selectors.item_industry(obj.pk))


def render_recipe(recipe: dict[str, Any]) -> SafeString:
    """One `item_industry` "made_by" entry: the blueprint, its output and its materials."""
    materials = bullet_list(
        format_html("{} &times; {}", number(m["quantity"]), type_link(m["type_id"], m["name"]))
        for m in recipe["materials"]
    )
    return format_html(
        "<div><p>{} by {}: {} per run, {} per run.</p>{}</div>",
        recipe["activity"],
        admin_link(
            IndustryBlueprint,
            recipe["blueprint_type_id"],
            recipe["blueprint_name"] or recipe["blueprint_type_id"],
        ),
        number(recipe["quantity"]),
        duration(recipe["time_seconds"]) or EMPTY,
        materials,
    )


class TypeKeyedAdmin(SdeAdmin):
    """For the tables keyed by a type: lists show the type's name without joining it."""

    ordering = ["type_id"]
    search_fields = ["type__type_name", "=type__type_id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return with_type_name(super().get_queryset(request))

    @admin.display(description="type", ordering="type_id")
    def type_link(self, obj: Any) -> str:
        return type_link(obj.type_id, obj.type_name)


@admin.register(InvMetaType)
class InvMetaTypeAdmin(TypeKeyedAdmin):
    list_display = ["type_id", "type_link", "parent_type_link", "meta_group_link"]
    list_select_related = ["parent_type", "meta_group"]
    list_filter = ["meta_group"]

    parent_type_link = related_column("parent_type", "parent_type__type_name")
    meta_group_link = related_column("meta_group", "meta_group__meta_group_name")


@admin.register(InvVolume)
class InvVolumeAdmin(TypeKeyedAdmin):
    list_display = ["type_id", "type_link", "volume"]


@admin.register(IndustryBlueprint)
class IndustryBlueprintAdmin(TypeKeyedAdmin):
    list_display = ["type_id", "type_link", "max_production_limit"]
    fields = ["type", "max_production_limit", "activities"]
    readonly_fields = ["activities"]

    @admin.display(description="activities")
    def activities(self, obj: IndustryBlueprint) -> str:
        return render_blueprint(obj.pk)


def render_blueprint(blueprint_type_id: int) -> str:
    """Each activity of a blueprint: its time, what it makes and from which materials."""
    times = dict(
        IndustryActivity.objects.filter(blueprint_type_id=blueprint_type_id).values_list(
            "activity_id", "time"
        )
    )
    products = list(
        IndustryActivityProduct.objects.filter(blueprint_type_id=blueprint_type_id).values_list(
            "activity_id", "product_type_id", "quantity"
        )
    )
    materials = sorted(
        IndustryActivityMaterial.objects.filter(blueprint_type_id=blueprint_type_id).values_list(
            "activity_id", "material_type_id", "quantity"
        ),
        key=lambda row: -(row[2] or 0),
    )
    type_ids = {row[1] for row in products} | {row[1] for row in materials}
    names = dict(InvType.objects.filter(type_id__in=type_ids).values_list("type_id", "type_name"))
    activity_ids = sorted(set(times) | {row[0] for row in products} | {row[0] for row in materials})
    if not activity_ids:
        return "No industry activities."

    def amounts(rows: list[tuple[int, int, int | None]], activity_id: int, label: str) -> str:
        items = [
            format_html("{} &times; {}", number(quantity), type_link(type_id, names.get(type_id)))
            for activity, type_id, quantity in rows
            if activity == activity_id
        ]
        return format_html("<p>{}</p>{}", label, bullet_list(items)) if items else ""

    return format_html_join(
        "",
        "<div><p><strong>{}</strong>, {} per run</p>{}{}</div>",
        (
            (
                activity_label(activity_id),
                duration(times.get(activity_id)) or EMPTY,
                amounts(products, activity_id, "Makes:"),
                amounts(materials, activity_id, "From:"),
            )
            for activity_id in activity_ids
        ),
    )


def activity_label(activity_id: int) -> str:
    try:
        return str(ActivityId(activity_id).label)
    except ValueError:
        return f"Activity {activity_id}"


# --- Factions and corporations -------------------------------------------------------------


@admin.register(ChrFaction)
class ChrFactionAdmin(SdeAdmin):
    list_display = ["faction_id", "faction_name", "corporation_link", "solar_system_link"]
    list_display_links = ["faction_id", "faction_name"]
    list_select_related = ["corporation", "solar_system"]
    search_fields = ["faction_name", "=faction_id"]

    corporation_link = related_column("corporation", "corporation__corporation_name")
    solar_system_link = related_column("solar_system", "solar_system__solar_system_name")


@admin.register(CrpNPCCorporation)
class CrpNPCCorporationAdmin(SdeAdmin):
    list_display = [
        "corporation_id",
        "corporation_name",
        "faction_link",
        "solar_system_link",
        "station_count",
    ]
    list_display_links = ["corporation_id", "corporation_name"]
    list_select_related = ["faction", "solar_system"]
    list_filter = ["faction"]
    search_fields = ["corporation_name", "=corporation_id"]

    faction_link = related_column("faction", "faction__faction_name")
    solar_system_link = related_column("solar_system", "solar_system__solar_system_name")


# --- Map -----------------------------------------------------------------------------------

REGION_PARAM = "region__region_id__exact"  # what the `region` list filters read


@admin.register(MapRegion)
class MapRegionAdmin(SdeAdmin):
    list_display = ["region_id", "region_name", "kind", "faction_link"]
    list_display_links = ["region_id", "region_name"]
    list_select_related = ["faction"]
    search_fields = ["region_name", "=region_id"]
    readonly_fields = ["kind", "browse"]

    faction_link = related_column("faction", "faction__faction_name")

    @admin.display(description="kind")
    def kind(self, obj: MapRegion) -> str:
        return selectors.region_kind(obj.pk)

    @admin.display(description="browse")
    def browse(self, obj: MapRegion) -> str:
        params = {REGION_PARAM: obj.pk}
        return bullet_list(
            [
                changelist_link(MapConstellation, params, "Its constellations"),
                changelist_link(MapSolarSystem, params, "Its solar systems"),
                changelist_link(StaStation, params, "Its stations"),
            ]
        )


@admin.register(MapConstellation)
class MapConstellationAdmin(SdeAdmin):
    list_display = ["constellation_id", "constellation_name", "region_link", "faction_link"]
    list_display_links = ["constellation_id", "constellation_name"]
    list_select_related = ["region", "faction"]
    list_filter = ["region"]
    search_fields = ["constellation_name", "=constellation_id"]

    region_link = related_column("region", "region__region_name")
    faction_link = related_column("faction", "faction__faction_name")


@admin.register(MapSolarSystem)
class MapSolarSystemAdmin(SdeAdmin):
    list_display = [
        "solar_system_id",
        "solar_system_name",
        "security_display",
        "constellation_link",
        "region_link",
    ]
    list_display_links = ["solar_system_id", "solar_system_name"]
    list_select_related = ["region", "constellation"]
    list_filter = [SecurityBandFilter, "region"]
    search_fields = ["solar_system_name", "=solar_system_id"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "solar_system_id",
                    "solar_system_name",
                    "security_display",
                    "security",
                    "security_class",
                    "constellation",
                    "region",
                    "faction",
                ]
            },
        ),
        ("Connections", {"fields": ["stargates", "stations"]}),
        (
            "Map",
            {
                "fields": [
                    "x",
                    "y",
                    "z",
                    "luminosity",
                    "star_id",
                    "border",
                    "fringe",
                    "corridor",
                    "hub",
                    "international",
                    "regional",
                ]
            },
        ),
    ]
    readonly_fields = ["security_display", "stargates", "stations"]

    constellation_link = related_column("constellation", "constellation__constellation_name")
    region_link = related_column("region", "region__region_name")

    @admin.display(description="security (shown)", ordering="security")
    def security_display(self, obj: MapSolarSystem) -> str:
        return security_text(obj.security)

    @admin.display(description="stargates to")
    def stargates(self, obj: MapSolarSystem) -> str:
        neighbours = self._detail(obj)["stargates_to"]
        return bullet_list(
            format_html(
                "{} ({})",
                admin_link(MapSolarSystem, n["solar_system_id"], n["name"]),
                security_text_from(n["security"], n["security_band"]),
            )
            for n in neighbours
        )

    @admin.display(description="stations")
    def stations(self, obj: MapSolarSystem) -> str:
        rows = self._detail(obj)["stations"]
        return bullet_list(admin_link(StaStation, s["station_id"], s["name"]) for s in rows)

    def _detail(self, obj: MapSolarSystem) -> dict[str, Any]:
        return memo(obj, "detail", lambda: selectors.system_detail(obj.pk))


def security_text_from(shown: float | None, band: str) -> str:
    return EMPTY if shown is None else f"{shown} {band}-sec"


@admin.register(StaStation)
class StaStationAdmin(SdeAdmin):
    list_display = [
        "station_id",
        "station_name",
        "security_display",
        "solar_system_link",
        "region_link",
        "corporation_link",
    ]
    list_display_links = ["station_id", "station_name"]
    list_select_related = ["solar_system", "region", "corporation"]
    list_filter = [("region", admin.RelatedOnlyFieldListFilter), SecurityBandFilter]
    search_fields = ["station_name", "=station_id"]

    solar_system_link = related_column("solar_system", "solar_system__solar_system_name")
    region_link = related_column("region", "region__region_name")
    corporation_link = related_column("corporation", "corporation__corporation_name")

    @admin.display(description="security (shown)", ordering="security")
    def security_display(self, obj: StaStation) -> str:
        return security_text(obj.security)
