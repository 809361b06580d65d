"""The appraisal page: paste a list, pick a market, get what it is worth and nets there.

`GET /appraisals/` shows the form; a POST appraises the paste (appraisal/service.py) and,
when it is stored, redirects to its permalink `/appraisals/<code>` (a private one's link
carries its token); with "keep it" off the answer is shown at once. The same answer in JSON
is `/api/v1/appraisals/<code>`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from appraisal import service
from appraisal.markets import NAMED
from profit.page_input import places
from profit.params import skills_from_request
from profit.views import snapshot_rows

MARKETS = [
    ("jita", "Jita IV - Moon 4"),
    ("amarr", "Amarr VIII (Oris)"),
    ("dodixie", "Dodixie IX - Moon 20"),
    ("rens", "Rens VI - Moon 8"),
    ("hek", "Hek VIII - Moon 12"),
    ("perimeter", "Perimeter"),
    ("universe", "Every tracked region"),
]


def _context(values: dict[str, Any], **more: Any) -> dict[str, Any]:
    offered = places()
    return {
        "values": values,
        "markets": MARKETS,
        "structures": offered["structures"],
        "max_lines": settings.APPRAISAL_MAX_LINES,
        "default_days": settings.APPRAISAL_DAYS,
        "max_days": settings.APPRAISAL_MAX_DAYS,
        **more,
    }


def _form_values(request: HttpRequest) -> tuple[dict[str, Any], service.Options, dict[str, str]]:
    post = request.POST
    text = post.get("text", "")
    market = (post.get("market") or "jita").strip()
    percentage_text = (post.get("percentage") or "100").strip()
    days_text = (post.get("expire_days") or str(settings.APPRAISAL_DAYS)).strip()
    persist, private = post.get("persist") == "on", post.get("private") == "on"
    values: dict[str, Any] = {
        "text": text,
        "market": market,
        "percentage": percentage_text,
        "persist": persist,
        "private": private,
        "expire_days": days_text,
    }
    errors = {}
    try:
        percentage = float(percentage_text)
    except ValueError:
        errors["percentage"] = "A number: 100 is the prices as they are, 90 a 90 % buyback."
        percentage = 100.0
    if not (days_text.isascii() and days_text.isdigit()):
        errors["expire_days"] = "A whole number of days."
        days_text = str(settings.APPRAISAL_DAYS)
    if not text.strip():
        errors["text"] = "Paste a list to appraise."
    options = service.Options(
        market=market if market in NAMED or market.isdigit() else "jita",
        percentage=percentage,
        persist=persist,
        private=private,
        expire_days=int(days_text),
    )
    return values, options, errors


@require_http_methods(["GET", "POST"])
def appraisal_form(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "appraisal/form.html", _context({"market": "jita", "persist": True}))
    values, options, errors = _form_values(request)
    if errors:
        return render(request, "appraisal/form.html", _context(values, errors=errors), status=400)
    skills, source = skills_from_request(request, {})
    try:
        read = service.read_text(values["text"])
        answer = service.appraise(read, options, skills, source, raw=values["text"])
    except service.AppraisalError as exc:
        context = _context(values, error=str(exc))
        return render(request, "appraisal/form.html", context, status=exc.status)
    if answer["permalink"]:
        return redirect(answer["permalink"])
    return render(request, "appraisal/form.html", _context(values, answer=_shown(answer)))


def appraisal_page(request: HttpRequest, code: str) -> HttpResponse:
    try:
        answer, raw = service.read(code, request.GET.get("token"))
    except service.AppraisalError as exc:
        return render(
            request,
            "appraisal/form.html",
            _context({"market": "jita", "persist": True}, error=str(exc)),
            status=exc.status,
        )
    values = {"text": raw, "market": "jita", "persist": True}
    return render(request, "appraisal/appraisal.html", _context(values, answer=_shown(answer)))


def _shown(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer with its items as a person reads them: the most valuable first."""
    items = sorted(
        answer["items"], key=lambda i: (-i["values"]["sell"], -i["values"]["buy"], i["name"])
    )
    return {**answer, "items": items, "snapshot_rows": snapshot_rows(answer["snapshots"])}
