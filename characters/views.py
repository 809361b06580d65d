"""The character dashboard: portrait, wallet, trading skills, orders with outbid flags, assets
by location with their value, standings, location and ship, for one of the user's characters
(the selected one by default). The same sections as the API (characters/sections.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from characters import data, sections, selectors
from characters.access import own_character
from characters.fees import uses_character_fees
from characters.tasks import queue_refresh


@login_required
@require_GET
def dashboard(request: HttpRequest, character_id: int | None = None) -> HttpResponse:
    selected = selectors.selected_character(request)
    character = selected if character_id is None else own_character(request, character_id)
    characters = list(selectors.user_characters(request.user))
    context: dict[str, object] = {"character": character, "characters": characters}
    if character is not None:
        is_selected = selected is not None and selected.pk == character.pk
        context.update(
            {
                "summary": sections.summary(character, selected=is_selected),
                # Its skills set the fees only when selected, granted and fetched.
                "prices_trades": is_selected and uses_character_fees(character),
                "status": data.load_status(character.character_id),
                "identity": sections.section(character, "identity"),
                **{group: sections.section(character, group) for group in sections.SECTIONS},
            }
        )
    return render(request, "characters/dashboard.html", context)


@login_required
@require_POST
def refresh(request: HttpRequest, character_id: int) -> HttpResponse:
    character = own_character(request, character_id)
    if character.needs_reauth:
        messages.error(request, f"{character.name} must be authorised again first.")
    elif queue_refresh(character.character_id):
        messages.success(request, f"Fetching {character.name}'s data again.")
    else:
        messages.info(request, f"{character.name}'s data is already being fetched.")
    return redirect("character-dashboard-of", character_id=character.character_id)
