"""URL converter for EVE ids: digits that fit SQLite's 64-bit integer, else no match (404)."""

from django.urls import register_converter


class EveIdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number >= 2**63:
            raise ValueError("id out of range")
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(EveIdConverter, "eveid")
