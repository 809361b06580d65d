"""The answer of each profit operation, one shape for the API and the pages.

Both the API (profit/api/views.py) and the pages (profit/views.py) validate their input with
the same serializers, then call these functions: each runs the operation's selector
(`*_for(validated)` in profit/selectors.py) and wraps its result in the answer envelope the
API documents: the snapshots read (with their age), every parameter used (the engine's
defaults filled in), the skills, the rates, the permalink (the same question on these
snapshots) and, for lists, the page of rows with its counts and neighbours. The API renders
the envelope as JSON (or its rows as CSV); a page renders the same object as HTML.

Links are written by the caller, who knows where the question lives: `link(**changes)` is
the address of the question with some parameters changed (None drops one).

Every function raises `selectors.ProfitError` (with its HTTP status) when the question
cannot be answered, a page past the last included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from django.conf import settings

from profit import flags, selectors
from profit.engine import LazyRows
from profit.fees import Skills
from profit.params import SKILL_FIELDS, skills_json, snapshots_param


class Link(Protocol):
    """The address of this question with some parameters changed (None drops one)."""

    def __call__(self, **changes: Any) -> str: ...


# --- Lists: station trading and hauling ----------------------------------------------------


def station_trading(
    data: Mapping[str, Any], skills: Skills, source: str, *, link: Link, every_row: bool = False
) -> dict[str, Any]:
    """Station trading for validated StationTradingParams, as an answer."""
    result = selectors.station_trading_for(data, skills)
    defaults = selectors.station_parameters(selectors.station_filters(data))
    return list_answer(
        result,
        data,
        skills=skills,
        source=source,
        parameters=_parameters(data, defaults),
        extra={"station": result["station"]},
        link=link,
        every_row=every_row,
    )


def hauling(
    data: Mapping[str, Any], skills: Skills, source: str, *, link: Link, every_row: bool = False
) -> dict[str, Any]:
    """Hauling for validated HaulingParams, as an answer."""
    result = selectors.hauling_for(data, skills)
    defaults = selectors.hauling_parameters(selectors.hauling_params(data))
    return list_answer(
        result,
        data,
        skills=skills,
        source=source,
        parameters={
            **_parameters(data, defaults),
            "from": ",".join(str(i) for i in data["from"]),
            "to": ",".join(str(i) for i in data["to"]),
        },
        extra={"from": result["from"], "to": result["to"]},
        link=link,
        every_row=every_row,
    )


def list_answer(
    result: Mapping[str, Any],
    data: Mapping[str, Any],
    *,
    skills: Skills,
    source: str,
    parameters: dict[str, Any],
    extra: Mapping[str, Any],
    link: Link,
    every_row: bool = False,
) -> dict[str, Any]:
    """A page of rows (every row when `every_row`: the CSV of a whole list, left lazy for
    the caller to stream) with the snapshots, parameters, skills, rates and permalink of the
    answer, then `extra` (the places searched) before the rows.

    An answer offers at most the top `PROFIT_MAX_ROWS` ranked rows: `count` and the pages
    cover those, and `truncated` (present only then) says how many there were."""
    ranked = result["rows"]
    rows, truncated = capped(ranked)
    page_rows: Sequence[dict[str, Any]]
    if every_row:
        page_rows, info = rows, {"count": len(rows), "page": 1, "page_size": max(len(rows), 1)}
        info["pages"] = 1
    else:
        page_rows, info = selectors.paginate(rows, data["page"], data["page_size"])
    pinned = selectors.permalink_snapshots(result["snapshots"])
    return {
        "snapshots": selectors.freshness(result["snapshots"]),
        "parameters": parameters,
        "skills": skills_json(skills, source, result["rates"]),
        "rates": result["rates"],
        "permalink": link(snapshots=pinned, page=None, format=None),
        "total": result["total"],
        "hidden": result.get("hidden", {}),
        **({"volumes": result["volumes"]} if "volumes" in result else {}),
        **info,
        "next": link(page=info["page"] + 1) if info["page"] < info["pages"] else None,
        "previous": link(page=info["page"] - 1) if info["page"] > 1 else None,
        **extra,
        **({"truncated": truncated} if truncated else {}),  # only when cut
        "results": page_rows,
    }


def capped(rows: LazyRows) -> tuple[LazyRows, dict[str, Any] | None]:
    """The first `PROFIT_MAX_ROWS` rows (a lazy slice: nothing is made here) and what the
    cap cut, or None when it cut nothing."""
    cap = max(1, int(settings.PROFIT_MAX_ROWS))
    if len(rows) <= cap:
        return rows, None
    return rows.head(cap), {
        "rows": cap,
        "ranked": len(rows),
        "reason": "PROFIT_MAX_ROWS",
        "message": (
            f"Only the top {cap:,} of {len(rows):,} ranked rows are offered "
            "(PROFIT_MAX_ROWS); narrow the search or raise the filters for the rest."
        ),
    }


def _parameters(data: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter of the answer with its value (the engine's defaults filled in)."""
    out = {**defaults}
    for name, value in data.items():
        if name in SKILL_FIELDS or name in ("page", "page_size"):
            continue
        out[name] = snapshots_param(value) if name == "snapshots" else value
    if "hide" in out:
        out["hide"] = flags.hide_param(out["hide"])
    return out


# --- The trade calculator ------------------------------------------------------------------


def calculation(
    data: Mapping[str, Any],
    skills: Skills,
    source: str,
    *,
    permalink: Callable[[dict[str, Any]], str],
) -> dict[str, Any]:
    """One trade for a validated CalculateIn body, as an answer. `permalink(question)` is
    the address of the calculator page asking `question` (every parameter, the skills that
    were given and the snapshots read)."""
    result = selectors.calculate_for(data, skills)
    parameters = {k: v for k, v in data.items() if k not in ("skills", "snapshots")}
    parameters.update(result["route"])
    if "snapshots" in data:
        parameters["snapshots"] = snapshots_param(data["snapshots"])
    question = {
        **{k: v for k, v in parameters.items() if k != "snapshots"},
        **{k: v for k, v in (data.get("skills") or {}).items() if v is not None},
        "snapshots": selectors.permalink_snapshots(result["snapshots"]),
    }
    return {
        "snapshots": selectors.freshness(result["snapshots"]),
        "parameters": parameters,
        "skills": skills_json(skills, source, result["breakdown"]["rates"]["statement"]),
        "buy_location": result["buy_location"],
        "sell_location": result["sell_location"],
        "breakdown": result["breakdown"],
        "permalink": permalink(question),
    }
