"""Bad input: schemathesis against the project's own OpenAPI schema, over real HTTP.

    .venv/bin/python benchmarks/badinput.py [--max-examples 40] [--workers 2]

1. Sets up a throw-away deployment in a temporary folder: a migrated SQLite app database,
   the installed SDE, a file store (or Redis under a key prefix of its own when REDIS_URL is
   set) holding the demo markets of the five hub regions, the ESI stand-in (for history
   and prices, fetched on demand), and gunicorn with the project's settings (rate limits
   off: every request comes from one address).
2. Runs `schemathesis run` on `/api/schema/` with every generation phase (examples,
   coverage, fuzzing: valid and invalid values, unknown and missing parameters, odd types,
   huge numbers) and the checks: no 5xx, documented status codes and content types, and
   every response matching its schema.
3. Prints the number of requests sent, how many answered 5xx, and schemathesis's verdict
   (target: at least 1,000 requests, zero 5xx, zero schema failures).

Exit status: 0 when all checks passed.

    .venv/bin/python benchmarks/badinput.py --worst [--burst 4]

The worst cases of issue 14 instead (no schemathesis): the same deployment with ten tracked
regions (the five hubs and five more with many stations) and one gunicorn worker with four
threads (so two heavy slots), then, one at a time, as CSV without a page: hauling from the
ten regions to the ten in list mode (refused: PROFIT_MAX_PLACE_PAIRS), the region with the
most stations to another (Lonetrek to Metropolis), The Forge to itself and to Domain (list:
the most rows a region pair ranks here, cut at PROFIT_MAX_ROWS), The Forge to Domain in
instant mode, station trading at Jita; then `--burst` different Forge-to-Forge list CSVs at
once (none kept: each is computed) while an item search is timed. `--uncapped` raises the
caps out of reach (and gives every thread a slot): what the same requests cost without them.
Prints each request's status, seconds, bytes and X-Truncated, the item search's time, and
the worker's resident memory (VmRSS) before, after the burst, and 10 s later.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import start_standin  # noqa: E402
from benchmarks.topology import free_port, wait_for_url  # noqa: E402

BIN = Path(sys.executable).parent
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


def deployment_env(folder: Path, port: int) -> dict[str, str]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings

    env = {
        **os.environ,
        "VAR_DIR": str(folder),
        "SDE_PATH": str(settings.SDE_PATH),
        "DATABASE_URL": f"sqlite:///{folder / 'app.sqlite3'}",
        "STORE_KEY_PREFIX": f"badinput-{os.getpid()}",
        "RATE_LIMIT_ENABLED": "false",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "LOG_LEVEL": "WARNING",
    }
    return env


def publish_demo_markets(env: dict[str, str]) -> None:
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from market.refresh import publish_demo\n"
        "for region in settings.MARKET_REGIONS: publish_demo(region)\n"
        "from profit.boards import recompute; recompute()\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True)


def count_requests(report_dir: Path) -> tuple[int, int]:
    """Requests and 5xx answers, from schemathesis's HAR report."""
    total = server_errors = 0
    for har in report_dir.glob("har-*.json"):
        for entry in json.loads(har.read_text())["log"]["entries"]:
            total += 1
            server_errors += entry["response"]["status"] >= 500
    return total, server_errors


# The five hubs' regions, PLEX's market, and the regions with the most NPC stations.
WORST_REGIONS = [10000002, 10000043, 10000032, 10000030, 10000042, 19000001]
WORST_REGIONS += [10000016, 10000033, 10000020, 10000048, 10000067]
TEN = ",".join(str(r) for r in WORST_REGIONS if r != 19000001)
LONETREK, METROPOLIS = 10000016, 10000042
HAULING = "/api/v1/profit/hauling"
WORST_CASES = [
    ("hauling 10 regions -> 10 regions, list, csv", f"{HAULING}?from={TEN}&to={TEN}&mode=list"),
    (
        "hauling Lonetrek -> Metropolis, list, csv",
        f"{HAULING}?from={LONETREK}&to={METROPOLIS}&mode=list",
    ),
    ("hauling The Forge -> The Forge, list, csv", f"{HAULING}?from=10000002&to=10000002&mode=list"),
    ("hauling The Forge -> Domain, list, csv", f"{HAULING}?from=10000002&to=10000043&mode=list"),
    ("hauling The Forge -> Domain, instant, csv", f"{HAULING}?from=10000002&to=10000043"),
    ("station trading Jita, csv", "/api/v1/profit/station-trading?station_id=60003760"),
]


def fetch(url: str) -> tuple[int, float, int, str]:
    """(status, seconds, bytes, X-Truncated) of one GET."""
    request = urllib.request.Request(url)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            body = response.read()
            status, truncated = response.status, response.headers.get("X-Truncated", "")
    except urllib.error.HTTPError as exc:
        body, status, truncated = exc.read(), exc.code, ""
    return status, time.monotonic() - started, len(body), truncated


def worker_rss(master: int) -> float:
    """The resident memory of gunicorn's (one) worker, MB."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    for line in Path(f"/proc/{children[0]}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worst_cases(base_url: str, master: int, burst: int) -> None:
    print(f"worker RSS at start        {worker_rss(master):8.0f} MB")
    for name, path in WORST_CASES:
        status, seconds, size, truncated = fetch(base_url + path + "&format=csv")
        print(f"{name:45s} {status} {seconds:6.2f} s {size / 1e6:7.2f} MB {truncated}")
    print(f"worker RSS after each once {worker_rss(master):8.0f} MB")
    answers: list[tuple[int, float, int, str]] = []
    # each a different question (days_to_sell), so none is answered from the kept answers
    urls = [f"{base_url}{WORST_CASES[2][1]}&format=csv&days_to_sell={i + 4}" for i in range(burst)]
    threads = [threading.Thread(target=lambda u=u: answers.append(fetch(u))) for u in urls]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    search = fetch(base_url + "/api/v1/items/search?q=tritanium")
    for thread in threads:
        thread.join()
    statuses = sorted(a[0] for a in answers)
    slowest = max(a[1] for a in answers)
    print(
        f"burst of {burst} (Forge -> Forge list csv): statuses {statuses}, slowest {slowest:.2f} s"
    )
    print(f"item search during the burst: {search[0]} in {search[1]:.2f} s")
    print(f"worker RSS after the burst {worker_rss(master):8.0f} MB")
    time.sleep(10)
    print(f"worker RSS 10 s later      {worker_rss(master):8.0f} MB")


def serve(env: dict[str, str], folder: Path, port: int) -> tuple[str, subprocess.Popen[bytes]]:
    """Migrate the deployment's database, publish the demo books, start gunicorn on `port`
    (its log in `folder`): the base URL and the server process."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    publish_demo_markets(env)
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stderr=(folder / "gunicorn.log").open("wb"),
    )
    return f"http://127.0.0.1:{port}", server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=40, help="per operation and phase")
    parser.add_argument("--workers", default="2")
    parser.add_argument("--worst", action="store_true", help="the worst cases, not schemathesis")
    parser.add_argument("--burst", type=int, default=4, help="--worst: requests at once")
    parser.add_argument(
        "--uncapped", action="store_true", help="--worst with the caps raised out of reach"
    )
    args = parser.parse_args()
    if args.worst:
        return main_worst(args.burst, uncapped=args.uncapped)

    folder = Path(tempfile.mkdtemp(prefix="bench-badinput-"))
    port = free_port()
    env = deployment_env(folder, port)
    # ESI is the project's stand-in (history and prices are fetched on demand).
    esi, env["ESI_BASE_URL"] = start_standin(orders=20_000, latency=0.0)
    base_url, server = serve(env, folder, port)
    try:
        wait_for_url(base_url + "/health/ready")
        report_dir = folder / "report"
        started = time.monotonic()
        run = subprocess.run(
            [
                str(BIN / "schemathesis"), "run", f"{base_url}/api/schema/",
                "--checks", CHECKS,
                "--phases", "examples,coverage,fuzzing",
                "--max-examples", str(args.max_examples),
                "--workers", args.workers,
                "--request-timeout", "30",
                "--suppress-health-check", "too_slow,filter_too_much",
                "--report", "har", "--report-dir", str(report_dir),
                "--no-color",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )  # fmt: skip
        seconds = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
        esi.terminate()
        esi.wait(timeout=30)
    (folder / "schemathesis.txt").write_text(run.stdout + run.stderr)
    total, server_errors = count_requests(report_dir)
    summary = [line for line in run.stdout.splitlines() if line.strip()][-12:]
    print("\n".join(summary))
    print()
    print(f"requests sent        {total:6d} in {seconds:.0f} s (target >= 1,000)")
    print(f"answered 5xx         {server_errors:6d} (target 0)")
    print(f"schemathesis verdict {'passed' if run.returncode == 0 else 'FAILED'}")
    print(f"full output: {folder / 'schemathesis.txt'}; gunicorn log: {folder / 'gunicorn.log'}")
    return 0 if run.returncode == 0 and server_errors == 0 and total >= 1000 else 1


def main_worst(burst: int, *, uncapped: bool) -> int:
    folder = Path(tempfile.mkdtemp(prefix="bench-worst-"))
    port = free_port()
    env = deployment_env(folder, port)
    env.update(
        MARKET_REGIONS=",".join(str(r) for r in WORST_REGIONS),
        MARKET_DEMO_FALLBACK="false",
        GUNICORN_WORKERS="1",
        GUNICORN_THREADS="4",
        GUNICORN_TIMEOUT="120",
        MALLOC_ARENA_MAX="2",  # as bin/run-all runs it
        ESI_BASE_URL="http://127.0.0.1:9",  # nothing is fetched: the demo books are published
    )
    if uncapped:  # what the same requests cost without the caps (one slot per thread)
        env.update(
            PROFIT_MAX_PLACE_PAIRS="1000000000",
            PROFIT_MAX_ROWS="100000000",
            PROFIT_TIME_BUDGET="1000",
            PROFIT_HEAVY_SLOTS="4",
        )
    base_url, server = serve(env, folder, port)
    try:
        wait_for_url(base_url + "/health/ready", timeout=180)
        fetch(base_url + "/api/v1/items/search?q=tritanium")
        worst_cases(base_url, server.pid, burst)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"gunicorn log: {folder / 'gunicorn.log'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
