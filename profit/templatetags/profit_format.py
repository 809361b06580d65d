"""Number formats of the profit pages (and the character dashboard, which loads them).

- `price`: an exact ISK figure, grouped, with cents only where there are any: EVE prices have
  four significant digits, so a price of 1,000 ISK or more never has cents ("1,234,000",
  "5.37", "4.50"). Used in titles (the exact value on hover) and where there is room.
- `isk`: the same with cents always ("1,234,567.00"): statements where cents line up (wallet,
  journal, the calculator's lines).
- `isk_short`: dense tables. Under 1,000 ISK the exact price ("5.37"); under 10,000 whole ISK
  ("1,535"); from 10,000 four significant digits with a suffix K, M, B or T, trailing zeros
  dropped ("12.5K", "791.7M", "1.24B"): a price loses nothing. The exact value goes in the
  cell's title (`isk_exact`); data-value (sorting) and the CSV keep every digit.
  `compact` is the same for counts and volumes ("119M" units).
- `pct`: a ratio as a percent with fixed digits ("12.3 %"); `rate`: a fee or tax rate with
  the precision it has ("3.375 %", "1.45 %", "7.5 %", "3 %").
- `amount`: counts and volumes ("1,234.5", "12"); a volume under 1 keeps two significant
  digits so it is never shown as 0 ("0.01", "0.0025"). `volume` is `amount` for m³.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from django import template

from market import display

register = template.Library()

NOTHING = display.NOTHING
SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))
SIGNIFICANT = 4  # digits of a compact figure, as many as an EVE price has
EXACT = Context(prec=400)  # room for every digit of any float (up to 1.8e308) and its cents


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def _round(number: float, places: int) -> Decimal:
    """Half away from zero on the decimal the value prints as (5.375 -> 5.38, not 5.37)."""
    step = Decimal(1).scaleb(-places)
    return Decimal(repr(number)).quantize(step, rounding=ROUND_HALF_UP, context=EXACT)


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _signed(number: Decimal, text: str) -> str:
    return text if number != 0 or not text.startswith("-") else text[1:]


@register.filter
def isk(value: Any) -> str:
    """1234567.891 -> "1,234,567.89", 4 -> "4.00" (an em dash for nothing)."""
    return display.price(_number(value))


@register.filter
def price(value: Any) -> str:
    """An exact ISK figure, cents only where there are any: 1234000 -> "1,234,000",
    5.37 -> "5.37", 4.5 -> "4.50", 1234567.891 -> "1,234,567.89"."""
    number = _number(value)
    if number is None:
        return NOTHING
    cents = _round(number, 2)
    if cents == cents.to_integral_value():
        return _signed(cents, f"{cents:,.0f}")
    return _signed(cents, f"{cents:,.2f}")


def _suffixed(number: float) -> str:
    """Four significant digits and a suffix, for |number| >= 10,000: rounded first, so
    999,950 is "1M", not "1000K"."""
    exponent = math.floor(math.log10(abs(number)))
    rounded = float(_round(number, SIGNIFICANT - 1 - exponent))
    for size, suffix in SUFFIXES:
        if abs(rounded) >= size:
            scaled = rounded / size
            digits = max(0, SIGNIFICANT - 1 - math.floor(math.log10(abs(scaled))))
            return _trim(f"{scaled:.{digits}f}") + suffix
    return f"{rounded:,.0f}"  # not reached from 10,000 up


@register.filter
def isk_short(value: Any) -> str:
    """Compact ISK for dense tables: 5.37 -> "5.37", 1534.5 -> "1,535" (whole ISK from
    1,000), 12500 -> "12.5K", 791700000 -> "791.7M", 1243500000 -> "1.244B". A price keeps
    every digit (EVE prices have four significant digits)."""
    number = _number(value)
    if number is None:
        return NOTHING
    if abs(number) < 1_000:
        return price(number)
    whole = _round(number, 0)
    return f"{whole:,.0f}" if abs(whole) < 10_000 else _suffixed(number)


@register.filter
def isk_exact(value: Any) -> str:
    """The exact figure for a cell's title: "791,700,000 ISK" (empty for nothing)."""
    text = price(value)
    return "" if text == NOTHING else f"{text} ISK"


@register.filter
def compact(value: Any) -> str:
    """A count or volume for a dense table: as `amount` under 10,000 ("0.01", "9,999"),
    then like `isk_short` ("119M", "1.19M")."""
    number = _number(value)
    if number is None:
        return NOTHING
    return amount(number) if abs(number) < 10_000 else _suffixed(number)


@register.filter
def pct(value: Any, digits: int = 1) -> str:
    """0.1234 -> "12.3 %"; pct:2 -> "12.34 %"."""
    number = _number(value)
    return NOTHING if number is None else f"{number * 100:,.{int(digits)}f} %"


@register.filter
def rate(value: Any) -> str:
    """A fee or tax rate with the precision it has: 0.03375 -> "3.375 %", 0.0145 ->
    "1.45 %", 0.075 -> "7.5 %", 0.03 -> "3 %" (to a thousandth of a percent at most)."""
    number = _number(value)
    if number is None:
        return NOTHING
    percent = _round(number * 100, 4)  # 0.0145 * 100 is 1.4500000000000002
    return _signed(percent, _trim(f"{percent:f}")) + " %"


@register.filter
def amount(value: Any) -> str:
    """A count or volume: 1234.5 -> "1,234.5", 12 -> "12", 0.01 -> "0.01" (two significant
    digits under 1, so a small volume never reads as 0)."""
    number = _number(value)
    if number is None:
        return NOTHING
    if number == int(number):
        return f"{number:,.0f}"
    if abs(number) >= 1:
        return _trim(f"{_round(number, 1):,}")
    places = 1 - math.floor(math.log10(abs(number)))  # 0.01 -> 3 places, 0.25 -> 2
    return _trim(f"{_round(number, places):f}")


@register.filter
def volume(value: Any) -> str:
    """A volume in m³: "0.01 m³", "5,200,000 m³" (an em dash for nothing)."""
    text = amount(value)
    return text if text == NOTHING else f"{text} m³"


@register.filter
def place_short(name: Any) -> str:
    """A station's name without its facility, for a narrow cell (the full name goes in a
    title): "Jita IV - Moon 4 - Caldari Navy Assembly Plant" -> "Jita IV - Moon 4",
    "Amarr VIII (Oris) - Emperor Family Academy" -> "Amarr VIII (Oris)"."""
    text = "" if name is None else str(name)
    parts = text.split(" - ")
    return " - ".join(parts[:-1]) if len(parts) > 1 else text


FLAG_MARKS = {"thin": "thin", "off_history": "hist", "volume_unknown": "vol?"}


@register.filter
def flag_mark(code: Any) -> str:
    """A row flag's marker in a table: a few letters (its sentence goes in the title)."""
    return FLAG_MARKS.get(str(code), str(code))


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
