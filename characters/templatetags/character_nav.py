"""`{% character_switcher %}`: the header's character switcher (templates/characters/_nav.html),
with the user's characters and the selected one, on every page without a context processor."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest

from characters import selectors, sso

register = template.Library()


@register.inclusion_tag("characters/_switcher.html", takes_context=True)
def character_switcher(context: template.Context) -> dict[str, Any]:
    request: HttpRequest | None = context.get("request")
    if request is None:
        return {"request": None}
    user = request.user
    # one query per page for a user; none, nor a queryset, for anonymous visitors
    characters = list(selectors.user_characters(user)) if user.is_authenticated else []
    chosen = request.session.get(selectors.SESSION_KEY) if characters else None
    # As selectors.selected_character, without a second query.
    selected = next((c for c in characters if c.character_id == chosen), None) or (
        characters[0] if characters else None
    )
    return {
        "request": request,
        "user": request.user,
        "characters": characters,
        "selected": selected,
        "configured": sso.is_configured(),
        "messages": context.get("messages"),
    }


@register.simple_tag(takes_context=True)
def character_name(context: template.Context) -> str:
    """The name of the request's selected character ("" without one): who a message calls
    the user, rather than the account's username (after an EVE login, the character who
    logged in: `characters.provider.adapter.save_character` selects it)."""
    request: HttpRequest | None = context.get("request")
    if request is None or not request.user.is_authenticated:
        return ""
    character = selectors.selected_character(request)
    return character.name if character is not None else ""
