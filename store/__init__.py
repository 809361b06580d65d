"""The shared key-value store: what the web, worker and beat processes share besides the
database.

Market snapshots, ESI budgets and circuit state, refresh locks and progress all live here.
With `REDIS_URL` it is Redis; without it (the embedded default) it is files under
`VAR_DIR/store`, which every process on the machine shares and which need no server. Both
implement the same small interface: bytes values with optional expiry, JSON helpers, and
named locks that are released by themselves when their holder dies.
"""

from store.base import Lock, LockHeld, Store
from store.factory import get_store, reset_store

__all__ = ["Lock", "LockHeld", "Store", "get_store", "reset_store"]
