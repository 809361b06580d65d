"""What the market app tells the apps above it, without knowing they exist.

`snapshot_published`: a refresh by the worker (`market.tasks.refresh_region_task`) published a
new snapshot of a region. Sent with `region_id` and `generation` (the new snapshot's). The
profit app recomputes its opportunity boards on it (profit/apps.py).
"""

from __future__ import annotations

from django.dispatch import Signal

snapshot_published = Signal()
