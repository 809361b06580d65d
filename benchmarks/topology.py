"""A throw-away deployment for the load and soak suites: the ESI stand-in, gunicorn, Celery
workers and beat, in a temporary folder, on the machine's Redis (REDIS_URL, under key
prefixes and a queue of their own) or on the embedded default without it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from standin.processes import free_port, stop_all, wait_for_url  # noqa: E402

__all__ = ["Topology", "free_port", "wait_for_url"]
BIN = Path(sys.executable).parent
HUBS = [10000002, 10000043, 10000032, 10000030, 10000042]


class Topology:
    def __init__(self, folder: Path) -> None:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.conf import settings

        self.folder = folder
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        # A SIGTERM (a timeout, Ctrl-C from a supervisor) still stops every process started.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        unique = f"bench-{uuid.uuid4().hex[:12]}"
        self.env = {
            **os.environ,
            "VAR_DIR": str(folder),
            "SDE_PATH": str(settings.SDE_PATH),
            "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{folder / 'app.sqlite3'}"),
            "STORE_KEY_PREFIX": unique,
            "CELERY_QUEUE": unique,
            "RATE_LIMIT_ENABLED": "false",  # all the load comes from one address
            "ESI_DOWNTIME": "off",
            "MARKET_REGIONS": ",".join(str(r) for r in HUBS),
            "MARKET_DEMO_FALLBACK": "false",
            "PROMETHEUS_MULTIPROC_DIR": str(folder / "prometheus"),
            "LOG_LEVEL": "WARNING",
            "MALLOC_ARENA_MAX": "2",  # as bin/run-all and the image run it
        }
        (folder / "prometheus").mkdir(exist_ok=True)
        self.base_url = ""

    def _start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.folder / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env or self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def esi(self, forge_orders: int, turnover: float = 0.0, expires: float = 300.0) -> str:
        """The ESI stand-in with the five hubs (the Forge, the others a fifth of it)."""
        port = free_port()
        # It plays CCP's servers, which are not on this machine: at the lowest CPU priority
        # it answers from the cycles the deployment leaves, never from the deployment's.
        self._start(
            "esi",
            ["nice", "-n", "19", sys.executable, "-m", "standin", "--port", str(port), "--orders",
             str(forge_orders), "--turnover", str(turnover), "--expires", str(expires)],
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        wait_for_url(url + "/status/", timeout=600)
        self.env["ESI_BASE_URL"] = url
        return url

    def migrate(self) -> None:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=self.env,
            check=True,
        )

    def python(self, code: str, *args: str) -> str:
        """Run Python code with Django set up inside the deployment (`args` in sys.argv[1:]);
        its standard output."""
        script = "import django; django.setup()\n" + code
        return subprocess.run(
            [sys.executable, "-c", script, *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def refresh_all(self) -> None:
        """Publish every hub's snapshot (and the boards) from the stand-in, in the foreground."""
        subprocess.run(
            [sys.executable, "manage.py", "market_refresh"], cwd=ROOT, env=self.env, check=True
        )
        self.python("from profit.boards import recompute; recompute()")

    def web(self, workers: int | None = None, threads: int | None = None) -> str:
        port = free_port()
        env = {**self.env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
        if workers:
            env["GUNICORN_WORKERS"] = str(workers)
        if threads:
            env["GUNICORN_THREADS"] = str(threads)
        self._start("web", [str(BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"], env)
        self.base_url = f"http://127.0.0.1:{port}"
        wait_for_url(self.base_url + "/health/ready")
        return self.base_url

    def workers(self, concurrency: int = 2) -> None:
        self._start(
            "worker",
            [str(BIN / "celery"), "-A", "config", "worker", f"--concurrency={concurrency}",
             "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
        )  # fmt: skip
        self._start(
            "beat",
            [str(BIN / "celery"), "-A", "config", "beat", "--loglevel=WARNING",
             f"--schedule={self.folder / 'beat-schedule'}"],
        )  # fmt: skip

    def pids(self, name: str) -> list[int]:
        """A process and its descendants (gunicorn's workers, Celery's pool)."""
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                parents[int(entry.name)] = int(stat[1])
        found = [self.processes[name].pid]
        for pid in found:  # grows while it is walked: breadth first
            found += [child for child, parent in parents.items() if parent == pid]
        return found

    def rss_mb(self, name: str) -> float:
        """Resident memory of a process and its children, MB."""
        total = 0
        for pid in self.pids(name):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total / 1024

    def stop(self) -> None:
        stop_all(self.processes.values())
