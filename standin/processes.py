"""Small helpers for the tooling that starts the project's own processes (the scale-out and
lifecycle tests, the benchmark and suite scripts): a free port, waiting for a URL, stopping
process groups."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_url(url: str, timeout: float = 120.0) -> None:
    """Until `url` answers 200 (RuntimeError after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout:.0f} s")


def stop_all(processes: Iterable[subprocess.Popen[bytes]], grace: float = 30.0) -> None:
    """SIGTERM to each process's group (each was started with start_new_session=True), then
    SIGKILL to any still there after `grace` seconds."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
