from django.urls import path

import sde.converters  # noqa: F401  (registers the <eveid:...> converter)
from config.page_cache import kept_answer
from sde.api import places, views

# The item search answers from the installed SDE alone: kept per query (typing asks again
# and again). The place search is not: it also finds the structures whose markets are shared.
item_search = kept_answer(views.ItemSearchView.as_view(), "sde")

urlpatterns = [
    path("items/search", item_search, name="api-item-search"),
    path("places/search", places.PlaceSearchView.as_view(), name="api-place-search"),
    path("items/<eveid:type_id>", views.ItemDetailView.as_view(), name="api-item"),
    path("regions", views.RegionListView.as_view(), name="api-regions"),
    path("regions/<eveid:region_id>", views.RegionDetailView.as_view(), name="api-region"),
    path("systems", views.SystemListView.as_view(), name="api-systems"),
    path("systems/<eveid:solar_system_id>", views.SystemDetailView.as_view(), name="api-system"),
    path("stations", views.StationListView.as_view(), name="api-stations"),
    path("stations/<eveid:station_id>", views.StationDetailView.as_view(), name="api-station"),
    path("market-groups", views.MarketGroupTreeView.as_view(), name="api-market-groups"),
]
