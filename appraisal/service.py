"""An appraisal from start to end: read the paste, price it at a market, keep it if asked.

`appraise(...)` is the one operation the API, evepraisal's routes and the page share: the
text (or the structured items evepraisal's `structured.json` takes) is read
(appraisal/parsing.py), its lines merged by type, priced at the market (appraisal/prices.py)
with the trader's skills, and, unless `persist` is off, stored with a short code
(`Appraisal`), readable at `/appraisals/<code>` until it expires; a private one only with
its link token. `read(code, token)` gives a stored one back.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from appraisal import parsing
from appraisal.formats.numbers import MAX_QUANTITY
from appraisal.markets import Market, UnknownMarket, resolve_market
from appraisal.models import Appraisal
from appraisal.names import match_name
from appraisal.prices import merge_lines, price_lines, totals
from config import slots
from market.api.serializers import MAX_ID
from profit import fees, selectors
from profit.engine import type_table
from profit.fees import Skills

CODE_ALPHABET = string.ascii_letters + string.digits
PRIVATE_SOURCE = re.compile(r"^character: [^,]*?(?=( with overrides|$))")
CODE_LENGTH = 8
# What a stored appraisal's code can be (anything else is no query: 404 at once).
CODE = re.compile(rf"[A-Za-z0-9]{{1,{Appraisal._meta.get_field('code').max_length}}}")


class AppraisalError(Exception):
    """A request the appraisal cannot answer; `status` is its HTTP status."""

    status = 400

    def __init__(self, message: str, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class Gone(AppraisalError):
    def __init__(self, message: str) -> None:
        super().__init__(message, 410)


@dataclass(frozen=True)
class Options:
    """What a request asks besides the list: where, at what rate, kept or not."""

    market: str | None = None
    percentage: float = 100.0
    persist: bool = True
    private: bool = False
    expire_days: int | None = None


def check_options(options: Options) -> None:
    if not 0 <= options.percentage <= 1000:
        raise AppraisalError("percentage must be between 0 and 1000 (100: the prices as they are).")
    days = options.expire_days
    if days is not None and not 1 <= days <= int(settings.APPRAISAL_MAX_DAYS):
        raise AppraisalError(
            f"expire_days must be between 1 and {settings.APPRAISAL_MAX_DAYS} "
            f"(default {settings.APPRAISAL_DAYS})."
        )


def read_text(text: str) -> parsing.Parsed:
    """The paste read, within APPRAISAL_MAX_LINES lines (NUL characters, which no game
    window writes and the database refuses, are dropped first)."""
    text = text.replace("\x00", "")
    lines = len(parsing.LINE_BREAK.split(text))  # as parsing counts them (a text box too)
    if lines > int(settings.APPRAISAL_MAX_LINES):
        raise AppraisalError(
            f"The paste has {lines:,} lines; at most {settings.APPRAISAL_MAX_LINES:,} are "
            "appraised at once (APPRAISAL_MAX_LINES). Split it."
        )
    return parsing.parse(text)


def structured(entries: Sequence[Mapping[str, Any]]) -> parsing.Parsed:
    """evepraisal's structured items ({"name"} or {"type_id"}, optional "quantity"), read as
    a paste is: an unknown name or id, or a bad quantity, is an unparsed line."""
    if len(entries) > int(settings.APPRAISAL_MAX_LINES):
        raise AppraisalError(f"At most {settings.APPRAISAL_MAX_LINES:,} items at once.")
    items, unparsed = [], []
    for n, entry in enumerate(entries, 1):
        found = _structured_item(entry, n)
        if found is None:
            shown = str(dict(entry)) if isinstance(entry, Mapping) else str(entry)
            unparsed.append(parsing.Unparsed(n, shown.replace("\x00", "")))
        else:
            items.append(found)
    return parsing.Parsed(items=items, unparsed=unparsed, kind="structured")


def _structured_item(entry: Any, n: int) -> parsing.Item | None:
    if not isinstance(entry, Mapping):
        return None
    quantity = entry.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        return None
    if not 1 <= quantity <= MAX_QUANTITY:
        return None
    type_id = entry.get("type_id", entry.get("typeID"))
    if isinstance(type_id, int) and not isinstance(type_id, bool):
        if not 0 < type_id <= MAX_ID:
            return None
        table = type_table()
        _, known = table.index([type_id])
        if not bool(known[0]):
            return None
        return parsing.Item(
            type_id, table.name(type_id), quantity, "structured", n, str(type_id), False
        )
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        return None
    matched = match_name(name)
    if matched is None:
        return None
    found_id, found_name, guess = matched
    return parsing.Item(found_id, found_name, quantity, "structured", n, name, guess)


def appraise(
    read: parsing.Parsed,
    options: Options,
    skills: Skills,
    skills_source: str,
    *,
    raw: str = "",
) -> dict[str, Any]:
    """The whole appraisal of what was read, stored unless `options.persist` is off."""
    check_options(options)
    try:
        market = resolve_market(options.market)
    except UnknownMarket as exc:
        raise AppraisalError(str(exc)) from exc
    except selectors.ProfitError as exc:
        raise AppraisalError(str(exc), exc.status) from exc
    try:
        with slots.heavy_slot():
            answer = _answer(read, market, options, skills, skills_source)
    except slots.Busy as exc:
        raise AppraisalError(str(exc), 503, exc.retry_after) from exc
    if options.persist:
        _store(answer, options, raw)
    return answer


def _answer(
    read: parsing.Parsed,
    market: Market,
    options: Options,
    skills: Skills,
    skills_source: str,
) -> dict[str, Any]:
    schedule = fees.schedule_on()
    market_lines = [item for item in read.items if not item.bpc]
    merged = merge_lines((item.type_id, item.quantity) for item in market_lines)
    merged_copies = merge_lines((i.type_id, i.quantity) for i in read.items if i.bpc)
    for line in (*merged, *merged_copies):
        if line.quantity > MAX_QUANTITY:
            raise AppraisalError(
                f"The lines of {type_table().name(line.type_id)} add up to more than "
                f"{MAX_QUANTITY:,} units: appraise fewer."
            )
    priced = price_lines(merged, market, skills, schedule)
    copies = price_lines(merged_copies, market, skills, schedule)
    by_type: dict[tuple[int, bool], list[parsing.Item]] = {}
    for item in read.items:
        by_type.setdefault((item.type_id, item.bpc), []).append(item)
    items = [_with_lines(entry, by_type[entry["type_id"], False]) for entry in priced]
    items += [_copy(entry, by_type[entry["type_id"], True]) for entry in copies]
    return {
        "code": None,
        "permalink": None,
        "json_url": None,
        "private": options.private,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "expires_at": None,
        "market": market.json(),
        "kind": read.kind,
        "percentage": options.percentage,
        "skills": {
            # a public appraisal is shown to anyone with its link: it names no character
            "source": skills_source
            if options.private or not options.persist
            else PRIVATE_SOURCE.sub("character", skills_source),
            "sales_tax": fees.sales_tax_rate(skills, schedule),
        },
        "totals": totals(items, options.percentage),
        "items": items,
        "unparsed": [{"line": u.line, "text": u.text} for u in read.unparsed],
        "snapshots": selectors.freshness([snapshot for snapshot, _ in market.books]),
    }


def _with_lines(entry: dict[str, Any], mine: Sequence[parsing.Item]) -> dict[str, Any]:
    """A priced type with the lines that named it: their numbers, parsers and names."""
    return {
        **entry,
        "lines": [item.line for item in mine],
        "parsers": sorted({item.parser for item in mine}),
        "typed": mine[0].typed if mine else entry["name"],
        "guess": any(item.guess for item in mine),
        "bpc": False,
        "runs": None,
        "note": "The name was matched approximately: check it."
        if any(item.guess for item in mine)
        else None,
    }


def _copy(entry: dict[str, Any], copies: Sequence[parsing.Item]) -> dict[str, Any]:
    """A blueprint copy: the market sells originals only, so a copy is worth nothing there."""
    shown = _with_lines(entry, copies)
    runs = [item.runs for item in copies if item.runs]
    zero = {"buy": 0.0, "sell": 0.0, "split": 0.0}
    return {
        **shown,
        "bpc": True,
        "runs": sum(runs) if runs else None,
        "values": zero,
        "isk_per_m3": {"buy": None, "sell": None},
        "net": {
            "sell_now": {
                "units": 0,
                "unsold": entry["quantity"],
                "gross": 0.0,
                "sales_tax": 0.0,
                "net": 0.0,
            },
            "list": None,
            "list_note": "A blueprint copy is not sold on the market.",
        },
        "note": "A blueprint copy: the market trades originals only, so it is valued at 0.",
    }


def _store(answer: dict[str, Any], options: Options, raw: str) -> None:
    days = options.expire_days or int(settings.APPRAISAL_DAYS)
    expires = datetime.now(UTC) + timedelta(days=days)
    token = secrets.token_urlsafe(12) if options.private else ""
    for _ in range(5):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        query = f"?token={token}" if token else ""
        answer.update(
            code=code,
            permalink=reverse("appraisal", args=[code]) + query,
            json_url=reverse("api-appraisal", args=[code]) + query,
            expires_at=expires.isoformat(timespec="seconds"),
        )
        try:
            with transaction.atomic():
                Appraisal.objects.create(
                    code=code,
                    expires_at=expires,
                    private=options.private,
                    token=token,
                    market_name=str(answer["market"]["name"]),
                    kind=str(answer["kind"]),
                    raw=raw.replace("\x00", ""),  # PostgreSQL text holds no NUL
                    answer=answer,
                )
            return
        except IntegrityError:
            continue  # that code was taken: draw another
    raise AppraisalError("Could not store the appraisal; try again.", 503)


def read(code: str, token: str | None) -> tuple[dict[str, Any], str]:
    """A stored appraisal's answer and raw text; 404 for an unknown code or a private one
    without its token, 410 once it expired."""
    found = Appraisal.objects.filter(code=code).first() if CODE.fullmatch(code) else None
    if found is None or (found.private and not secrets.compare_digest(token or "", found.token)):
        raise AppraisalError(
            f"No appraisal {code!r} (or it is private: its link has a token).", 404
        )
    if found.expires_at <= datetime.now(UTC):
        raise Gone(f"Appraisal {code} expired on {found.expires_at:%Y-%m-%d %H:%M} UTC.")
    return dict(found.answer), found.raw


def forget_expired() -> int:
    """Delete the appraisals past their expiry; how many."""
    deleted, _ = Appraisal.objects.filter(expires_at__lte=datetime.now(UTC)).delete()
    return deleted
