"""The service as it runs in production: gunicorn with gunicorn.conf.py, two workers."""

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from support.app import PROJECT
from support.model import EXAMPLE, assert_matches_example


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@contextlib.contextmanager
def start_gunicorn(log: Path | None = None, **settings: str):
    """gunicorn with gunicorn.conf.py on a free port, two workers and ``settings``: its URL, then a clean stop.

    Its output is checked at the stop; ``log`` keeps it in a file as well
    (a test reading many access lines: a pipe nobody reads would fill and stall the server).
    """
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "2", "LOG_FORMAT": "json", **settings}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    output_file = open(log, "w+") if log else None  # noqa: SIM115  # closed below
    process = subprocess.Popen(
        [str(gunicorn), "--config", "gunicorn.conf.py", "serve_http:app"],
        cwd=PROJECT,
        env=env,
        stdout=output_file or subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if get(f"{base}/readyz")[0] == 200:
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(f"gunicorn did not become ready:\n{process.communicate()[0]}")
    try:
        yield base
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
        if output_file:
            output_file.close()
            output = log.read_text()
    assert process.returncode == 0, output[-5000:]
    # Workers must exit cleanly too, not be aborted or killed on shutdown.
    assert "SIGABRT" not in output and "SIGKILL" not in output and "terminate called" not in output, output[-5000:]


@pytest.fixture(scope="module")
def server():
    with start_gunicorn() as base:
        yield base


def predict_example(base: str) -> list:
    request = urllib.request.Request(
        f"{base}/predict",
        data=json.dumps(EXAMPLE.request()).encode(),
        headers={"Content-Type": "application/json", "X-Request-ID": "gunicorn-test"},
    )
    # A worker deadlocked in the model runtime shows as this timeout.
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["X-Request-ID"] == "gunicorn-test"
        assert response.headers["Server"] == "gunicorn"
        return json.load(response)["predictions"]


def test_serves_the_example_over_http(server):
    predictions = predict_example(server)
    labels = json.loads(get(f"{server}/metadata")[1]).get("labels", [])
    assert_matches_example(predictions, labels)


def test_several_model_threads_per_worker_serve():
    """MODEL_THREADS=2 with two workers{% if cookiecutter.model_framework != "onnx" %} forked from the preloaded master{% endif %}.

    A runtime's thread pool started in the master does not survive fork: a
    prediction on a forked worker's main thread waits forever on threads that
    exist only in the master (XGBoost's OpenMP pool does), which is why
    requests run on gthread's own threads.  Every worker would hang, so a few
    predictions show it.
    """
    with start_gunicorn(MODEL_THREADS="2") as base:
        labels = json.loads(get(f"{base}/metadata")[1]).get("labels", [])
        for _ in range(8):
            assert_matches_example(predict_example(base), labels)


def keep_alive_load(base: str, connections: int, seconds: float) -> list[str]:
    """``connections`` clients posting the example back to back on keep-alive connections: their failures."""
    host, port = base.removeprefix("http://").split(":")
    body = json.dumps(EXAMPLE.request())
    failures: list[str] = []
    stop = time.monotonic() + seconds

    def client() -> None:
        # http.client reconnects by itself after an answer with "Connection: close".
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        while time.monotonic() < stop:
            try:
                connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failures.append(f"status {response.status}")
            except (OSError, http.client.HTTPException) as error:
                failures.append(repr(error))
                connection.close()
        connection.close()

    clients = [threading.Thread(target=client) for _ in range(connections)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    return failures


def log_events(log: Path) -> list[dict]:
    """The JSON lines of a gunicorn log, each with ``at``, its time in seconds since the epoch."""
    events = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    for event in events:
        event["at"] = datetime.fromisoformat(event["time"]).timestamp()
    return events


def booted_workers(log: Path) -> list[tuple[float, int]]:
    """(when, pid) of each worker that started, in order."""
    return [(e["at"], e["pid"]) for e in log_events(log) if e["message"].startswith("Booting worker")]


def answered_by(log: Path, start: float, end: float) -> list[int]:
    """The worker of each answer logged between ``start`` and ``end``."""
    return [e["pid"] for e in log_events(log) if e["logger"] == "service.access" and start <= e["at"] < end]


def test_recycling_under_keep_alive_load_fails_no_request(tmp_path):
    """Workers recycled every hundred-odd requests while clients hold keep-alive connections: every request answered.

    A hundred, so that even a slow model (a pipeline on a data frame) or a
    busy machine gets its recycles within the 4 s.
    """
    log = tmp_path / "gunicorn.log"
    with start_gunicorn(log=log, MAX_REQUESTS="100", MAX_REQUESTS_JITTER="30") as base:
        failures = keep_alive_load(base, connections=8, seconds=4)
    assert failures == [], failures[:5]
    recycles = len(booted_workers(log)) - 2
    assert recycles >= 2, f"only {recycles} recycles in 4 s: the load was too light to test them"


def test_a_worker_started_under_keep_alive_load_takes_its_share_at_once(tmp_path):
    """A worker that starts while the others hold every keep-alive connection (as a recycled worker's replacement does).

    The replacement of a recycled worker starts after its clients have
    reconnected to the other workers, and keep-alive keeps them there: without
    service/server/rebalance.py it served nothing.  Here a third worker is
    added under load (gunicorn's TTIN signal to the master), the same
    situation without stopping anyone, so the test is deterministic.
    """
    log = tmp_path / "gunicorn.log"
    with start_gunicorn(log=log, MAX_REQUESTS="0", KEEPALIVE="30") as base:
        failures: list[str] = []
        load = threading.Thread(target=lambda: failures.extend(keep_alive_load(base, connections=9, seconds=4.5)))
        load.start()
        time.sleep(1)
        master = next(e["pid"] for e in log_events(log) if e["message"].startswith("Starting gunicorn"))
        os.kill(master, signal.SIGTTIN)
        load.join()
        workers = booted_workers(log)
    assert failures == [], failures[:5]
    assert len(workers) == 3, workers
    booted, added = workers[-1]
    answers = answered_by(log, booted + 0.5, booted + 3.0)
    share = answers.count(added) / max(len(answers), 1)
    # An even split is a third; a worker left without connections serves about none.
    assert share > 0.2, f"the added worker answered {share:.0%} of {len(answers)} requests"


def test_metrics_add_up_across_workers(server):
    for _ in range(20):
        get(f"{server}/healthz")
    status, body = get(f"{server}/metrics")
    assert status == 200
    line = next(
        line
        for line in body.decode().splitlines()
        if line.startswith('http_requests_total{method="GET",route="/healthz",status="200"}')
    )
    assert float(line.split()[-1]) >= 20
{%- if cookiecutter.model_framework == "onnx" %}


@pytest.mark.parametrize(("threads", "preloaded"), [("1", True), ("2", False), ("0", False)])
def test_onnx_runtime_threads_need_a_session_per_worker(threads, preloaded):
    """PRELOAD holds only with MODEL_THREADS=1: a session's threads would stay in the master."""
    env = {**os.environ, "MODEL_THREADS": threads, "PRELOAD": "true"}
    script = "import runpy; print(runpy.run_path('gunicorn.conf.py')['preload_app'])"
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, env=env, capture_output=True, text=True)
    assert result.stdout.strip() == str(preloaded), result.stderr
{%- endif %}
