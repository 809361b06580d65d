"""CCP's id ranges: which kind of thing a location id names (plain constants, no Django, so
the demo market generator and the stand-ins can use them outside the app)."""

REGION_IDS = range(10_000_000, 14_000_000)
SYSTEM_IDS = range(30_000_000, 34_000_000)
STATION_IDS = range(60_000_000, 64_000_000)
STRUCTURE_ID_MIN = 1_000_000_000_000  # Upwell structures, from here on

# A number as a client writes it: ASCII digits only. Python's int() also reads other scripts'
# digits (Arabic-Indic three U+0663, fullwidth 600 U+FF16 U+FF10 U+FF10) and str.isdigit()
# says yes to a superscript two, which int() then refuses; no client means them, so they are
# bad input (a 400), never an id.
ASCII_DIGITS = frozenset("0123456789")


def is_ascii_number(text: str) -> bool:
    """True for "60003760", false for "", "-1", " 7" and any digit outside ASCII."""
    return bool(text) and all(c in ASCII_DIGITS for c in text)


def parse_ascii_id(text: str) -> int:
    """The number `text` spells in ASCII digits (surrounding spaces allowed), else ValueError."""
    stripped = text.strip(" ")
    if not is_ascii_number(stripped):
        raise ValueError(f"not a number in ASCII digits: {text[:30]!r}")
    return int(stripped)
