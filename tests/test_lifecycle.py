"""Graceful lifecycle: SIGTERM lets in-flight requests and tasks finish within a bound, and
Ctrl-C on `make run` (bin/run-all) stops everything within 10 s without losing queued tasks."""

from __future__ import annotations

import json
import os
import runpy
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from functools import partial
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings

from market import publish
from standin.esi import EsiStandIn
from store import reset_store
from tests.conftest import drop_store_prefix
from tests.market_env import FORGE
from tests.processes import BIN, ROOT, free_port, wait_for

pytestmark = pytest.mark.timeout(120)


def base_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SECRET_KEY": django_settings.SECRET_KEY,
        "REDIS_URL": django_settings.REDIS_URL,
        "VAR_DIR": str(tmp_path),
        "SDE_PATH": str(django_settings.SDE_PATH),
        "ESI_DOWNTIME": "off",
        "RATE_LIMIT_ENABLED": "false",
    }


def live(base_url: str) -> bool:
    return requests.get(base_url + "/health/live", timeout=2).ok


def test_sigterm_lets_a_request_in_flight_finish(tmp_path):
    port = free_port()
    env = {
        **base_env(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tests.lifecycle.settings",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_GRACEFUL_TIMEOUT": "10",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
    }
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(partial(live, url), "gunicorn")
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(requests.get, url + "/slow?seconds=2", timeout=30)
            time.sleep(0.5)  # the request is being served
            stopped_at = time.monotonic()
            server.send_signal(signal.SIGTERM)
            response = answer.result()
        assert response.status_code == 200 and response.json() == {"slept": 2.0}
        server.wait(timeout=15)
        assert time.monotonic() - stopped_at < 10  # well within the graceful bound
        with pytest.raises(requests.ConnectionError):  # no new requests once stopped
            requests.get(url + "/health/live", timeout=2)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


@pytest.mark.django_db(transaction=True, databases=["default", "sde"])
def test_sigterm_lets_a_refresh_in_flight_publish(tmp_path, settings):
    from django.db import connection

    db = connection.settings_dict
    prefix = f"lifecycle-{uuid.uuid4().hex}"
    with EsiStandIn(page_size=100, expires_in=3600.0, seed=8) as esi:
        esi.generate(FORGE, 3_000)  # 30 pages, 2 at a time, 0.2 s each: about 3 s
        esi.faults.page_latency = 0.2
        env = {
            **base_env(tmp_path),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "STORE_KEY_PREFIX": prefix,
            "CELERY_QUEUE": prefix,
            "ESI_BASE_URL": esi.base_url,
            "ESI_MAX_CONCURRENCY": "2",
            "MARKET_REGIONS": str(FORGE),
            "MARKET_DEMO_FALLBACK": "false",
        }
        worker = subprocess.Popen(
            [str(BIN / "celery"), "-A", "config", "worker", "--concurrency=1",
             "--without-gossip", "--without-mingle", "--loglevel=INFO"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            settings.STORE_KEY_PREFIX = prefix
            settings.CELERY_TASK_DEFAULT_QUEUE = prefix
            reset_store()
            publish.forget_loaded()
            from config.celery import app

            app.send_task("market.tasks.refresh_region_task", args=[FORGE], queue=prefix)
            wait_for(lambda: len(esi.requests) >= 6, "the refresh to be under way", 60)
            worker.send_signal(signal.SIGTERM)  # warm shutdown: finish the task, then exit
            worker.wait(timeout=30)
            pages = {r.query.get("page") for r in esi.requests if "/orders" in r.path}
            assert len(pages) == 30  # it did not stop halfway
            meta = publish.current_meta(FORGE)
            assert meta is not None and meta.orders == 3_000 and meta.source == "esi"
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            reset_store()
            publish.forget_loaded()
            drop_store_prefix(prefix)


# --- Ctrl-C on `make run` ------------------------------------------------------------------


def session_processes(session_id: int) -> list[int]:
    """Every live process of a session (bin/run-all, its three processes, the pool workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        if fields[0] != "Z" and int(fields[3]) == session_id:  # state, ..., session
            found.append(int(stat.parent.name))
    return found


def queued_naps(var_dir: Path) -> set[str]:
    """The ids of the nap tasks waiting in the file broker's queue folder."""
    ids = set()
    for message in (var_dir / "celery" / "queue").glob("*.msg"):
        headers = json.loads(message.read_bytes())["headers"]
        if headers["task"] == "tests.lifecycle.nap":
            ids.add(headers["id"])
    return ids


def send_naps(env: dict[str, str], count: int, seconds: float) -> set[str]:
    """Queue `count` naps through the file broker of `env` (another process: the test's own
    Celery app talks to Redis); their task ids."""
    script = (
        "import django; django.setup()\n"
        "from config.celery import app\n"
        f"for i in range({count}):\n"
        f"    print(app.send_task('tests.lifecycle.nap', args=[{seconds}, f'nap{{i}}']).id)\n"
    )
    sent = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    return set(sent.stdout.split())


def test_ctrl_c_on_run_all_stops_all_three_within_10_s_and_keeps_the_queued_tasks(tmp_path):
    """`make run` as a new user runs it (no REDIS_URL: SQLite and the file broker, whose
    reserved messages live only in the worker until it gives them back): five long tasks
    queued, two running, then Ctrl-C. Web, worker and beat are gone within 10 s, and all
    five messages are back in the queue folder; the next start runs every one of them."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")} | {
        "DJANGO_SETTINGS_MODULE": "tests.lifecycle.settings",
        "SECRET_KEY": django_settings.SECRET_KEY,
        "VAR_DIR": str(tmp_path),
        "SDE_PATH": str(django_settings.SDE_PATH),
        "ESI_BASE_URL": "http://127.0.0.1:9",  # nothing listens: beat's refreshes fail fast
        "ESI_DOWNTIME": "off",
        "MARKET_DEMO_FALLBACK": "false",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "CELERY_CONCURRENCY": "2",
    }
    for folder in ("queue", "processed", "control"):
        (tmp_path / "celery" / folder).mkdir(parents=True)
    sent = send_naps(env, 5, 120)
    assert len(sent) == 5 and queued_naps(tmp_path) == sent
    naps = tmp_path / "naps"
    # Its own session, as in a terminal: Ctrl-C signals the whole foreground process group.
    run = subprocess.Popen(
        [str(ROOT / "bin" / "run-all")], cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(partial(live, f"http://127.0.0.1:{port}"), "gunicorn")
        wait_for(lambda: len(list(naps.glob("*.started"))) == 2, "two naps to be running")
        assert len(session_processes(run.pid)) >= 4  # run-all, web, worker (and its pool), beat
        pressed = time.monotonic()
        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C
        while session_processes(run.pid) and time.monotonic() - pressed < 15:
            time.sleep(0.1)
        stopped_in = time.monotonic() - pressed
        assert session_processes(run.pid) == []
        assert stopped_in < 10
        assert run.wait(timeout=1) == 130  # the shell's answer to an interrupt
        assert list(naps.glob("*.done")) == []  # the two running naps were interrupted...
        assert queued_naps(tmp_path) == sent  # ...and every message is queued again
    finally:
        for pid in session_processes(run.pid):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        run.wait(timeout=5)

    # The next start runs all five (quickly now).
    worker = subprocess.Popen(
        [str(BIN / "celery"), "-A", "config", "worker", "--concurrency=2", "--loglevel=INFO"],
        cwd=ROOT, env=env | {"LIFECYCLE_NAP_SECONDS": "0"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: len(list(naps.glob("*.done"))) == 5, "the queued naps to run", 60)
        assert {p.stem for p in naps.glob("*.done")} == {f"nap{i}" for i in range(5)}
        assert queued_naps(tmp_path) == set()
    finally:
        worker.send_signal(signal.SIGQUIT)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


@pytest.mark.parametrize(
    ("environment", "recycle", "jitter"),
    [({}, 0, 0), ({"GUNICORN_MAX_REQUESTS": "10000"}, 10000, 5000)],
)
def test_workers_are_recycled_only_when_an_operator_asks(monkeypatch, environment, recycle, jitter):
    """A flood of refused requests must not recycle every worker at once (each throws away
    what it keeps): off by default, and spread by half the count when set."""
    monkeypatch.delenv("GUNICORN_MAX_REQUESTS", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    config = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))
    assert (config["max_requests"], config["max_requests_jitter"]) == (recycle, jitter)
