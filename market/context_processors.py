"""`market_site` in every template: the site-wide market banner and the tracked hubs.

Both parts are read lazily, the first time a template uses them: the banner (base.html, every
page) reads the small snapshot metas from the store, never a snapshot; the hubs (item page
only) read region and station names from the SDE.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest

from market.views import banner_state, tracked_hubs


class MarketSite:
    @cached_property
    def banner(self) -> dict[str, Any]:
        return banner_state()

    @cached_property
    def hubs(self) -> list[dict[str, Any]]:
        return tracked_hubs()


def market(request: HttpRequest) -> dict[str, Any]:
    return {"market_site": MarketSite()}
