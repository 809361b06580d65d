"""Every project URL, plus `/slow?seconds=N`: a request that takes its time."""

import time

from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.urls import handler404, handler500
from config.urls import urlpatterns as project_urls

__all__ = ["handler404", "handler500", "urlpatterns"]


def slow(request: HttpRequest) -> JsonResponse:
    seconds = float(request.GET.get("seconds", "2"))
    time.sleep(seconds)
    return JsonResponse({"slept": seconds})


urlpatterns = [path("slow", slow), *project_urls]
