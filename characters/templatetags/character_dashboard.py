"""Formats of the character dashboard (ISK and percentages come from profit_format)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template

from profit.templatetags.profit_format import isk_short

register = template.Library()


@register.filter
def iso_time(value: Any) -> datetime | None:
    """An ISO 8601 string (as the sections store times) as an aware datetime."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


# Compact ISK for the summary cards: the profit pages' filter, not a second copy.
register.filter("isk_short", isk_short)


@register.filter
def pips(level: Any) -> str:
    """A skill level 0-5 as five pips: 3 -> "●●●○○"."""
    try:
        trained = max(0, min(5, int(level)))
    except (TypeError, ValueError):
        trained = 0
    return "●" * trained + "○" * (5 - trained)
