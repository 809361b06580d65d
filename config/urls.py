"""Top-level URL map: pages, the v1 API, its schema and docs, health probes, the admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from config import api_front, health, metrics

urlpatterns = [
    path("", include("sde.urls")),
    path("market/", include("market.urls")),
    path("profit/", include("profit.urls")),
    path("characters/", include("characters.urls")),
    path("", include("appraisal.urls")),
    path("accounts/", include("characters.auth_urls")),  # EVE SSO login and characters
    path("api/v1/", include("sde.api.urls")),
    path("api/v1/market/", include("market.api.urls")),
    path("api/v1/profit/", include("profit.api.urls")),
    path("api/v1/characters/", include("characters.api.urls")),
    path("api/v1/", include("appraisal.api.urls")),
    path("api/v1/health", health.HealthView.as_view(), name="api-health"),
    path("api/v1/", api_front.ApiRootView.as_view(), name="api-root"),
    path("api/schema/", api_front.CachedSchemaView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        # The split view serves its start-up script as a file: no inline script for the CSP.
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
]

handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
