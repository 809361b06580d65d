"""Server-rendered SDE pages: home with search, item, region, system and station pages.

Views stay thin: they call a selector, turn `SdeNotFound` into a 404 and hand plain data to
the template (display formatting lives in sde/display.py).
"""

import functools
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString

from config import page_cache
from sde import selectors
from sde.display import description_html, duration, trimmed_number
from sde.search import search_items

SEARCH_PAGE_LIMIT = 50
MAX_QUERY_LENGTH = 100

# The read pages are served from memory per state of what they show (config/page_cache.py):
# the installed SDE file here; each tracked market's snapshot, which the banner on every page
# and the item page's panels show, is registered by market/views.py.
CACHED_PARTS = ("sde", "market")


page_cache.register("sde", selectors.installed_sde)

REGION_KINDS = [
    ("k-space", "Known space"),
    ("wormhole", "Wormhole space"),
    ("abyssal", "Abyssal deadspace"),
    ("other", "Other"),
]


@page_cache.cached_page(*CACHED_PARTS, "boards", reads=("q",))
def home(request: HttpRequest) -> HttpResponse:
    """The search page; with `?q=` it also lists the matches (the search without JavaScript).
    Kept per state of the SDE, the markets and the boards (profit/views.py registers them);
    a search (`?q=`) renders each time."""
    query = " ".join(request.GET.get("q", "").split())[:MAX_QUERY_LENGTH]
    results = []
    if query:
        results = [
            {
                "type_id": hit.type_id,
                "name": hit.type_name,
                "match": hit.match,
                "image_url": selectors.image_url(hit.type_id, 32),
            }
            for hit in search_items(query, SEARCH_PAGE_LIMIT)
        ]
    return render(request, "sde/home.html", {"query": query, "results": results})


@page_cache.cached_page(*CACHED_PARTS)
def item_page(request: HttpRequest, type_id: int) -> HttpResponse:
    try:
        context = item_context()(type_id)
    except selectors.SdeNotFound as exc:
        raise Http404(str(exc)) from exc
    return render(request, "sde/item.html", dict(context))


def _item_context(type_id: int) -> dict[str, Any]:
    """What the item page shows of the SDE (its market panels come from the market): read
    once per deployment and SDE (the store offers it to the other processes)."""
    context = page_cache.shared(
        ("item context", type_id, selectors.installed_sde()), lambda: _read_item(type_id)
    )
    context["description"] = SafeString(context["description"])  # description_html's
    return context


def _read_item(type_id: int) -> dict[str, Any]:
    item = selectors.item_detail(type_id)
    industry = selectors.item_industry(type_id)
    made_by = [
        {
            **entry,
            "time": duration(entry["time_seconds"]),
            "materials": [
                {**m, "image_url": selectors.image_url(m["type_id"], 32)}
                for m in entry["materials"]
            ],
        }
        for entry in industry["made_by"]
    ]
    context: dict[str, Any] = {
        "item": item,
        "description": description_html(item["description"]),
        "volume": trimmed_number(item["volume"]),
        "packaged_volume": trimmed_number(item["packaged_volume"]),
        "industry": {**industry, "made_by": made_by},
    }
    return context


# Kept per installed SDE: a new snapshot renders the item page again (its market panels),
# and its SDE part, 60 % of the view's own work, is the same.
item_context = selectors.per_installed_sde(lambda: functools.lru_cache(maxsize=4096)(_item_context))


@page_cache.cached_page(*CACHED_PARTS, reads=("kind",))
def region_index(request: HttpRequest) -> HttpResponse:
    regions = selectors.region_list()
    kind = request.GET.get("kind", "")
    if kind not in dict(REGION_KINDS):
        kind = ""
    groups = [
        {
            "kind": key,
            "label": label,
            "regions": [r for r in regions if r["kind"] == key],
        }
        for key, label in REGION_KINDS
    ]
    tabs = [{"kind": g["kind"], "label": g["label"], "count": len(g["regions"])} for g in groups]
    shown = [g for g in groups if g["regions"] and (not kind or g["kind"] == kind)]
    return render(
        request,
        "sde/regions.html",
        {"groups": shown, "tabs": tabs, "kind": kind, "total": len(regions)},
    )


@page_cache.cached_page(*CACHED_PARTS)
def region_page(request: HttpRequest, region_id: int) -> HttpResponse:
    try:
        region = selectors.region_detail(region_id)
    except selectors.SdeNotFound as exc:
        raise Http404(str(exc)) from exc
    return render(request, "sde/region.html", {"region": region})


@page_cache.cached_page(*CACHED_PARTS)
def system_page(request: HttpRequest, solar_system_id: int) -> HttpResponse:
    try:
        system = selectors.system_detail(solar_system_id)
    except selectors.SdeNotFound as exc:
        raise Http404(str(exc)) from exc
    return render(request, "sde/system.html", {"system": system})


@page_cache.cached_page(*CACHED_PARTS)
def station_page(request: HttpRequest, station_id: int) -> HttpResponse:
    try:
        station = selectors.station_detail(station_id)
    except selectors.SdeNotFound as exc:
        raise Http404(str(exc)) from exc
    return render(request, "sde/station.html", {"station": station})
