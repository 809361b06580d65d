"""Number formats of the profit pages: ISK with separators, fractions as percent."""

from __future__ import annotations

import math
from typing import Any

from django import template

from market import display

register = template.Library()


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


@register.filter
def isk(value: Any) -> str:
    """1234567.891 -> "1,234,567.89" (an em dash for nothing): the market pages' price."""
    return display.price(_number(value))


@register.filter
def pct(value: Any, digits: int = 1) -> str:
    """0.1234 -> "12.3 %"."""
    number = _number(value)
    return "—" if number is None else f"{number * 100:,.{int(digits)}f} %"


@register.filter
def amount(value: Any) -> str:
    """A count or volume: 1234.5 -> "1,234.5", 12 -> "12"."""
    number = _number(value)
    if number is None:
        return "—"
    return f"{number:,.0f}" if number == int(number) else f"{number:,.1f}"


@register.filter
def raw(value: Any) -> str:
    """The value for a data attribute (JS sorts by it): full precision, empty for nothing."""
    number = _number(value)
    if number is None:
        return "" if value is None or not isinstance(value, str) else value
    return repr(number)


@register.filter
def get(mapping: Any, key: str) -> Any:
    """mapping[key] in a template (form values and errors by field name)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def isk_short(value: Any) -> str:
    """Compact ISK for narrow tables: 20790000.01 -> "20.79 M", 28510.01 -> "28.51 K",
    1534.5 -> "1,534.50"."""
    number = _number(value)
    if number is None:
        return display.NOTHING
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e4, "K")):
        if abs(number) >= size:
            return f"{number / (size if suffix != 'K' else 1e3):,.2f} {suffix}"
    return f"{number:,.2f}"
