"""Formats of the character dashboard (ISK and percentages come from profit_format)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from django import template

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


@register.filter
def isk_short(value: Any) -> str:
    """123456789.0 -> "123.46 M" (k, M, B, T), for the summary cards."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    if math.isnan(number) or math.isinf(number):
        return "—"
    for size, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(number) >= size:
            return f"{number / size:,.2f} {unit}"
    return f"{number:,.2f}"


@register.filter
def pips(level: Any) -> str:
    """A skill level 0-5 as five pips: 3 -> "●●●○○"."""
    try:
        trained = max(0, min(5, int(level)))
    except (TypeError, ValueError):
        trained = 0
    return "●" * trained + "○" * (5 - trained)
