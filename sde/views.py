"""Server-rendered SDE pages: home with search, item, region, system and station pages."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from sde import selectors


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "sde/home.html")


def item_page(request: HttpRequest, type_id: int) -> HttpResponse:
    try:
        item = selectors.item_detail(type_id)
    except selectors.SdeNotFound as exc:
        raise Http404(str(exc)) from exc
    return render(
        request, "sde/item.html", {"item": item, "industry": selectors.item_industry(type_id)}
    )


def region_index(request: HttpRequest) -> HttpResponse:
    return render(request, "sde/regions.html", {"regions": selectors.region_list()})


def region_page(request: HttpRequest, region_id: int) -> HttpResponse:
    try:
        region = selectors.region_detail(region_id)
    except selectors.SdeNotFound as exc:
        raise Http404(str(exc)) from exc
    return render(request, "sde/region.html", {"region": region})


def system_page(request: HttpRequest, solar_system_id: int) -> HttpResponse:
    try:
        system = selectors.system_detail(solar_system_id)
    except selectors.SdeNotFound as exc:
        raise Http404(str(exc)) from exc
    return render(request, "sde/system.html", {"system": system})


def station_page(request: HttpRequest, station_id: int) -> HttpResponse:
    try:
        station = selectors.station_detail(station_id)
    except selectors.SdeNotFound as exc:
        raise Http404(str(exc)) from exc
    return render(request, "sde/station.html", {"station": station})
