"""gunicorn settings; every value can be overridden from the environment."""

import multiprocessing
import os

from config.metrics import mark_process_dead
from market.publish import warm

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# One request at a time per worker process (gunicorn's sync worker): on a 2-core machine at
# 64 connections the order book's p99 was 43 ms with 5 workers x 1 thread against 128-245 ms
# with 5 workers x 2 threads (docs/benchmarks.md). Nothing holds a connection open (open
# pages poll for new boards), so threads buy no concurrency worth their tail latency.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
# Workers are not recycled by default. Recycling throws away a worker's loaded snapshots
# and everything it keeps, and the workers, which share requests evenly, reach the count
# together: the abusive clients of benchmarks/users.py (1,200 refused requests a second)
# recycled all five within 5 s, and the people's p95 went to 1.1 s while they warmed up.
# Every cache a worker holds is bounded (docs/benchmarks.md, Soak). An operator who wants
# recycling sets a count; a jitter of half of it keeps the workers apart.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 2
# Requests are logged by the app (JSON, with the request id); "-" adds gunicorn's own lines.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "") or None
preload_app = True


def post_worker_init(worker: object) -> None:
    """Load the tracked regions' current snapshots before this worker takes requests, so a
    new or recycled worker answers its first market requests as fast as the others."""
    warm()


def child_exit(server: object, worker: object) -> None:
    """A worker is gone: drop its live figures from the shared metrics folder."""
    mark_process_dead(worker.pid)  # type: ignore[attr-defined]
