"""What a profit page's form submitted, checked by the API's own serializers.

A page asks percentages in percent (`min_margin_pct`) and passes them on as the API's
fractions (`min_margin`); every other field has the API parameter's name. The form's values
(the defaults where nothing was submitted) are also what the page's links are written from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from rest_framework import serializers

from config.api import field_names
from market import structures
from market.views import tracked_hubs
from profit.api import serializers as s
from profit.params import SKILL_FIELDS
from sde.ids import is_ascii_number
from sde.places import resolve
from sde.search import search_items

# Page fields in percent -> the API's fraction parameters.
PERCENT_FIELDS = {
    "min_margin_pct": "min_margin",
    "max_margin_pct": "max_margin",
    "min_roi_pct": "min_roi",
}
SKILL_INPUTS = (
    {"name": "accounting", "label": "Accounting", "levels": ("1", "2", "3", "4", "5")},
    {"name": "broker_relations", "label": "Broker Relations", "levels": ("1", "2", "3", "4", "5")},
    {
        "name": "advanced_broker_relations",
        "label": "Advanced Broker Relations",
        "levels": ("1", "2", "3", "4", "5"),
    },
    {"name": "faction_standing", "label": "Faction standing", "levels": ()},
    {"name": "corp_standing", "label": "Corporation standing", "levels": ()},
)


def form_input(request: HttpRequest, defaults: Mapping[str, Any]) -> dict[str, str]:
    """The submitted fields (empty ones dropped), the defaults where nothing was submitted."""
    given = {k: str(request.GET.get(k, "")).strip() for k in request.GET}
    given = {k: v for k, v in given.items() if v != ""}
    return {**{k: str(v) for k, v in defaults.items()}, **given}


def validate(
    params: type[serializers.Serializer], values: Mapping[str, str]
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Validate page fields with an API serializer: (data, {}) or (None, field -> message)."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for page_name, api_name in PERCENT_FIELDS.items():
        if page_name in values:
            try:
                data[api_name] = float(values[page_name]) / 100
            except ValueError:
                errors[page_name] = "Enter a number (percent)."
    fields = field_names(params)
    data.update({k: v for k, v in values.items() if k in fields and k not in PERCENT_FIELDS})
    serializer = params(data=data)
    valid = serializer.is_valid()
    if errors or not valid:
        back = {api: page for page, api in PERCENT_FIELDS.items()}
        for name, messages in (serializer.errors if not valid else {}).items():
            text = (
                " ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
            )
            errors[back.get(name, name)] = text
        return None, errors
    return dict(serializer.validated_data), {}


def flat_errors(errors: Mapping[str, Any]) -> dict[str, str]:
    """A serializer's errors as field -> message (a nested object's under its own names)."""
    flat: dict[str, str] = {}
    for name, messages in errors.items():
        if isinstance(messages, Mapping):
            flat.update(flat_errors(messages))
        else:
            flat[name] = " ".join(str(m) for m in messages)
    return flat


def query(values: Mapping[str, Any], **changes: Any) -> str:
    """The form's values as a query string, some changed (None drops one)."""
    out = {k: str(v) for k, v in values.items() if v not in (None, "")}
    for name, value in changes.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = str(value)
    return urlencode(out)


def api_params(values: Mapping[str, str]) -> dict[str, str]:
    """Page fields as API parameters (percent fields as fractions)."""
    out = {k: v for k, v in values.items() if k not in PERCENT_FIELDS}
    for page_name, api_name in PERCENT_FIELDS.items():
        if page_name in values:
            with suppress(ValueError):
                out[api_name] = repr(float(values[page_name]) / 100)
    return out


# --- Places and items ----------------------------------------------------------------------


def places() -> dict[str, list[dict[str, Any]]]:
    """The places the forms offer: each tracked hub station, each structure whose market
    members share (hubs first), and each tracked region."""
    hubs = tracked_hubs()
    shared = [k for k in structures.hubs() if k.shared] + structures.shared()
    return {
        "hubs": [
            {"id": h["hub_id"], "name": h["hub_name"], "region": h["region_name"]}
            for h in hubs
            if h["hub_id"]
        ],
        "structures": [
            {"id": k.structure_id, "name": resolve(k.structure_id).name}
            for k in dict.fromkeys(shared)
        ],
        "regions": [{"id": h["region_id"], "name": h["region_name"]} for h in hubs],
    }


def default_hub(offered: Mapping[str, Any], position: int = 0) -> int | None:
    """The offered hub at `position` (the last one when there are fewer), None without hubs."""
    hubs = [h["id"] for h in offered["hubs"]]
    if not hubs:
        return None
    return hubs[min(position, len(hubs) - 1)]


def unlisted(offered: Mapping[str, Sequence[Mapping[str, Any]]], value: str | None) -> str | None:
    """A submitted place the pickers do not offer (shown as "From the link"), else None."""
    known = {str(p["id"]) for group in offered.values() for p in group}
    return value if value not in known else None


def item(text: str) -> tuple[int | None, list[dict[str, Any]]]:
    """A type id from "34" or "Tritanium" (the best match; the others as suggestions)."""
    if is_ascii_number(text):
        return int(text), []
    hits = search_items(text, 6)
    if not hits:
        return None, []
    best, others = hits[0], hits[1:]
    return best.type_id, [{"type_id": h.type_id, "name": h.type_name} for h in others]


def calculator_body(values: Mapping[str, str], type_id: int) -> dict[str, Any]:
    """The calculator form as the API's CalculateIn body (skills as its nested object)."""
    body: dict[str, Any] = {
        k: v
        for k, v in values.items()
        if k in field_names(s.CalculateIn) and k not in ("skills", "type_id")
    }
    body["type_id"] = type_id
    skills = {k: values[k] for k in SKILL_FIELDS if k in values}
    if skills:
        body["skills"] = skills
    return body
