"""`make dev`: a development server on 127.0.0.1 unless asked, whose text logs
keep every structured field (the effective configuration, the access line),
that needs only the runtime pins and restarts when the model's files change."""

import os
import signal
import subprocess
import time

from support.baking import bake_ok
from support.http import free_port, http, wait_ready
from support.processes import run


def make_dev(project, workdir, while_serving=None, **variables) -> str:
    """Run `make dev` with ``variables`` until it serves a request (and ``while_serving(base_url, log_path)``
    has returned); its output."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("HOST", "WORKERS", "PROMETHEUS_MULTIPROC_DIR")}
    env.update(variables)
    log_path = workdir / f"make-dev-{port}.log"
    with log_path.open("w") as log:
        # Its own session: make, and the gunicorn it starts, stop together.
        process = subprocess.Popen(
            ["make", "dev", f"PORT={port}"], cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_ready(f"http://127.0.0.1:{port}", timeout=60, process=process)
        assert http("GET", f"http://127.0.0.1:{port}/healthz")[0] == 200
        if while_serving is not None:
            while_serving(f"http://127.0.0.1:{port}", log_path)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    return log_path.read_text().replace(str(port), "PORT")


def test_make_dev_listens_on_loopback_and_logs_its_settings_as_text(service_venv, tmp_path):
    project, _ = service_venv
    output = make_dev(project, tmp_path)
    assert "Listening at: http://127.0.0.1:PORT" in output, output
    config = next(line for line in output.splitlines() if "effective configuration" in line)
    assert "bind=127.0.0.1:PORT workers=" in config and " preload=False " in config and "log_format=text" in config
    access = next(line for line in output.splitlines() if "GET /healthz 200" in line)
    assert " request_id=" in access and " status=200 " in access and " duration_ms=" in access, access
    assert not output.lstrip().startswith("{"), "LOG_FORMAT=text, not JSON"


def test_make_dev_listens_on_every_interface_when_asked(service_venv, tmp_path):
    project, _ = service_venv
    assert "Listening at: http://0.0.0.0:PORT" in make_dev(project, tmp_path, HOST="0.0.0.0")


def test_make_dev_needs_only_the_runtime_pins(cookies):
    """A fresh bake's `make dev` installs requirements-serve.txt, not the dev tools (tests, linters, kubectl)."""
    project = bake_ok(cookies)
    plan = run(["make", "-n", "dev"], cwd=project).stdout
    assert "-r requirements-serve.txt" in plan, plan
    assert "requirements-dev.txt" not in plan and "requirements-train.txt" not in plan, plan
    # The tests do need the dev tools, installed over the same .venv.
    assert "-r requirements-dev.txt" in run(["make", "-n", "test"], cwd=project).stdout


def test_make_dev_restarts_when_a_model_file_changes(service_venv, tmp_path):
    """A retrained or swapped model (any file in model/) reaches the running server with no restart by hand."""
    project, _ = service_venv
    metadata = project / "model" / "metadata.json"

    def touch_the_model(base_url, log_path):
        before = metadata.stat()
        # A new modification time, the content kept: the shared bake stays as it was.
        os.utime(metadata, ns=(before.st_atime_ns, before.st_mtime_ns + 5_000_000_000))
        deadline = time.monotonic() + 30
        while "metadata.json modified" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        wait_ready(base_url, timeout=60)

    output = make_dev(project, tmp_path, while_serving=touch_the_model)
    assert "Worker reloading: " in output and "model/metadata.json modified" in output, output
