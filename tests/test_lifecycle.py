"""Graceful lifecycle: SIGTERM lets in-flight requests and tasks finish within a bound."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
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
