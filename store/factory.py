"""One store per process, chosen by the settings: Redis with REDIS_URL, files without."""

from __future__ import annotations

import threading

from django.conf import settings

from store.base import Store
from store.file_store import FileStore
from store.redis_store import RedisStore

_lock = threading.Lock()
_store: Store | None = None


def get_store() -> Store:
    global _store
    if _store is None:
        with _lock:
            if _store is None:
                _store = _make()
    return _store


def reset_store() -> None:
    """Forget the process's store (tests that change REDIS_URL or VAR_DIR call this)."""
    global _store
    _store = None


def _make() -> Store:
    if settings.REDIS_URL:
        return RedisStore(settings.REDIS_URL, prefix=f"{settings.STORE_KEY_PREFIX}:")
    return FileStore(settings.VAR_DIR / "store")
