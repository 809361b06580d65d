"""Scale-out: two gunicorn instances, two Celery workers and one beat on this machine,
sharing PostgreSQL and Redis, behave as one deployment.

The ESI stand-in runs in this process, so every request the workers make is on record:
no region is ever fetched by two refreshes at once, no board is built twice from the same
snapshots, and a session made on one instance is valid on the other.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import connection

from standin.esi import EsiStandIn
from standin.processes import stop_all
from tests.conftest import drop_store_prefix
from tests.market_env import DOMAIN, FORGE
from tests.processes import BIN, ROOT, free_port, ready, wait_for

CONCURRENCY = 2  # ESI pages fetched at once by one refresh

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "sde"]),
    pytest.mark.timeout(240),
]


class Deployment:
    """The processes of one deployment, with their logs in `folder`."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = env
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.urls: list[str] = []

    def start(self, name: str, argv: list[str]) -> None:
        log = (self.folder / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def web(self, name: str) -> str:
        port = free_port()
        env = {**self.env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
        log = (self.folder / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        self.urls.append(url)
        return url

    def log_records(self, name: str) -> list[dict]:
        records = []
        for line in (self.folder / f"{name}.log").read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return records

    def stop(self) -> None:
        stop_all(self.processes.values(), grace=20)


@pytest.fixture
def standin() -> Iterator[EsiStandIn]:
    with EsiStandIn(page_size=100, expires_in=3600.0, seed=5) as server:
        server.generate(FORGE, 3_000)  # 30 pages
        server.generate(DOMAIN, 1_000)
        server.faults.page_latency = 0.05  # a refresh takes about a second
        yield server


@pytest.fixture
def deployment(tmp_path: Path, standin: EsiStandIn) -> Iterator[Deployment]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": django_settings.REDIS_URL,
        "SECRET_KEY": django_settings.SECRET_KEY,  # one deployment, one key: shared sessions
        "STORE_KEY_PREFIX": f"scaleout-{uuid.uuid4().hex}",
        "CELERY_QUEUE": f"scaleout-{uuid.uuid4().hex}",
        "ESI_BASE_URL": standin.base_url,
        "ESI_MAX_CONCURRENCY": str(CONCURRENCY),
        "ESI_DOWNTIME": "off",
        "MARKET_REGIONS": f"{FORGE},{DOMAIN}",
        "MARKET_DEMO_FALLBACK": "false",
        "VAR_DIR": str(tmp_path),
        "SDE_PATH": str(django_settings.SDE_PATH),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "2",
        "LOG_FORMAT": "json",
        "RATE_LIMIT_ENABLED": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    (tmp_path / "prometheus").mkdir()
    topology = Deployment(tmp_path, env)
    celery = str(BIN / "celery")
    try:
        for name in ("worker-1", "worker-2"):
            topology.start(
                name,
                [celery, "-A", "config", "worker", "--concurrency=1", "--pool=prefork",
                 f"--hostname={name}@%h", "--loglevel=INFO", "--without-gossip",
                 "--without-mingle"],
            )  # fmt: skip
        topology.start(
            "beat",
            [celery, "-A", "config", "beat", "--loglevel=INFO",
             f"--schedule={tmp_path / 'beat-schedule'}"],
        )  # fmt: skip
        topology.web("web-1")
        topology.web("web-2")
        for url in topology.urls:
            wait_for(partial(ready, url), url)
        yield topology
    finally:
        topology.stop()
        drop_store_prefix(env["STORE_KEY_PREFIX"])


def staff_session(base_url: str, username: str, password: str) -> requests.Session:
    """Log in through the admin's login form of one instance."""
    session = requests.Session()
    login = base_url + "/admin/login/"
    session.get(login, timeout=10)
    answer = session.post(
        login,
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/admin/",
        },
        headers={"Referer": login},
        timeout=10,
    )
    assert answer.ok and "Log out" in answer.text, answer.text[:500]
    return session


def generation(base_url: str, region_id: int) -> str | None:
    status = requests.get(base_url + "/api/v1/market/status", timeout=10).json()
    for region in status["regions"]:
        if region["region_id"] == region_id and region["snapshot"]:
            return str(region["snapshot"]["generation"])
    return None


def max_in_flight(standin: EsiStandIn, region_id: int) -> int:
    """The most orders requests of one region the stand-in was answering at one time."""
    path = f"/markets/{region_id}/orders/"
    events: list[tuple[float, int]] = []
    for record in list(standin.requests):
        if record.path.rstrip("/") + "/" == path and record.answered:
            events += [(record.time, 1), (record.answered, -1)]
    busiest = current = 0
    for _, change in sorted(events):  # an end sorts before a start at the same moment
        current += change
        busiest = max(busiest, current)
    return busiest


def test_two_instances_and_two_workers_behave_as_one_deployment(deployment, standin):
    web_1, web_2 = deployment.urls
    get_user_model().objects.create_superuser("ops", "ops@example.com", "scale-out-pw-1")

    # Beat queues the first refresh of both regions; either worker takes each.
    wait_for(
        lambda: bool(generation(web_1, FORGE)) and bool(generation(web_2, DOMAIN)),
        "the first snapshots",
    )
    first = generation(web_1, FORGE)
    assert generation(web_2, FORGE) == first  # both instances read the one store

    # A session made on one instance is valid on the other (shared database and key).
    session = staff_session(web_1, "ops", "scale-out-pw-1")
    other = requests.Session()
    other.cookies.update(session.cookies)
    assert "Log out" in other.get(web_2 + "/admin/", timeout=10).text

    # ESI turns over; staff on both instances ask for the Forge at once, several times.
    standin.touch(FORGE)
    standin.generate(FORGE, 3_000, seed=9)

    def ask(client: requests.Session, base: str) -> int:
        return client.post(
            base + "/api/v1/market/refresh",
            json={"region_id": FORGE},
            headers={"X-CSRFToken": client.cookies["csrftoken"], "Referer": base},
            timeout=10,
        ).status_code

    with ThreadPoolExecutor(6) as pool:
        asked = list(pool.map(ask, [session, other] * 3, [web_1, web_2] * 3))
    assert set(asked) == {202}, asked
    wait_for(lambda: generation(web_2, FORGE) not in (None, first), "the new Forge snapshot")

    # Never two refreshes of a region at once: one refresh has at most CONCURRENCY pages
    # in flight; two overlapping ones would have had more.
    wait_for(lambda: max_in_flight(standin, FORGE) > 0, "recorded Forge requests")
    assert max_in_flight(standin, FORGE) <= CONCURRENCY
    assert max_in_flight(standin, DOMAIN) <= CONCURRENCY

    # Both workers took part, and every board was built once for its set of snapshots.
    def boards_built() -> list[dict]:
        return [
            record
            for name in ("worker-1", "worker-2")
            for record in deployment.log_records(name)
            if record.get("message", "").startswith("published boards")
        ]

    latest = {str(FORGE): generation(web_1, FORGE), str(DOMAIN): generation(web_1, DOMAIN)}
    wait_for(lambda: any(b["built_from"] == latest for b in boards_built()), "the new boards")
    built_from = [json.dumps(b["built_from"], sort_keys=True) for b in boards_built()]
    assert len(built_from) == len(set(built_from)), built_from
    refreshed_by = {
        name
        for name in ("worker-1", "worker-2")
        for record in deployment.log_records(name)
        if "published snapshot" in record.get("message", "")
    }
    assert refreshed_by, "no worker logged a published snapshot"
    tasks_by = {
        name
        for name in ("worker-1", "worker-2")
        if any("succeeded" in r.get("message", "") for r in deployment.log_records(name))
    }
    assert tasks_by == {"worker-1", "worker-2"}, "one worker did all the work"

    # Every line of every process is JSON, and both instances still answer.
    for name in deployment.processes:
        assert deployment.log_records(name), f"{name} logged no JSON"
    for url in deployment.urls:
        assert requests.get(url + "/health/ready", timeout=10).ok
