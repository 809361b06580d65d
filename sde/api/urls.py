from collections.abc import Callable
from typing import Any

from django.urls import path
from rest_framework.views import APIView

import sde.converters  # noqa: F401  (registers the <eveid:...> converter)
from config.page_cache import kept_answer
from sde.api import places, views


# Every answer here but the place search's comes from the installed SDE alone, so it is kept
# per URL and query until another SDE is installed (typing asks the item search again and
# again). The place search also finds the structures whose markets are shared: not kept.
def from_the_sde(view: type[APIView]) -> Callable[..., Any]:
    return kept_answer(view.as_view(), "sde")


urlpatterns = [
    path("items/search", from_the_sde(views.ItemSearchView), name="api-item-search"),
    path("places/search", places.PlaceSearchView.as_view(), name="api-place-search"),
    path("items/<eveid:type_id>", from_the_sde(views.ItemDetailView), name="api-item"),
    path("regions", from_the_sde(views.RegionListView), name="api-regions"),
    path("regions/<eveid:region_id>", from_the_sde(views.RegionDetailView), name="api-region"),
    path("systems", from_the_sde(views.SystemListView), name="api-systems"),
    path(
        "systems/<eveid:solar_system_id>",
        from_the_sde(views.SystemDetailView),
        name="api-system",
    ),
    path("stations", from_the_sde(views.StationListView), name="api-stations"),
    path("stations/<eveid:station_id>", from_the_sde(views.StationDetailView), name="api-station"),
    path("market-groups", from_the_sde(views.MarketGroupTreeView), name="api-market-groups"),
]
