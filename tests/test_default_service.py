"""The default bake works as shipped: `make install`, `make test` and
`make lint` pass in it as a user would run them, a real gunicorn started from
its fresh virtual environment serves correct predictions, and train.py
reproduces the shipped model."""

import os
import subprocess

from conftest import assert_predicts_known_flowers, free_port, http, run, wait_ready


def test_make_test_passes_in_a_fresh_venv(service_venv):
    project, _ = service_venv
    result = run(["make", "test"], cwd=project, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout


def test_make_lint_passes(service_venv):
    project, _ = service_venv
    result = run(["make", "lint"], cwd=project, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gunicorn_serves_correct_predictions(service_venv):
    project, python = service_venv
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "2"}
    server = subprocess.Popen(
        [python.parent / "gunicorn", "--config", "gunicorn.conf.py", "serve_http:app"],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process=server)
        assert_predicts_known_flowers(base)
        status, body = http("POST", f"{base}/predict", {"instance": [5.1, 3.5, "x", 0.2]})
        assert status == 400 and body["error"]["message"].startswith("instance[2]:"), body
    finally:
        server.terminate()
        output = server.communicate(timeout=60)[0]
    assert server.returncode == 0, output
    assert '"message": "effective configuration"' in output, output


def test_train_reproduces_the_shipped_model(service_venv, tmp_path):
    project, python = service_venv
    run([python, "-m", "pip", "install", "-q", "-r", "requirements-train.txt"], cwd=project, timeout=900)
    run([python, "train.py", "--output", tmp_path / "iris.onnx"], cwd=project)
    assert (tmp_path / "iris.onnx").read_bytes() == (project / "model" / "iris.onnx").read_bytes()
    assert (tmp_path / "iris.onnx.sha256").read_text() == (project / "model" / "iris.onnx.sha256").read_text()
