"""What the profit forms' place pickers and item filters show, as template tags (the views
pass ids; these name them and list the choices).

- `{{ "30002659,10000032"|place_name }}`: each id's name (sde.places), comma separated;
- `{% if "hauling"|accepts:"market_group_id" %}`: whether that page's API parameters have the
  field (the hauling form shows the item filters once its API takes them);
- `{% item_filter_choices values.market_group_id as choices %}`: the item categories that
  have market types, and the market groups offered (each top-level group and its direct
  sub-groups, plus the submitted group wherever it is in the tree).
"""

from __future__ import annotations

from typing import Any

from django import template

from config.api import field_names
from profit.api import serializers as api
from sde.ids import is_ascii_number
from sde.models import InvCategory, InvType
from sde.places import describe
from sde.selectors import market_group_path, market_group_tree, per_installed_sde

register = template.Library()


@register.filter
def place_name(value: Any) -> str:
    """ "60003760" -> "Jita IV - Moon 4 - Caldari Navy Assembly Plant"; several ids, comma
    separated, are named in turn; text that is no id is shown as it is."""
    names = []
    for part in str(value or "").split(","):
        part = part.strip()
        if not part:
            continue
        names.append(describe(int(part)).name if is_ascii_number(part) else part)
    return ", ".join(names)


PAGE_PARAMS = {"station-trading": api.StationTradingParams, "hauling": api.HaulingParams}


@register.filter
def accepts(page: str, field: str) -> bool:
    """Whether the API parameters of a list page ("station-trading", "hauling") have `field`."""
    params = PAGE_PARAMS.get(page)
    return params is not None and field in field_names(params)


@per_installed_sde
def _market_categories() -> list[dict[str, Any]]:
    ids = set(
        InvType.objects.filter(published=True, market_group_id__isnull=False).values_list(
            "group__category_id", flat=True
        )
    )
    rows = InvCategory.objects.filter(category_id__in=ids).values_list(
        "category_id", "category_name"
    )
    return sorted(
        ({"id": cid, "name": name or f"Category {cid}"} for cid, name in rows), key=_by_name
    )


def _by_name(row: dict[str, Any]) -> str:
    return str(row["name"]).lower()


@per_installed_sde
def _market_group_choices() -> list[dict[str, Any]]:
    """Each top-level market group with its direct sub-groups."""
    return [
        {
            "id": root["id"],
            "name": root["name"],
            "children": [{"id": c["id"], "name": c["name"]} for c in root["children"]],
        }
        for root in market_group_tree()
    ]


@register.simple_tag
def item_filter_choices(market_group_id: Any = None) -> dict[str, Any]:
    """The category and market group choices; `extra` is the submitted market group when the
    list does not hold it (a deeper group, from an item page's link), named by its path."""
    groups = _market_group_choices()
    extra = None
    text = str(market_group_id or "").strip()
    if is_ascii_number(text):
        offered = {g["id"] for g in groups} | {c["id"] for g in groups for c in g["children"]}
        if int(text) not in offered:
            path = market_group_path(int(text))
            extra = {
                "id": int(text),
                "name": " > ".join(p["name"] for p in path) or f"Market group {text}",
            }
    return {"categories": _market_categories(), "groups": groups, "extra": extra}
