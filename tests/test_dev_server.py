"""`make dev`: a development server on 127.0.0.1 unless asked, whose text logs
keep every structured field (the effective configuration, the access line)."""

import os
import signal
import subprocess

from support.http import free_port, http, wait_ready


def make_dev(project, workdir, **variables) -> str:
    """Run `make dev` with ``variables`` until it serves a request; its output."""
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
