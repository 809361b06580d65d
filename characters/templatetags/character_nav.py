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
    characters = list(selectors.user_characters(request.user))  # one query per page
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
