"""Quantities, distances and dates as the game (in any language) and players write them.

A quantity is a whole number of units, at least 1:

- digits grouped by threes with one separator used throughout: `,` `.` `'` (or U+2019), a space, a
  no-break space (U+00A0), a narrow no-break space (U+202F) or a thin space (U+2009):
  `1,000`, `1.000.000`, `9'584'701`, `10 102`;
- optionally a decimal part after the other mark (`1,000.00`, `1.000,00`) or after plain
  digits (`305.0`, the planetary storage's figures), kept only when it is zero;
- one separator followed by exactly three digits groups thousands: `1.000` and `1,000`
  are a thousand, never one.

A non-zero decimal part (`1.5`, `1,25`, `123.12`) is no quantity: items come in whole units,
and rounding `1.5` to 1 or 2, or reading it as 1,500, would price something the paste does
not say. Such a line is left unparsed for the trader to fix. Zero and more than 2**53 - 1
(the largest whole number a JSON reader keeps exactly) are no quantity either.
"""

from __future__ import annotations

import re

MAX_QUANTITY = 2**53 - 1
MAX_QUANTITY_CHARS = 40  # longer text is no quantity (and is never tried as one)

_GROUPED = re.compile(
    r"(\d{1,3})((?P<sep>[,.'\u2019 \u00a0\u202f\u2009])\d{3}(?:(?P=sep)\d{3})*)"
    r"(?:(?P<dec>[.,])(?P<frac>\d+))?"
)
_PLAIN = re.compile(r"(\d+)(?:[.,](?P<frac>\d+))?")
_DISTANCE = re.compile(r"(?:-|\d[\d,.'\u2019\s]*(?:m|km|AU))", re.IGNORECASE)
_FIGURE = re.compile(r"[-+\u2212]?[\d.,'\u2019 \u00a0\u202f\u2009]*\d")
_DATE = re.compile(r"\d{4}[.\-/]\d{2}[.\-/]\d{2}(?: \d{2}:\d{2}(?::\d{2})?)?")


def quantity(text: str) -> int | None:
    """The whole number of units `text` states, or None (see the module's rules)."""
    text = text.strip()
    if not text or len(text) > MAX_QUANTITY_CHARS or not text[0].isdigit():
        return None
    if text.isascii() and text.isdigit():
        return _bounded(int(text))
    grouped = _GROUPED.fullmatch(text)
    if grouped is not None:
        if grouped["dec"] is not None and grouped["dec"] == grouped["sep"]:
            return None
        digits = grouped[1] + re.sub(r"\D", "", grouped[2])
        return _whole(digits, grouped["frac"])
    plain = _PLAIN.fullmatch(text)
    if plain is not None and plain[1].isascii():
        return _whole(plain[1], plain["frac"])
    return None


def _whole(digits: str, fraction: str | None) -> int | None:
    if fraction is not None and fraction.strip("0"):
        return None
    return _bounded(int(digits))


def _bounded(value: int) -> int | None:
    return value if 1 <= value <= MAX_QUANTITY else None


def is_distance(text: str) -> bool:
    """A scanner's distance column: `3,225 m`, `12 km`, `10.4 AU`, or `-` (out of range)."""
    return _DISTANCE.fullmatch(text.strip()) is not None


def is_date(text: str) -> bool:
    """A date as the game writes it (`2017.10.11`), with the time or not (`... 17:28:00`)."""
    return _DATE.fullmatch(text.strip()) is not None


def is_number(text: str) -> bool:
    """Anything figure-like (`1.5`, `12'000`, `-3`), quantity or not."""
    return _FIGURE.fullmatch(text) is not None
