"""Surviving the worst: a worker killed mid-refresh, a Redis restart; and the Celery tasks
and the `market_refresh` command that drive refreshes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from market import publish
from market.refresh import refresh_region
from market.tasks import dispatch_due_refreshes
from standin.processes import free_port
from store import get_store, reset_store
from tests.market_env import DOMAIN, FORGE

ROOT = Path(__file__).resolve().parent.parent


def wait_for(condition, timeout=20.0, every=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def test_a_worker_killed_mid_refresh_leaves_the_previous_snapshot(market, settings):
    first = refresh_region(FORGE)
    market.touch(FORGE)
    market.faults.page_latency = 0.3
    settings.MARKET_REFRESH_LOCK_TTL = 2
    env = {
        **os.environ,
        "ESI_BASE_URL": market.base_url,
        "ESI_DOWNTIME": "off",
        "ESI_MAX_CONCURRENCY": "1",
        "STORE_KEY_PREFIX": settings.STORE_KEY_PREFIX,
        "REDIS_URL": settings.REDIS_URL,
        "VAR_DIR": str(settings.VAR_DIR),
        "MARKET_REFRESH_LOCK_TTL": "2",
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "market_refresh", "--region", str(FORGE), "--no-demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: (publish.read_progress(FORGE) or {}).get("done", 0) >= 2)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
    assert publish.current_generation(FORGE) == first.meta.generation
    assert publish.load(FORGE).meta.generation == first.meta.generation
    market.faults.page_latency = 0.0
    time.sleep(2.1)  # the dead worker's lock expires (file locks die with the process)
    assert refresh_region(FORGE).result == "published"
    assert publish.current_generation(FORGE) != first.meta.generation


def start_redis(port: int, directory: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert wait_for(lambda: _answers(port), timeout=10)
    return server


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def test_a_redis_restart_is_survived_without_manual_steps(market, settings, tmp_path):
    port = free_port()
    server = start_redis(port, tmp_path)
    try:
        settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
        reset_store()
        first = refresh_region(FORGE)
        server.terminate()  # Redis goes away, and with it every snapshot (it keeps nothing)
        server.wait(10)
        # Readers keep serving the snapshot their process already loaded.
        assert publish.load(FORGE).meta.generation == first.meta.generation
        server = start_redis(port, tmp_path)
        # Nothing is left in the new Redis: the region is due, the next dispatch refreshes it.
        assert publish.current_generation(FORGE) is None
        queued = _eager(dispatch_due_refreshes)
        assert FORGE in queued
        assert publish.current_generation(FORGE) is not None
        assert publish.load(FORGE).meta.source == "esi"
    finally:
        server.terminate()
        server.wait(10)
        reset_store()


def _eager(task):
    from config.celery import app

    app.conf.task_always_eager = True
    try:
        return task()
    finally:
        app.conf.task_always_eager = False


def test_dispatch_queues_only_due_regions_once(market):
    assert sorted(_eager(dispatch_due_refreshes)) == [FORGE, DOMAIN]
    assert publish.load(FORGE).meta.source == "esi"
    assert publish.load(DOMAIN).meta.source == "esi"
    assert _eager(dispatch_due_refreshes) == []  # both wait for their Expires now


def test_market_refresh_command_publishes_and_reports(market, capsys):
    call_command("market_refresh", "--region", str(FORGE))
    out = capsys.readouterr().out
    assert f"Region {FORGE}: published snapshot" in out
    call_command("market_refresh", "--region", str(FORGE))
    assert "unchanged since" in capsys.readouterr().out


def test_market_refresh_command_fails_with_one_line(market):
    market.faults.unreachable = True
    with pytest.raises(CommandError) as failed:
        call_command("market_refresh", "--region", str(FORGE), "--no-demo")
    message = str(failed.value)
    assert "\n" not in message
    assert f"region {FORGE}" in message
    assert publish.current_generation(FORGE) is None


def test_the_store_is_redis_in_tests():
    assert django_settings.REDIS_URL, "make test runs against the real Redis"
    assert type(get_store()).__name__ == "RedisStore"
