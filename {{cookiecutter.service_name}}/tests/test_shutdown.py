"""Stopping: a worker refuses new connections at once and reports not ready;
gunicorn's worker_exit hook ends only a worker, never the master."""

import os
import signal
import socket
import subprocess
import sys
import threading
from types import SimpleNamespace

import pytest

from service.server import draining
from support.app import PROJECT


@pytest.fixture
def fresh_draining(monkeypatch):
    """A process that has not begun to stop, and its SIGTERM handler back afterwards."""
    monkeypatch.setattr(draining, "_started", threading.Event())
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


def test_sigterm_closes_the_listener_runs_gunicorns_handler_and_readyz_says_503(client, fresh_draining):
    calls = []
    signal.signal(signal.SIGTERM, lambda signum, frame: calls.append("gunicorn's handler"))
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    draining.stop_listening_on_sigterm(SimpleNamespace(sockets=[listener]))
    assert client.get("/readyz").status_code == 200
    assert client.get("/v2/health/ready").status_code == 200

    os.kill(os.getpid(), signal.SIGTERM)

    assert calls == ["gunicorn's handler"]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "not_ready", "reason": "shutting down"}
    v2 = client.get("/v2/health/ready")
    assert (v2.status_code, v2.get_json()) == (503, {"ready": False})
    assert client.get("/healthz").status_code == 200  # alive, still finishing its requests


# gunicorn calls worker_exit in the master too: Arbiter.kill_worker does, for
# a worker that died before the master could signal it (ESRCH).  This runs
# that code path of gunicorn's with the hooks of gunicorn.conf.py.
MASTER_MEETS_A_DEAD_WORKER = """
import runpy, signal, subprocess, sys
from types import SimpleNamespace
from gunicorn.arbiter import Arbiter

hooks = runpy.run_path("gunicorn.conf.py")
dead = subprocess.Popen([sys.executable, "-c", "pass"])
dead.wait()
master = Arbiter.__new__(Arbiter)
master.cfg = SimpleNamespace(worker_exit=hooks["worker_exit"])
master.WORKERS = {dead.pid: SimpleNamespace(pid=dead.pid, tmp=SimpleNamespace(close=lambda: None))}
master.kill_worker(dead.pid, signal.SIGTERM)
hooks["on_exit"](master)
print("master carries on")
"""

WORKER_LEAVES = """
import os, runpy
from types import SimpleNamespace

hooks = runpy.run_path("gunicorn.conf.py")
hooks["on_exit"](None)
try:
    raise SystemExit(3)
except SystemExit:
    hooks["worker_exit"](None, SimpleNamespace(pid=os.getpid()))
print("worker carries on")
"""


def run_python(code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_worker_exit_in_the_master_leaves_the_master_running():
    result = run_python(MASTER_MEETS_A_DEAD_WORKER)
    assert (result.returncode, result.stdout) == (0, "master carries on\n"), result.stderr


def test_worker_exit_in_a_worker_leaves_at_once_with_gunicorns_exit_code():
    result = run_python(WORKER_LEAVES)
    assert (result.returncode, result.stdout) == (3, ""), result.stderr
