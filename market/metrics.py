"""Each tracked region's snapshot age and staleness as Prometheus gauges, read from the
shared store at each scrape (so any web instance answers for the whole deployment).

`snapshot_gauges` is a store reader for `config.metrics.read_at_scrape`, registered in
market/apps.py. What the market app counts as it works (snapshot cache hits) goes through
`config.metrics.cache_lookup`.
"""

from __future__ import annotations

from django.conf import settings

from config.metrics import MakeGauge
from market import publish


def snapshot_gauges(gauge: MakeGauge) -> None:
    age = gauge(
        "market_snapshot_age_seconds",
        "Seconds since the region's published snapshot was fetched from ESI.",
        ["region_id", "source"],
    )
    stale = gauge("market_snapshot_stale", "1 when the region's snapshot is stale.", ["region_id"])
    for region_id in settings.MARKET_REGIONS:
        meta = publish.current_meta(region_id)
        if meta is None:
            continue
        fresh = publish.freshness(meta)
        if fresh.get("age_seconds") is not None:
            age.add_metric([str(region_id), meta.source], float(fresh["age_seconds"]))
        stale.add_metric([str(region_id)], 1.0 if fresh.get("stale") else 0.0)
