"""The project's settings with the benchmark URL map: the whole app plus one bare view."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bench_urls"
