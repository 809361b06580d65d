"""The character dashboard: portrait, wallet, trading skills, orders with outbid flags, assets
by location with their value, standings, location and ship, for one of the user's characters
(the selected one by default). The same sections as the API (characters/sections.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from characters import data, sections, selectors, structures
from characters.access import own_character
from characters.fees import uses_character_fees
from characters.scopes import has_feature
from characters.tasks import queue_refresh
from market.models import Structure
from market.structures import learn
from sde.ids import is_ascii_number, parse_ascii_id
from sde.places import is_structure


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
                "structures_on": has_feature(character, "structures"),
                "structure_rows": structures.share_rows(character),
            }
        )
    return render(request, "characters/dashboard.html", context)


@login_required
@require_POST
def share_structures(request: HttpRequest, character_id: int) -> HttpResponse:
    """The structures this character shares (checked boxes), and one more by id."""
    character = own_character(request, character_id)
    if not has_feature(character, "structures"):
        messages.error(request, "Turn on Structure markets for this character first.")
        return redirect("character-dashboard-of", character_id=character.character_id)
    chosen = {parse_ascii_id(v) for v in request.POST.getlist("structure") if is_ascii_number(v)}
    extra = request.POST.get("add", "").strip()
    if extra:
        added = parse_ascii_id(extra) if is_ascii_number(extra) else None
        if added is not None and is_structure(added):
            learn({added: None}, Structure.Learned.CHARACTER)
            chosen.add(added)
        else:
            messages.error(
                request,
                f"{extra!r} is not a structure id: structure ids are numbers from "
                "1000000000000 up, e.g. 1028858195912.",
            )
    structures.set_shares(character, chosen)
    total = character.structure_shares.count()
    messages.success(
        request,
        f"{character.name} shares {total} structure market{pluralize(total)}"
        + ("; the worker reads them with its access within a minute." if total else "."),
    )
    return redirect(
        reverse("character-dashboard-of", args=[character.character_id]) + "#structures"
    )


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
