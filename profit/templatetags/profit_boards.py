"""`{% home_boards %}`: the opportunity boards on the home page (templates/profit/_boards.html)."""

from __future__ import annotations

from typing import Any

from django import template

from profit.views import boards_context

register = template.Library()


@register.inclusion_tag("profit/_boards.html")
def home_boards() -> dict[str, Any]:
    return boards_context()
