"""The service as it runs in production: gunicorn with gunicorn.conf.py, two workers."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
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
def start_gunicorn(**settings: str):
    """gunicorn with gunicorn.conf.py on a free port, two workers and ``settings``: its URL, then a clean stop."""
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "2", "LOG_FORMAT": "json", **settings}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "--config", "gunicorn.conf.py", "serve_http:app"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
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
    assert process.returncode == 0, output
    # Workers must exit cleanly too, not be aborted or killed on shutdown.
    assert "SIGABRT" not in output and "SIGKILL" not in output and "terminate called" not in output, output


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
