"""Every project URL, plus `/bench/bare`: a plain Django view that answers a small JSON
object without DRF, the floor the market API benchmark measures the order book against."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.urls import handler404, handler500
from config.urls import urlpatterns as project_urls

__all__ = ["handler404", "handler500", "urlpatterns"]


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True, "path": request.path})


urlpatterns = [path("bench/bare", bare, name="bench-bare"), *project_urls]
