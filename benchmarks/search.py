"""Item search latency: p50/p95 in process and over HTTP, on the installed (full) SDE.

    .venv/bin/python benchmarks/search.py [--queries 600] [--seed 7]

The queries are what traders type, drawn with a fixed seed from the real market item names:
first letters of a name (3 to 8 characters), whole names in any case, two word prefixes, and
names with one typo (a dropped, doubled or swapped letter), plus a list of popular items.
"In process" calls the search function directly (index already loaded). "Over HTTP" starts
gunicorn on a free local port with the project's own settings and asks
/api/v1/items/search over a kept-alive connection, one request at a time.
Targets on the 2-core reference machine: p95 <= 10 ms in process, <= 30 ms over HTTP.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from standin.processes import free_port  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

POPULAR = [
    "Tritanium",
    "Pyerite",
    "Mexallon",
    "Isogen",
    "Nocxium",
    "Zydrine",
    "Megacyte",
    "PLEX",
    "Skill Injector",
    "Large Skill Injector",
    "Skill Extractor",
    "Multiple Pilot Training",
    "Caracal",
    "Raven",
    "Drake",
    "Gila",
    "Ishtar",
    "Tengu",
    "Nitrogen Isotopes",
    "Liquid Ozone",
    "Heavy Water",
    "Strontium Clathrates",
    "Compressed Veldspar",
    "Large Shield Extender II",
    "Damage Control II",
    "Warp Disruptor II",
    "Nanite Repair Paste",
]


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def make_queries(names: tuple[str, ...], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    queries = list(POPULAR)
    while len(queries) < count:
        name = rng.choice(names)
        kind = rng.random()
        if kind < 0.45:
            queries.append(name[: rng.randint(3, 8)].lower())
        elif kind < 0.6:
            queries.append(rng.choice([name, name.lower(), name.upper()]))
        elif kind < 0.8 and " " in name:
            words = name.split()
            start = rng.randrange(len(words) - 1)
            queries.append(" ".join(w[: rng.randint(2, 6)] for w in words[start : start + 2]))
        else:
            queries.append(typo(name.lower(), rng))
    return queries[:count]


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1 :]  # dropped letter
    if kind == 1:
        return word[:i] + word[i] + word[i:]  # doubled letter
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]  # swapped letters


def report(label: str, samples_ms: list[float], target_ms: float) -> None:
    p95 = percentile(samples_ms, 95)
    print(
        f"{label:<12} n={len(samples_ms):<5} p50={percentile(samples_ms, 50):6.2f} ms  "
        f"p95={p95:6.2f} ms  p99={percentile(samples_ms, 99):6.2f} ms  "
        f"max={max(samples_ms):6.2f} ms  mean={statistics.mean(samples_ms):6.2f} ms  "
        f"target p95<={target_ms:g} ms ({p95 / target_ms:.2f}x of target)"
    )


def bench_in_process(queries: list[str]) -> list[float]:
    from sde.search import get_index, search_items

    get_index()
    samples = []
    for query in queries:
        started = time.perf_counter()
        search_items(query, 10)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def bench_http(queries: list[str]) -> list[float]:
    import requests

    port = free_port()
    env = dict(
        os.environ,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        GUNICORN_ACCESSLOG="",
        RATE_LIMIT_ENABLED="false",  # the load comes from one address
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api/v1/items/search"
    session = requests.Session()
    session.headers["Accept"] = "application/json"
    try:
        for _ in range(100):
            try:
                if session.get(url, params={"q": "warm"}, timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        for query in POPULAR * 2:  # warm every worker's index
            session.get(url, params={"q": query}, timeout=5)
        samples = []
        for query in queries:
            started = time.perf_counter()
            response = session.get(url, params={"q": query}, timeout=5)
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
        return samples
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from sde.install import read_info
    from sde.search import get_index

    info = read_info(Path(settings.SDE_PATH))
    index = get_index()
    queries = make_queries(index.names, args.queries, args.seed)
    print(f"SDE: {info.build if info else settings.SDE_PATH}")
    print(f"{len(index.names)} published market items indexed; {len(queries)} queries")
    report("in process", bench_in_process(queries), 10)
    report("over HTTP", bench_http(queries), 30)


if __name__ == "__main__":
    main()
