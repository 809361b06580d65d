"""The formats a paste is read in, one reader per format (docs/appraisal-parsing.md).

A reader is a pure function of one line (and, for the formats made of blocks, the block it
is in): it answers the ways the line can be read, best first, each a tuple of `Reading`s
(a fitting's module line with its charge gives two). It knows shapes, not names: the parser
(appraisal/parsing.py) keeps the first way whose names are all types of the SDE. An empty
tuple is a line the format recognises that names no item (a header, a killmail's "Corp:"
line, an empty slot); no way at all is a line the format does not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reading:
    """An item as a line states it: the name as pasted and how many."""

    typed: str
    quantity: int = 1
    bpc: bool = False
    runs: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    type_id: int | None = None  # the id the line itself carries (d-scan, ledgers, industry)


Way = tuple[Reading, ...]
NOTHING: Way = ()  # a line read that names no item
