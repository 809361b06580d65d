"""`?format=csv` on every profit list: the rows of the answer only, one line per row, with a
header line of the row keys (in the order the API gives them).

A page of rows is rendered at once (`CSVRenderer`); the CSV of every row is streamed
(`csv_stream`): rows are made a thousand at a time as they are written, and the stream stops
at the answer's row cap or its time budget with a last line that says so."""

from __future__ import annotations

import csv
import io
import itertools
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        rows = data.get("results", []) if isinstance(data, Mapping) else data or []
        return csv_bytes(rows)


def csv_bytes(rows: list[Mapping[str, Any]]) -> bytes:
    """Rows as CSV: columns in the first row's key order (then any key a later row adds);
    None is an empty cell, floats keep full precision, nested values are not expected."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if columns:
        writer.writerow(columns)
    for row in rows:
        writer.writerow(_cell(row.get(name)) for name in columns)
    return out.getvalue().encode()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return value


CHUNK = 1000  # rows made and written at a time


def truncation_line(written: int, ranked: int, why: str) -> str:
    """The last line of a CSV that was cut: how many rows it holds of how many, and why."""
    return f"# truncated: {written} of {ranked} rows written ({why})"


def csv_stream(
    rows: Iterable[Mapping[str, Any]],
    *,
    ranked: int,
    cap_reason: str | None = None,
    deadline: float | None = None,
) -> Iterator[bytes]:
    """Rows as CSV, a chunk at a time: columns in the first chunk's key order (the rows of
    one answer share their keys). At least one chunk is written; past `deadline`
    (time.monotonic()) the stream stops. When fewer than `ranked` rows were written, a last
    line says so (`cap_reason` names the cap that cut a complete stream)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns: list[str] | None = None
    written = 0
    source = iter(rows)
    why = cap_reason or ""
    while chunk := list(itertools.islice(source, CHUNK)):
        if columns is None:
            seen: dict[str, None] = {}
            for row in chunk:
                seen.update(dict.fromkeys(row))
            columns = list(seen)
            writer.writerow(columns)
        for row in chunk:
            writer.writerow(_cell(row.get(name)) for name in columns)
        written += len(chunk)
        yield _drain(out)
        if deadline is not None and time.monotonic() > deadline and written < ranked:
            why = "PROFIT_TIME_BUDGET: the time this export may take ran out"
            break
    if written < ranked:
        writer.writerow([truncation_line(written, ranked, why or "cut")])
        yield _drain(out)


def _drain(out: io.StringIO) -> bytes:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text.encode()
