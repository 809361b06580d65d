"""The project's settings with the benchmark URL map: the whole app plus one bare view."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bench_urls"
# The load comes from one address: per-client rate limits would answer it 429.
RATE_LIMIT_ENABLED = False
