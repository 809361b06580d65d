from django.urls import path

import sde.converters  # noqa: F401  (registers the <eveid:...> converter)
from sde import views

urlpatterns = [
    path("", views.home, name="home"),
    path("items/<eveid:type_id>/", views.item_page, name="item"),
    path("regions/", views.region_index, name="regions"),
    path("regions/<eveid:region_id>/", views.region_page, name="region"),
    path("systems/<eveid:solar_system_id>/", views.system_page, name="system"),
    path("stations/<eveid:station_id>/", views.station_page, name="station"),
]
