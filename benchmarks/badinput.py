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
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=40, help="per operation and phase")
    parser.add_argument("--workers", default="2")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-badinput-"))
    port = free_port()
    env = deployment_env(folder, port)
    # ESI is the project's stand-in (history and prices are fetched on demand).
    esi, env["ESI_BASE_URL"] = start_standin(orders=20_000, latency=0.0)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    publish_demo_markets(env)
    base_url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stderr=(folder / "gunicorn.log").open("wb"),
    )
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


if __name__ == "__main__":
    sys.exit(main())
