"""Answers 503 with a clear message, instead of a server error, while no SDE is installed."""

from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

# Pages that work without an SDE: health probes, the admin's login, static files.
_EXEMPT_PREFIXES = ("/health/", "/api/v1/health", "/static/", "/admin/login", "/admin/logout")

NO_SDE_MESSAGE = (
    "No SDE (static game data) is installed. Install one with: python manage.py sde_install "
    "--bundled (offline), or python manage.py sde_install (downloads the latest)."
)


class SdeRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(_EXEMPT_PREFIXES) and not Path(settings.SDE_PATH).exists():
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NO_SDE_MESSAGE}, status=503)
            return render(request, "sde/no_sde.html", {"message": NO_SDE_MESSAGE}, status=503)
        return self.get_response(request)
