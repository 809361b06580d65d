"""A thousand people browsing at once, while four clients send worst-case requests in a loop.

    .venv/bin/python benchmarks/users.py [--deployment default|postgres] [--users 1000]
        [--ramp 30] [--alone 30] [--duration 60] [--abusers 4] [--forge-orders 100000]
        [--turnover 0] [--expires 300] [--timeline 5]

Starts a throw-away deployment the way `make run` does (bin/run-all: gunicorn with the
project's config, a Celery worker and beat) on the ESI stand-in with the five hub books (The
Forge at --forge-orders, every snapshot and the boards published first):

- `default`: the embedded default, an SQLite app database, the file store and the file
  broker, all in a temporary folder (no REDIS_URL, no DATABASE_URL);
- `postgres`: PostgreSQL (--database-url) and Redis (--redis-url), under a key prefix and a
  Celery queue of its own.

The rate limits are on, as deployed, behind one trusted proxy (TRUSTED_PROXIES=1): each
simulated person and each abusive client sends its own X-Forwarded-For address, so each is
one client to the limits, as each would be behind a real reverse proxy.

People (plain asyncio over raw HTTP/1.1, one connection per request as gunicorn's sync
workers answer; no load library: locust 2.47 needs requests >= 2.33.1, the project pins
2.32.5) start over --ramp seconds, then each repeats, with 2 to 6 s of thinking between
steps: the home page; a search typed letter by letter (150-300 ms apart; a request after
each pause of 250 ms, as the search box asks) then the item page it finds; an item page
(again with If-None-Match, as a browser revalidates) and the history its chart asks for
(again, as told, while a worker fetches it: the "charts" lines say how long a chart waited
until it could be drawn); station trading and hauling pages with varied places, filters
and sorts; a CSV export; the market and profit APIs; the regions.

The abusive clients, each in a loop without pause: hauling from every tracked region to
every tracked region in list mode as CSV without a page (the most rows), instant hauling
between all the regions (a page of 1,000), station trading at Jita as CSV with nothing
hidden, and item pages with a query string meant to defeat the page cache. 429 and 503 to
them are the limits doing their work, not errors; so is a 400 that a stated cap gives (more
place pairs than PROFIT_MAX_PLACE_PAIRS), and the 301 that sends a cache-busting parameter
to the page without it; the report shows each apart by its status.

Measured: --alone seconds of people only, then --duration seconds of people with the
abusive clients. For each phase and group: requests, p50/p95/p99 of the whole answer (body
read), answers by status, and errors (anything else than 2xx/304 for people; than 2xx, 304,
400, 429, 503 for the abusive clients; timeouts and dropped connections for all). Comparing the
people's latency between the phases says whether they waited on the abusive clients' work.
Targets on the 2-core machine: no error, people's p95 <= 300 ms in both phases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.topology import Topology, free_port, wait_for_url  # noqa: E402

HUB_REGIONS = [10000002, 10000043, 10000032, 10000030, 10000042]
HUB_STATIONS = [60003760, 60008494, 60011866, 60004588, 60005686]
HUB_SYSTEMS = [30000142, 30002187, 30002659, 30002510, 30002053]
WORDS = [
    "tritanium", "pyerite", "mexallon", "isogen", "nocxium", "zydrine", "megacyte",
    "plex", "drake", "caracal", "rifter", "large shield extender", "nanite repair paste",
    "veldspar", "scordite", "hammerhead", "warrior", "damage control", "antimatter charge",
]  # fmt: skip
SORTS_STATION = ["-daily_profit", "-profit_per_unit", "-margin", "-roi", "type_name"]
SORTS_HAULING = ["-net_profit", "-isk_per_m3", "-roi", "-profit_per_jump", "jumps"]
STATION_EVERY = "station_id=60003760&hide=none"
THINK = (2.0, 6.0)
TYPE_GAP = (0.15, 0.3)  # seconds between two keystrokes
DEBOUNCE = 0.25  # the pause after which static/js/combobox.js asks (DEBOUNCE_MS)
TIMEOUT = 30.0
TARGET_P95_MS = 300.0
# Answers the limits give the abusive clients on purpose: 429 (their allowance spent), 503
# (no heavy slot free), 400 (a stated cap: too many place pairs), each with a message; 301
# (a read page asked with a parameter it does not read goes to the page without it).
INTENDED_FOR_ABUSERS = {301, 400, 429, 503}

BUSIEST = """
import json
from market import publish
forge = publish.load(10000002)
counts = forge._ends - forge._starts
print(json.dumps([int(t) for t in forge.type_ids[counts.argsort()[::-1][:300]]]))
"""


def cpu_seconds(pids: list[int]) -> float:
    """CPU seconds the processes have used so far (utime + stime, /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def machine_busy() -> float:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


class Cores:
    """Cores used during a phase by the deployment (bin/run-all: gunicorn, Celery worker and
    beat), the ESI stand-in, this client and everything else on the machine."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.start = self.read()

    def read(self) -> tuple[float, ...]:
        web = cpu_seconds(self.topology.pids("run-all"))
        esi = cpu_seconds(self.topology.pids("esi"))
        me = sum(os.times()[:2])
        return time.monotonic(), web, esi, me, machine_busy()

    def line(self) -> str:
        end = self.read()
        wall, web, esi, me, busy = (b - a for a, b in zip(self.start, end, strict=True))
        self.start = end
        others = max(0.0, busy - web - esi - me)
        return (
            f"cores used: deployment {web / wall:.2f}, ESI stand-in {esi / wall:.2f}, "
            f"this client {me / wall:.2f}, other processes {others / wall:.2f}"
        )


@dataclass
class Result:
    group: str  # "people", "abusers", or "charts" (a chart's wait, not a request)
    what: str
    started: float
    ms: float
    status: int  # 0: no answer (timeout, connection dropped)


@dataclass
class Run:
    base: str
    types: list[int]
    history: bool = True
    results: list[Result] = field(default_factory=list)
    phase: str = "ramp"
    stop_at: float = 0.0
    abusers_on: asyncio.Event = field(default_factory=asyncio.Event)
    published: list[tuple[float, int]] = field(default_factory=list)  # (seen at, region)

    def record(self, result: Result) -> None:
        if self.phase != "ramp":
            result.what = f"{self.phase}|{result.what}"
            self.results.append(result)


async def get(
    run: Run,
    group: str,
    what: str,
    path: str,
    client: str,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str]]:
    """GET `path` as `client` (its X-Forwarded-For); reads the whole answer; records it."""
    parts = urlsplit(run.base)
    started = time.monotonic()
    status, answer_headers = 0, {}
    writer = None
    try:
        async with asyncio.timeout(TIMEOUT):
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
            lines = [
                f"GET {path} HTTP/1.1",
                f"Host: {parts.netloc}",
                "Connection: close",
                "Accept-Encoding: identity",
                f"X-Forwarded-For: {client}",
                "User-Agent: benchmarks/users.py",
                *(f"{k}: {v}" for k, v in (headers or {}).items()),
            ]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            for line in head.decode("latin-1").split("\r\n")[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    answer_headers[name.strip().lower()] = value.strip()
            while await reader.read(65536):
                pass
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError):
        status = 0
    finally:
        if writer is not None:
            writer.close()
    run.record(Result(group, what, started, (time.monotonic() - started) * 1000, status))
    return status, answer_headers


# --- People --------------------------------------------------------------------------------


async def person(run: Run, number: int, rng: random.Random) -> None:
    client = f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"
    etags: dict[str, str] = {}

    async def page(what: str, path: str) -> int:
        headers = {"If-None-Match": etags[path]} if path in etags else None
        status, answer = await get(run, "people", what, path, client, headers)
        if "etag" in answer:
            etags[path] = answer["etag"]
        return status

    async def item(type_id: int) -> None:
        await page("item page", f"/items/{type_id}/")
        if not run.history:
            return
        # The chart's first tab asks for its history, and again as told while it is 202 (a
        # worker fetches it from ESI), for a minute at most, as static/js/market.js does.
        region = rng.choice(HUB_REGIONS)
        path = f"/api/v1/market/history/{region}/{type_id}"
        started = time.monotonic()
        while True:
            status, answer = await get(run, "people", "history api", path, client)
            if status != 202 or time.monotonic() - started > 60:
                break
            await asyncio.sleep(float(answer.get("retry-after", 1)))
        waited = (time.monotonic() - started) * 1000
        run.record(Result("charts", "chart drawn after", started, waited, status))

    async def search() -> None:
        word = rng.choice(WORDS)
        letters = min(len(word), rng.randint(3, 7))
        for end in range(1, letters + 1):
            # as static/js/combobox.js: the search is asked after a pause of DEBOUNCE in the
            # typing (and after the last letter), not at every keystroke
            gap = rng.uniform(*TYPE_GAP) if end < letters else DEBOUNCE
            if gap < DEBOUNCE:
                await asyncio.sleep(gap)
                continue
            await asyncio.sleep(DEBOUNCE)
            query = urlencode({"q": word[:end]})
            await get(run, "people", "search api", f"/api/v1/items/search?{query}", client)
            await asyncio.sleep(gap - DEBOUNCE)
        await item(rng.choice(run.types[:100]))

    async def station_trading(csv: bool = False) -> None:
        params = {"station_id": rng.choice(HUB_STATIONS), "sort": rng.choice(SORTS_STATION)}
        if rng.random() < 0.5:
            params["min_margin"] = rng.choice([0.02, 0.05, 0.1])
        if rng.random() < 0.3:
            params["max_price"] = rng.choice([1e6, 1e7, 1e8])
        if csv:
            params["format"] = "csv"
            await get(
                run,
                "people",
                "csv export",
                f"/api/v1/profit/station-trading?{urlencode(params)}",
                client,
            )
        else:
            await page("station trading page", f"/profit/station-trading/?{urlencode(params)}")

    async def hauling(api: bool = False) -> None:
        source, target = rng.sample(HUB_STATIONS + HUB_SYSTEMS, 2)
        params = {"from": source, "to": target, "sort": rng.choice(SORTS_HAULING)}
        params["mode"] = rng.choice(["instant", "instant", "list"])
        if rng.random() < 0.5:
            params["cargo_m3"] = rng.choice([5000, 30000, 60000, 300000])
        if api:
            params["page_size"] = 50
            await get(
                run, "people", "hauling api", f"/api/v1/profit/hauling?{urlencode(params)}", client
            )
        else:
            await page("hauling page", f"/profit/hauling/?{urlencode(params)}")

    async def market_api() -> None:
        type_id = rng.choice(run.types[:BROWSED_TYPES])
        path = rng.choice(
            [
                f"/api/v1/market/orders/{rng.choice(HUB_REGIONS)}/{type_id}",
                f"/api/v1/market/compare?type_id={type_id}",
                "/api/v1/profit/boards?limit=20",
            ]
        )
        await get(run, "people", "market api", path, client)

    async def places() -> None:
        path = rng.choice(
            ["/regions/", f"/regions/{rng.choice(HUB_REGIONS)}/",
             f"/systems/{rng.choice(HUB_SYSTEMS)}/", f"/stations/{rng.choice(HUB_STATIONS)}/"]
        )  # fmt: skip
        await page("place page", path)

    steps = [
        (lambda: page("home", "/"), 10),
        (search, 25),
        (lambda: item(rng.choice(run.types[:60])), 20),
        (station_trading, 12),
        (hauling, 10),
        (lambda: station_trading(csv=True), 3),
        (lambda: hauling(api=True), 5),
        (market_api, 10),
        (places, 5),
    ]
    actions, weights = zip(*steps, strict=True)
    while time.monotonic() < run.stop_at:
        await rng.choices(actions, weights)[0]()
        await asyncio.sleep(rng.uniform(*THINK))


# --- The abusive clients -------------------------------------------------------------------


def worst_cases() -> list[tuple[str, str]]:
    both = ",".join(str(r) for r in HUB_REGIONS)
    every = f"from={both}&to={both}&hide=none"
    return [
        ("haul regions list csv", f"/api/v1/profit/hauling?{every}&mode=list&format=csv"),
        ("haul regions page 1000", f"/api/v1/profit/hauling?{every}&page_size=1000"),
        ("station csv hide none", f"/api/v1/profit/station-trading?{STATION_EVERY}&format=csv"),
        ("hauling page regions", f"/profit/hauling/?{every}&mode=list"),
        ("item page cache-busting", "/items/{type}/?nocache={n}"),
    ]


async def abuser(run: Run, number: int, rng: random.Random) -> None:
    client = f"192.0.2.{number + 1}"
    cases = worst_cases()
    await run.abusers_on.wait()
    n = 0
    while time.monotonic() < run.stop_at:
        what, path = cases[n % len(cases)]
        n += 1
        path = path.replace("{type}", str(rng.choice(run.types))).replace("{n}", str(n))
        await get(run, "abusers", what, path, client)


# --- Report --------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def is_error(group: str, status: int) -> bool:
    if 200 <= status < 300 or status == 304:
        return False
    if group == "charts":  # a chart that could not be drawn says why (ESI's budget: 503)
        return status == 0
    return not (group == "abusers" and status in INTENDED_FOR_ABUSERS)


def report(run: Run, phases: dict[str, float]) -> dict[str, dict[str, float]]:
    by: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for result in run.results:
        phase, _, what = result.what.partition("|")
        by[(phase, result.group)].append(result)
    summary: dict[str, dict[str, float]] = {}
    for phase, seconds in phases.items():
        for group in ("people", "abusers", "charts"):
            results = by.get((phase, group), [])
            if not results:
                continue
            ms = [r.ms for r in results]
            statuses = Counter(r.status for r in results)
            errors = sum(n for status, n in statuses.items() if is_error(group, status))
            line = {
                "requests": len(results),
                "per_second": len(results) / seconds,
                "p50": percentile(ms, 50),
                "p95": percentile(ms, 95),
                "p99": percentile(ms, 99),
                "errors": errors,
            }
            summary[f"{phase} {group}"] = line
            shown = ", ".join(f"{s or 'no answer'}: {n}" for s, n in sorted(statuses.items()))
            print(
                f"{phase:<16} {group:<8} {len(results):7d} req ({line['per_second']:6.1f}/s)  "
                f"p50 {line['p50']:7.1f}  p95 {line['p95']:7.1f}  p99 {line['p99']:7.1f} ms  "
                f"errors {errors}  [{shown}]"
            )
            per_what: dict[str, list[Result]] = defaultdict(list)
            for r in results:
                per_what[r.what.partition("|")[2]].append(r)
            for what, rs in sorted(per_what.items()):
                ms = [r.ms for r in rs]
                statuses = Counter(r.status for r in rs)
                shown = ", ".join(f"{s or 'no answer'}: {n}" for s, n in sorted(statuses.items()))
                print(
                    f"{'':<27}{what:<24} {len(rs):6d}  p50 {percentile(ms, 50):7.1f}  "
                    f"p95 {percentile(ms, 95):7.1f}  p99 {percentile(ms, 99):7.1f}  [{shown}]"
                )
    return summary


async def watch_snapshots(run: Run) -> None:
    """Note when a region's published snapshot changes (the market status, every 2 s, as an
    operator's client of its own)."""
    url = run.base + "/api/v1/market/status"
    request = urllib.request.Request(url, headers={"X-Forwarded-For": "10.255.255.254"})
    known: dict[int, str] = {}
    while time.monotonic() < run.stop_at:
        try:
            body = await asyncio.to_thread(
                lambda: urllib.request.urlopen(request, timeout=10).read()
            )
            for region in json.loads(body)["regions"]:
                generation = (region.get("snapshot") or {}).get("generation")
                if generation and known.setdefault(region["region_id"], generation) != generation:
                    known[region["region_id"]] = generation
                    run.published.append((time.monotonic(), region["region_id"]))
        except (OSError, ValueError, KeyError):
            pass
        await asyncio.sleep(2.0)


def timeline(run: Run, window: float) -> None:
    """The people's p95 per `window` seconds of the measured phases, and the new snapshots
    seen in each window: whether slow answers follow the publications."""
    people = [r for r in run.results if r.group == "people"]
    if not people:
        return
    start = min(r.started for r in people)
    buckets: dict[int, list[float]] = defaultdict(list)
    for r in people:
        buckets[int((r.started - start) // window)].append(r.ms)
    landed: dict[int, list[int]] = defaultdict(list)
    for at, region in run.published:
        if at >= start:
            landed[int((at - start) // window)].append(region)
    print(f"timeline (people, {window:g} s windows; new snapshots as the status showed them):")
    for index in sorted(buckets):
        ms = buckets[index]
        regions = " ".join(str(r) for r in landed.get(index, []))
        print(
            f"  {index * window:6.0f} s  {len(ms):6d} req  p50 {percentile(ms, 50):7.1f}  "
            f"p95 {percentile(ms, 95):7.1f}  max {max(ms):7.1f} ms"
            + (f"  new snapshots: {regions}" if regions else "")
        )


# A deployment that has run for a day holds the histories people open (the volume fill and
# earlier visitors fetched them; ESI keeps them a day). Fetched here straight into the cache,
# past the minute's budget of 300 (the stand-in has none), so the measured run starts in
# that steady state; --cold-history leaves them out (every chart waits on ESI's budget).
WARM_HISTORIES = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
from esi.client import shared_client
client = shared_client()
pairs = json.loads(sys.argv[1])
def fetch(pair):
    client.get_cached(f"/markets/{pair[0]}/history/", params={"type_id": pair[1]})
with ThreadPoolExecutor(8) as pool:
    list(pool.map(fetch, pairs))
print(len(pairs))
"""
BROWSED_TYPES = 150  # the people open item pages of the busiest types' first 150


# --- The deployment ------------------------------------------------------------------------


def create_database(url: str) -> None:
    """The benchmark's PostgreSQL database, created if it is not there yet."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def deploy(args: argparse.Namespace, folder: Path) -> tuple[Topology, str]:
    if args.deployment == "postgres":
        create_database(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
        os.environ["REDIS_URL"] = args.redis_url
    else:  # the embedded default: nothing but files in the folder
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)
    topology = Topology(folder)
    if args.deployment != "postgres":
        topology.env.pop("REDIS_URL", None)
        topology.env["DATABASE_URL"] = f"sqlite:///{folder / 'app.sqlite3'}"
    topology.env.update(
        {
            "RATE_LIMIT_ENABLED": "true",  # as deployed: the limits are part of what is measured
            "TRUSTED_PROXIES": "1",  # each simulated client names itself in X-Forwarded-For
            "PROFIT_BOARD_CARGO_M3": "60000",
        }
    )
    topology.esi(args.forge_orders, turnover=args.turnover, expires=args.expires)
    topology.migrate()
    topology.refresh_all()
    port = free_port()
    env = {**topology.env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    topology._start("run-all", [str(ROOT / "bin" / "run-all")], env)
    base = f"http://127.0.0.1:{port}"
    wait_for_url(base + "/health/ready", timeout=120)
    return topology, base


async def simulate(
    args: argparse.Namespace, base: str, types: list[int], topology: Topology
) -> None:
    run = Run(base, types, history=args.history)
    cores = Cores(topology)
    rng = random.Random(args.seed)
    started = time.monotonic()
    run.stop_at = started + args.ramp + args.alone + args.duration
    tasks = []
    for n in range(args.users):
        tasks.append(asyncio.create_task(person(run, n, random.Random(rng.random()))))
        await asyncio.sleep(args.ramp / args.users)
    tasks += [
        asyncio.create_task(abuser(run, n, random.Random(rng.random())))
        for n in range(args.abusers)
    ]
    tasks.append(asyncio.create_task(watch_snapshots(run)))
    await asyncio.sleep(max(0.0, started + args.ramp - time.monotonic()))
    print(f"ramp: {cores.line()}")
    run.phase = "people alone"
    print(f"{args.users} people browsing; {args.alone:g} s alone ...", flush=True)
    await asyncio.sleep(args.alone)
    print(f"people alone: {cores.line()}")
    run.phase = "with abusers"
    run.abusers_on.set()
    print(f"... then {args.duration:g} s with {args.abusers} abusive clients", flush=True)
    await asyncio.gather(*tasks)
    print(f"with abusers: {cores.line()}")
    phases = {"people alone": args.alone, "with abusers": args.duration}
    summary = report(run, phases)
    if args.timeline:
        timeline(run, args.timeline)
    print(json.dumps(summary, indent=None))
    for phase in phases:
        people = summary.get(f"{phase} people", {})
        abusers = summary.get(f"{phase} abusers", {"errors": 0})
        met = (
            people.get("p95", 1e9) <= TARGET_P95_MS
            and not people.get("errors")
            and not abusers["errors"]
        )
        print(
            f"{phase}: people p95 {people.get('p95', 0):.0f} ms (target <= {TARGET_P95_MS:g}), "
            f"errors people {people.get('errors', 0):.0f} abusers {abusers['errors']:.0f}: "
            f"{'MET' if met else 'MISSED'}"
        )
    alone = summary.get("people alone people", {})
    loaded = summary.get("with abusers people", {})
    if alone and loaded:
        print(
            f"people's latency with the abusive clients vs alone: p50 x"
            f"{loaded['p50'] / max(alone['p50'], 0.1):.2f}, p95 x"
            f"{loaded['p95'] / max(alone['p95'], 0.1):.2f}, p99 x"
            f"{loaded['p99'] / max(alone['p99'], 0.1):.2f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployment", choices=["default", "postgres"], default="default")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/evetrade_users"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--abusers", type=int, default=4)
    parser.add_argument("--ramp", type=float, default=30.0, help="seconds to start every person")
    parser.add_argument("--alone", type=float, default=30.0, help="seconds of people only")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds with the abusers")
    parser.add_argument("--forge-orders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--turnover",
        type=float,
        default=0.0,
        help="seconds between two new books of every hub at the ESI stand-in (0: they never "
        "change); with --expires as short, the deployment publishes new snapshots meanwhile",
    )
    parser.add_argument(
        "--expires", type=float, default=300.0, help="seconds ESI says a book stays fresh"
    )
    parser.add_argument(
        "--timeline",
        type=float,
        default=0.0,
        help="print the people's p95 per window of this many seconds, with the new snapshots",
    )
    parser.add_argument(
        "--no-history",
        dest="history",
        action="store_false",
        help="item pages without the history their chart asks for (the ESI stand-in answers "
        "it, on the same 2 cores: CCP's servers would)",
    )
    parser.add_argument(
        "--cold-history",
        action="store_true",
        help="no history cached beforehand: every chart waits for a worker to fetch it "
        "within ESI's 300 history calls a minute",
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-users-"))
    topology = None
    try:
        topology, base = deploy(args, folder)
        types = json.loads(topology.python(BUSIEST))
        if args.history and not args.cold_history:
            pairs = [[r, t] for r in HUB_REGIONS for t in types[:BROWSED_TYPES]]
            topology.python(WARM_HISTORIES, json.dumps(pairs))
            print(f"{len(pairs)} histories cached, as a deployment that has run a day holds")
        print(
            f"deployment {args.deployment} (bin/run-all) at {base}, logs in {folder}; "
            f"Forge {args.forge_orders:,} orders"
        )
        asyncio.run(simulate(args, base, types, topology))
        print(f"web memory {topology.rss_mb('run-all'):.0f} MB (run-all and its children)")
    finally:
        if topology is not None:
            topology.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
