"""The read-only SDE admin: every model browsable, nothing writable, filters and detail pages
showing real SDE data, and list pages that never count a whole table."""

import re
from typing import Any

import pytest
from django.contrib import admin
from django.db import connections
from django.db.models import Model
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sde import selectors
from sde.admin import LookaheadPaginator, SecurityBandFilter, render_recipe
from sde.models import (
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
    MapSolarSystemJump,
    StaStation,
)
from tests.conftest import sde_db

SDE_MODELS = [
    InvCategory,
    InvGroup,
    InvMarketGroup,
    InvMetaGroup,
    InvType,
    InvMetaType,
    InvVolume,
    ChrFaction,
    CrpNPCCorporation,
    MapRegion,
    MapConstellation,
    MapSolarSystem,
    StaStation,
    IndustryBlueprint,
]
TRITANIUM, CARACAL, CARACAL_BLUEPRINT = 34, 621, 687
JITA, THE_FORGE, PERIMETER = 30000142, 10000002, 30000144


def url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:sde_{model._meta.model_name}_{view}", args=args)


def first_pk(model: type[Model]) -> object:
    return model._default_manager.order_by("pk").values_list("pk", flat=True).first()


def listed(response) -> list:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


# --- Registration and read-only --------------------------------------------------------


def test_every_sde_model_is_registered_and_composite_keys_are_not():
    registered = {m for m in admin.site._registry if m._meta.app_label == "sde"}
    assert registered == set(SDE_MODELS)
    for model in (
        MapSolarSystemJump,
        IndustryActivity,
        IndustryActivityMaterial,
        IndustryActivityProduct,
    ):
        assert not admin.site.is_registered(model)


def test_site_header():
    assert admin.site.site_header == "EVE market profit calculator admin"


@sde_db
@pytest.mark.parametrize("model", SDE_MODELS, ids=lambda m: m.__name__)
def test_changelist_and_change_page_load(admin_client, model):
    response = admin_client.get(url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_list

    pk = first_pk(model)
    response = admin_client.get(url(model, "change", pk))
    assert response.status_code == 200
    # Read-only: a "Close" link instead of save buttons, no form inputs for the fields.
    assert b'name="_save"' not in response.content
    assert b'name="_continue"' not in response.content


@sde_db
@pytest.mark.parametrize("model", SDE_MODELS, ids=lambda m: m.__name__)
def test_nothing_can_be_added_changed_or_deleted(admin_client, model):
    pk = first_pk(model)
    before = model.objects.filter(pk=pk).values().get()

    assert admin_client.get(url(model, "add")).status_code == 403
    assert admin_client.post(url(model, "add"), {}).status_code == 403
    assert admin_client.post(url(model, "change", pk), {}).status_code == 403
    assert admin_client.get(url(model, "delete", pk)).status_code == 403
    assert admin_client.post(url(model, "delete", pk), {"post": "yes"}).status_code == 403

    assert model.objects.filter(pk=pk).values().get() == before


@sde_db
@pytest.mark.parametrize("model", SDE_MODELS, ids=lambda m: m.__name__)
def test_no_bulk_actions(admin_client, model):
    response = admin_client.get(url(model, "changelist"))
    assert response.context["action_form"] is None
    assert b"delete_selected" not in response.content
    # Even a forged bulk delete does nothing.
    pk = first_pk(model)
    admin_client.post(
        url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [pk], "post": "yes"},
    )
    assert model.objects.filter(pk=pk).exists()


@sde_db
def test_index_lists_the_sde_without_add_links(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert b"EVE market profit calculator admin" in response.content
    assert b"Static Data Export (read-only)" in response.content
    assert url(InvType, "add").encode() not in response.content


# --- Types: search and filters ---------------------------------------------------------


@sde_db
def test_search_types_by_id_and_by_name(admin_client):
    by_id = listed(admin_client.get(url(InvType, "changelist"), {"q": str(TRITANIUM)}))
    assert TRITANIUM in [t.type_id for t in by_id]

    by_name = listed(admin_client.get(url(InvType, "changelist"), {"q": "Tritanium"}))
    assert TRITANIUM in [t.type_id for t in by_name]
    assert all("tritanium" in t.type_name.lower() for t in by_name)


@sde_db
def test_category_filter(admin_client):
    ship = InvCategory.objects.get(category_name="Ship").category_id
    types = listed(admin_client.get(url(InvType, "changelist"), {"category": ship}))
    assert types
    assert {t.group.category_id for t in types} == {ship}


@sde_db
def test_group_filter_appears_once_a_category_is_chosen(admin_client):
    plain = admin_client.get(url(InvType, "changelist"))
    assert b"choose a category first" not in plain.content

    cruiser = InvGroup.objects.get(group_name="Cruiser")
    response = admin_client.get(
        url(InvType, "changelist"), {"category": cruiser.category_id, "group": cruiser.group_id}
    )
    assert b"choose a category first" in response.content
    types = listed(response)
    assert CARACAL in [t.type_id for t in types]
    assert {t.group_id for t in types} == {cruiser.group_id}


@sde_db
def test_published_filter(admin_client):
    published = listed(admin_client.get(url(InvType, "changelist"), {"published__exact": "1"}))
    unpublished = listed(admin_client.get(url(InvType, "changelist"), {"published__exact": "0"}))
    assert published and unpublished
    assert all(t.published for t in published)
    assert not any(t.published for t in unpublished)


@sde_db
def test_market_group_filter(admin_client):
    ships = InvMarketGroup.objects.get(market_group_name="Ships", parent_group__isnull=True)
    under_ships = listed(admin_client.get(url(InvType, "changelist"), {"market": ships.pk}))
    assert under_ships
    for item in under_ships:
        assert selectors.market_group_path(item.market_group_id)[0]["id"] == ships.pk

    off_market = listed(admin_client.get(url(InvType, "changelist"), {"market": "none"}))
    assert off_market
    assert all(t.market_group_id is None for t in off_market)


@sde_db
def test_types_list_survives_dangling_market_groups(admin_client):
    dangling = (
        InvType.objects.filter(market_group_id__isnull=False)
        .exclude(market_group_id__in=InvMarketGroup.objects.values("market_group_id"))
        .first()
    )
    assert dangling is not None, "the SDE should have a type in a removed market group"
    response = admin_client.get(url(InvType, "changelist"), {"q": str(dangling.type_id)})
    assert dangling.type_id in [t.type_id for t in listed(response)]
    assert f"{dangling.market_group_id} (not in the SDE)".encode() in response.content


# --- Systems and stations --------------------------------------------------------------


def band_filter(band: str) -> SecurityBandFilter:
    request = RequestFactory().get("/", {"band": band})
    model_admin = admin.site._registry[MapSolarSystem]
    # Django 5 passes each parameter as a list; django-stubs still types it as a str.
    params: dict[str, Any] = {"band": [band]}
    return SecurityBandFilter(request, params, MapSolarSystem, model_admin)


@sde_db
@pytest.mark.parametrize("band", ["high", "low", "null"])
def test_security_band_filter_matches_selectors(band):
    """Over every system of the SDE, the filter agrees with `selectors.security_band`."""
    systems = MapSolarSystem.objects.values_list("solar_system_id", "security")
    expected = {sid for sid, security in systems if selectors.security_band(security) == band}
    filtered = band_filter(band).queryset(None, MapSolarSystem.objects.all())
    assert set(filtered.values_list("solar_system_id", flat=True)) == expected
    assert expected


@sde_db
def test_security_band_filter_on_the_page(admin_client):
    high = listed(admin_client.get(url(MapSolarSystem, "changelist"), {"band": "high", "p": 1}))
    assert {selectors.security_band(s.security) for s in high} == {"high"}

    def jita_in(band: str) -> list:
        response = admin_client.get(url(MapSolarSystem, "changelist"), {"q": "Jita", "band": band})
        return [s.pk for s in listed(response)]

    assert JITA in jita_in("high")
    assert JITA not in jita_in("low")
    assert JITA not in jita_in("null")


@sde_db
def test_region_filters(admin_client):
    params = {"region__region_id__exact": THE_FORGE}
    systems = listed(admin_client.get(url(MapSolarSystem, "changelist"), params))
    assert {s.region_id for s in systems} == {THE_FORGE}
    assert JITA in [s.pk for s in systems]

    stations = listed(admin_client.get(url(StaStation, "changelist"), params))
    assert stations
    assert {s.region_id for s in stations} == {THE_FORGE}


# --- Detail pages ----------------------------------------------------------------------


@sde_db
def test_ship_page_shows_sizes_market_path_and_blueprint(admin_client):
    packaged = InvVolume.objects.get(type_id=CARACAL).volume
    assert packaged == 10000
    response = admin_client.get(url(InvType, "change", CARACAL))
    assert response.status_code == 200
    html = response.content.decode()

    assert "Cruiser" in html and "Ship" in html
    assert "92,000 m³" in html  # assembled volume
    assert "10,000 m³" in html  # packaged volume, from invVolumes
    path = " \u203a ".join(
        f'<a href="{url(InvMarketGroup, "change", step["id"])}">{step["name"]}</a>'
        for step in selectors.market_group_path(InvType.objects.get(pk=CARACAL).market_group_id)
    )
    assert path in html and "Ships" in path
    assert f'<a href="{url(InvMetaGroup, "change", 1)}">Tech I</a>' in html

    blueprint_link = f'<a href="{url(IndustryBlueprint, "change", CARACAL_BLUEPRINT)}">'
    assert blueprint_link + "Caracal Blueprint</a>" in html
    tritanium = IndustryActivityMaterial.objects.get(
        blueprint_type_id=CARACAL_BLUEPRINT, activity_id=1, material_type_id=TRITANIUM
    ).quantity
    tritanium_link = f'<a href="{url(InvType, "change", TRITANIUM)}">Tritanium</a>'
    assert f"{tritanium:,} &times; {tritanium_link}" in html


@sde_db
def test_item_without_packaged_volume_falls_back_to_volume(admin_client):
    html = admin_client.get(url(InvType, "change", TRITANIUM)).content.decode()
    assert html.count("0.01 m³") == 2  # volume and packaged volume
    assert "No blueprint or reaction formula makes it." in html
    assert "An input of" in html


@sde_db
def test_blueprint_page_shows_activities(admin_client):
    html = admin_client.get(url(IndustryBlueprint, "change", CARACAL_BLUEPRINT)).content.decode()
    assert "Manufacturing" in html and "Invention" in html
    assert f'<a href="{url(InvType, "change", CARACAL)}">Caracal</a>' in html
    assert f'<a href="{url(InvType, "change", TRITANIUM)}">Tritanium</a>' in html


@sde_db
def test_jita_page_shows_stargates_and_stations(admin_client):
    response = admin_client.get(url(MapSolarSystem, "change", JITA))
    assert response.status_code == 200
    html = response.content.decode()
    neighbours = MapSolarSystem.objects.filter(jumps_in__from_solar_system_id=JITA)
    assert PERIMETER in [n.pk for n in neighbours]
    for neighbour in neighbours:
        link = f'<a href="{url(MapSolarSystem, "change", neighbour.pk)}">{neighbour}</a>'
        assert link in html
    assert "0.9 (high-sec)" in html
    station = StaStation.objects.filter(solar_system_id=JITA).first()
    assert f'<a href="{url(StaStation, "change", station.pk)}">' in html
    assert f'<a href="{url(MapRegion, "change", THE_FORGE)}">The Forge</a>' in html


def test_rendered_names_are_escaped():
    html = render_recipe(
        {
            "blueprint_type_id": 1,
            "blueprint_name": "<script>bp</script>",
            "activity": "Manufacturing",
            "quantity": 1,
            "time_seconds": 3725,
            "materials": [{"type_id": 2, "name": "<b>ore</b>", "quantity": 5}],
        }
    )
    assert "<script>" not in html and "&lt;script&gt;bp&lt;/script&gt;" in html
    assert "<b>" not in html and "&lt;b&gt;ore&lt;/b&gt;" in html
    assert "1h 2m per run" in html


# --- No full counts --------------------------------------------------------------------

COUNT = re.compile(r"\bCOUNT\(", re.IGNORECASE)


@sde_db
@pytest.mark.parametrize("params", [{}, {"q": "a"}, {"published__exact": "1"}, {"p": "3"}])
def test_types_changelist_never_counts_the_whole_table(admin_client, params):
    with CaptureQueriesContext(connections["sde"]) as queries:
        response = admin_client.get(url(InvType, "changelist"), params)
    assert response.status_code == 200
    counts = [q["sql"] for q in queries.captured_queries if COUNT.search(q["sql"])]
    assert counts, "the paginator should still count, within its window"
    assert all("LIMIT" in sql for sql in counts), counts
    assert b"big lists are counted only a few pages ahead" in response.content


@sde_db
def test_lookahead_paginator_counts_exactly_when_the_list_is_short():
    categories = InvCategory.objects.order_by("pk")
    paginator = LookaheadPaginator(categories, 100)
    assert paginator.count == categories.count()
    assert not paginator.is_partial

    types = InvType.objects.order_by("pk")
    paginator = LookaheadPaginator(types, 100, page_number=5)
    assert paginator.is_partial
    assert paginator.count == 1500
    assert len(paginator.page(15).object_list) == 100


@sde_db
def test_paging_past_the_window(admin_client):
    deep = listed(admin_client.get(url(InvType, "changelist"), {"p": "40"}))
    assert len(deep) == 100
