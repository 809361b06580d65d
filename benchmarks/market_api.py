"""Order-book API throughput and latency under load, against a bare Django view.

    .venv/bin/python benchmarks/market_api.py [--forge-orders 380000] [--types 50]
        [--connections 64] [--duration 8] [--rounds 6] [--workers N] [--threads N]

1. Publishes generated books of the five trade-hub regions into the store (Redis when
   REDIS_URL is set, the benchmark's normal mode, else the file store), under a key prefix
   of its own: The Forge with 380,000 orders, the other hubs with fewer.
2. Starts gunicorn with the project's config/gunicorn.py (workers and threads from
   --workers/--threads, or its defaults) and benchmarks/bench_settings.py, i.e. the whole
   project plus one bare Django view, `/bench/bare` (a function returning a small
   JsonResponse: no DRF, no store, no database; the same middleware).
3. Load-tests both with wrk (Debian's package; installed here when missing and running as
   root) at the same number of connections: `GET /api/v1/market/orders/10000002/{type}`
   rotating over the types with the most orders in the Forge book (a wrk Lua script picks the
   next path per request; wrk's own --latency gives the percentiles), and `/bench/bare`
   through the same kind of script. After a warm-up of both, each round measures the bare
   view and the order book back to back, in turns first; every round is printed with the
   CPU each party used, then the medians (the ratio is the median of the rounds' ratios)
   over the rounds during which other processes used at most 0.15 of a core: on a shared
   2-core machine anything else running skews the figures.

Targets on the 2-core reference machine, at 64 connections: order book requests per second
>= 0.6x the bare view's, and order book p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store import Store

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from standin.processes import free_port  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The benchmark's own keys, so it never replaces the snapshots of a running installation.
os.environ["STORE_KEY_PREFIX"] = "bench-market-api"

FORGE = 10000002
# Orders per hub region: The Forge at its real size, the others smaller (as in the game).
HUB_ORDERS = {
    FORGE: 380_000,
    10000043: 90_000,
    10000032: 60_000,
    10000030: 40_000,
    10000042: 45_000,
}
TARGET_RATIO = 0.6
TARGET_P99_MS = 50.0
# A round during which other processes used more than this many cores is left out of the
# medians (when at least half the rounds are clean).
NOISE_CORES = 0.15


@dataclass(frozen=True)
class CpuShares:
    """Cores used during a run (1.0 = one core busy all the time), by who used them."""

    gunicorn: float
    redis: float
    wrk: float
    others: float  # anything else on the machine: figures taken while this is high are noise

    def line(self) -> str:
        return (
            f"cores used: gunicorn {self.gunicorn:.2f}, redis {self.redis:.2f}, "
            f"wrk {self.wrk:.2f}, other processes {self.others:.2f}"
        )


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: str  # wrk's lines about socket errors and non-2xx answers, if any
    cpu: CpuShares

    def line(self, label: str) -> str:
        return (
            f"{label:<11} {self.requests_per_second:8.0f} req/s   p50 {self.p50_ms:6.2f} ms   "
            f"p99 {self.p99_ms:6.2f} ms   ({self.requests} requests){self.errors}\n"
            f"{'':<11} {self.cpu.line()}"
        )


class CpuMeter:
    """CPU seconds of the machine, of gunicorn (its session: master, workers and the
    workers it already reaped), of redis-server and of this process's waited-for children
    (wrk), from /proc (Linux)."""

    def __init__(self, gunicorn_session: int) -> None:
        self.session = gunicorn_session
        self.tick = os.sysconf("SC_CLK_TCK")

    def machine_busy(self) -> float:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return (sum(fields[:8]) - idle) / self.tick

    def processes(self) -> tuple[float, float]:
        """CPU seconds of gunicorn's session and of redis-server, so far."""
        gunicorn = redis = 0.0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    text = stat.read()
            except OSError:
                continue
            name = text[text.index("(") + 1 : text.rindex(")")]
            fields = text[text.rindex(")") + 2 :].split()
            session = int(fields[3])
            own = (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime
            reaped = (int(fields[13]) + int(fields[14])) / self.tick  # cutime + cstime
            if session == self.session:
                gunicorn += own + (reaped if int(entry) == self.session else 0.0)
            elif name == "redis-server":
                redis += own
        return gunicorn, redis

    def children(self) -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def read(self) -> tuple[float, float, float, float, float]:
        gunicorn, redis = self.processes()
        return time.monotonic(), self.machine_busy(), gunicorn, redis, self.children()

    def shares(self, start: tuple[float, float, float, float, float]) -> CpuShares:
        end = self.read()
        wall, busy, gunicorn, redis, wrk = (b - a for a, b in zip(start, end, strict=True))
        others = max(0.0, busy - gunicorn - redis - wrk)
        return CpuShares(gunicorn / wall, redis / wall, wrk / wall, others / wall)


def bench_store(var_dir: Path) -> Store:
    """Redis (under the benchmark's own key prefix) with REDIS_URL; else files under
    `var_dir` (the file store has no key prefix, so never the installation's own)."""
    from django.conf import settings

    from store import get_store
    from store.file_store import FileStore

    return get_store() if settings.REDIS_URL else FileStore(var_dir / "store")


def publish_books(store: Store, forge_orders: int) -> tuple[list[int], dict[int, str]]:
    """Generate and publish the five hub books: the Forge's busiest type ids (most orders
    first), and the generation published per region."""
    import numpy as np

    from market import publish
    from market.generator import generate_orders
    from market.snapshot import Snapshot, SnapshotMeta, columns_from_pages, utc_iso

    busiest: list[int] = []
    generations: dict[int, str] = {}
    now = datetime.now(UTC)
    for region_id, default in HUB_ORDERS.items():
        count = forge_orders if region_id == FORGE else default
        columns = columns_from_pages([(1, generate_orders(region_id, count))])
        meta = SnapshotMeta(
            region_id=region_id,
            generation=publish.new_generation(),
            source="demo",  # generated: labelled as such, as the demo market is
            esi_last_modified=utc_iso(now),
            esi_expires=utc_iso(now + timedelta(hours=6)),
            fetched_at=utc_iso(now) or "",
            pages=1,
            orders=count,
        )
        snapshot = Snapshot.build(meta, columns)
        publish.publish(snapshot, store)
        generations[region_id] = meta.generation
        if region_id == FORGE:
            types, counts = np.unique(snapshot.book["type_id"], return_counts=True)
            busiest = [int(t) for t in types[np.argsort(-counts, kind="stable")]]
    print(f"published {len(HUB_ORDERS)} hub books into {type(store).__name__}: {HUB_ORDERS}")
    return busiest, generations


def remove_books(store: Store, generations: dict[int, str]) -> None:
    """Delete what `publish_books` wrote (earlier generations expire by themselves)."""
    keys = [f"market:current:{region_id}" for region_id in generations]
    for region_id, generation in generations.items():
        keys += [f"market:blob:{region_id}:{generation}", f"market:meta:{region_id}:{generation}"]
    store.delete(*keys)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is missing: install it with `sudo apt-get install -y wrk` (Debian).")
    print("installing wrk (apt-get install -y wrk) ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
    return shutil.which("wrk") or sys.exit("wrk did not install")


def rotation_script(folder: Path, name: str, paths: list[str]) -> Path:
    """A wrk Lua script that asks each path in turn (each wrk thread starts elsewhere)."""
    listed = ",\n".join(f'  "{p}"' for p in paths)
    script = folder / f"{name}.lua"
    script.write_text(
        f"local paths = {{\n{listed}\n}}\n"
        "local i = 0\n"
        "setup = function(thread) thread:set('offset', math.random(#paths)) end\n"
        "init = function(args) i = tonumber(offset) or 0 end\n"
        "request = function()\n"
        "  i = i + 1\n"
        "  return wrk.format('GET', paths[(i % #paths) + 1])\n"
        "end\n"
    )
    return script


def milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(
    wrk: str, base_url: str, script: Path, connections: int, seconds: float, meter: CpuMeter
) -> WrkResult:
    command = [
        wrk,
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        str(script),
        base_url,
    ]
    start = meter.read()
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    cpu = meter.shares(start)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = milliseconds(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = milliseconds(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    problems = [
        line.strip()
        for line in output.splitlines()
        if line.strip().startswith(("Socket errors", "Non-2xx"))
    ]
    errors = f"   !! {'; '.join(problems)}" if problems else ""
    return WrkResult(rate, p50, p99, total, errors, cpu)


def start_gunicorn(
    port: int,
    workers: str | None,
    threads: str | None,
    max_requests: str | None,
    var_dir: Path,
    log: Path,
) -> subprocess.Popen[bytes]:
    from django.conf import settings

    env = dict(
        os.environ,
        VAR_DIR=str(var_dir),  # the file store's (and an SQLite app database's) folder
        SDE_PATH=str(settings.SDE_PATH),  # the installed SDE, wherever VAR_DIR is
        DJANGO_SETTINGS_MODULE="benchmarks.bench_settings",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_ACCESSLOG="",
    )
    if workers:
        env["GUNICORN_WORKERS"] = workers
    if threads:
        env["GUNICORN_THREADS"] = threads
    if max_requests:
        env["GUNICORN_MAX_REQUESTS"] = max_requests
    with log.open("wb") as stream:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_up(url: str) -> None:
    for _ in range(300):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer {url}")


def sample(url: str) -> int:
    """Check one order-book answer and return its size in bytes."""
    import json

    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read()
    answer = json.loads(body)
    assert answer["buy"]["orders"] and answer["sell"]["orders"], "an empty book: not liquid"
    return len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forge-orders", type=int, default=HUB_ORDERS[FORGE])
    parser.add_argument("--types", type=int, default=50, help="busiest Forge types to rotate")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of warm-up of each")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--workers", help="GUNICORN_WORKERS (default: config/gunicorn.py's)")
    parser.add_argument("--threads", help="GUNICORN_THREADS (default: config/gunicorn.py's)")
    parser.add_argument(
        "--max-requests", help="GUNICORN_MAX_REQUESTS (default: config/gunicorn.py's)"
    )
    args = parser.parse_args()

    import django

    django.setup()
    wrk = ensure_wrk()
    folder = Path(tempfile.mkdtemp(prefix="bench-market-api-"))
    store = bench_store(folder)
    busiest, generations = publish_books(store, args.forge_orders)
    types = busiest[: args.types]
    book_paths = [f"/api/v1/market/orders/{FORGE}/{t}" for t in types]
    book_script = rotation_script(folder, "orders", book_paths)
    bare_script = rotation_script(folder, "bare", ["/bench/bare"])

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = folder / "gunicorn.log"
    server = start_gunicorn(port, args.workers, args.threads, args.max_requests, folder, log)
    try:
        wait_until_up(base_url + "/bench/bare")
        size = sample(base_url + book_paths[0])
        workers = args.workers or f"{os.cpu_count() or 1} cores x 2 + 1"
        print(
            f"gunicorn workers={workers} threads={args.threads or 2} "
            f"max_requests={args.max_requests or 'config default'}; wrk {args.connections} "
            f"connections, {args.duration:g} s per run, {args.rounds} round(s)"
        )
        print(f"order book: {len(types)} busiest Forge types, e.g. {book_paths[0]} = {size} bytes")
        meter = CpuMeter(server.pid)  # gunicorn leads a session of its own
        for script in (book_script, bare_script):  # every worker loads and renders first
            run_wrk(wrk, base_url, script, args.connections, args.warmup, meter)
        rounds = [
            measure_round(n, wrk, base_url, (bare_script, book_script), args, meter)
            for n in range(args.rounds)
        ]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        remove_books(store, generations)
    summarise(rounds, log)


def measure_round(
    n: int,
    wrk: str,
    base_url: str,
    scripts: tuple[Path, Path],
    args: argparse.Namespace,
    meter: CpuMeter,
) -> tuple[WrkResult, WrkResult]:
    """The bare view and the order book back to back, in turns first (the machine's speed
    drifts: each round's ratio compares runs a few seconds apart)."""
    order = (0, 1) if n % 2 == 0 else (1, 0)
    results: list[WrkResult | None] = [None, None]
    for which in order:
        results[which] = run_wrk(
            wrk, base_url, scripts[which], args.connections, args.duration, meter
        )
    bare, book = results
    assert bare is not None and book is not None
    ratio = book.requests_per_second / bare.requests_per_second
    print(f"round {n + 1}: ratio {ratio:.2f}")
    print(bare.line("bare view"))
    print(book.line("order book"))
    return bare, book


def summarise(rounds: list[tuple[WrkResult, WrkResult]], log: Path) -> None:
    clean = [r for r in rounds if max(r[0].cpu.others, r[1].cpu.others) <= NOISE_CORES]
    if len(clean) * 2 >= len(rounds):
        counted, note = clean, f"{len(clean)} of {len(rounds)} rounds (the others were noisy)"
    else:
        counted, note = rounds, f"all {len(rounds)} rounds, {len(clean)} clean: NOISY, run again"
    if len(clean) == len(rounds):
        note = f"{len(rounds)} rounds"
    ratio = statistics.median(
        book.requests_per_second / bare.requests_per_second for bare, book in counted
    )
    bare_rate = statistics.median(bare.requests_per_second for bare, _ in counted)
    book_rate = statistics.median(book.requests_per_second for _, book in counted)
    bare_p99 = statistics.median(bare.p99_ms for bare, _ in counted)
    book_p50 = statistics.median(book.p50_ms for _, book in counted)
    book_p99 = statistics.median(book.p99_ms for _, book in counted)
    print(
        f"medians of {note}: bare {bare_rate:.0f} req/s (p99 {bare_p99:.2f} ms), "
        f"order book {book_rate:.0f} req/s (p50 {book_p50:.2f} ms, p99 {book_p99:.2f} ms)"
    )
    print(
        f"ratio {ratio:.2f} (target >= {TARGET_RATIO})   order book p99 {book_p99:.1f} ms "
        f"(target <= {TARGET_P99_MS:g} ms)   gunicorn log: {log}"
    )


if __name__ == "__main__":
    main()
