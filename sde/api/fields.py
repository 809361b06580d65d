"""Input fields shared by every API's query parameters (sde is the lowest app, so market,
profit and characters can use them)."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

# What DRF's IntegerField reads, in ASCII only: an optional minus sign, digits and a ".0"
# tail. DRF passes the text to int(), which also reads other scripts' digits (sde/ids.py).
_ASCII_INTEGER = re.compile(r"-?[0-9]+(?:\.0*)?")


class AsciiIntegerField(serializers.IntegerField):
    """An IntegerField that refuses digits outside ASCII with its "invalid" message."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str) and not _ASCII_INTEGER.fullmatch(data.strip(" ")):
            self.fail("invalid")
        value: int = super().to_internal_value(data)
        return value
