"""The default bake works as shipped: its own tests pass in a fresh virtual
environment made from its requirements files, a real gunicorn started from it
serves correct predictions, and train.py reproduces the shipped model."""

import os
import subprocess
import venv

import pytest
from conftest import assert_predicts_known_flowers, free_port, http, run, wait_ready


@pytest.fixture(scope="module")
def default_service(cookies_session, tmp_path_factory):
    """The default bake with a fresh .venv holding its dev and training requirements."""
    result = cookies_session.bake()
    assert result.exception is None, result.exception
    project = result.project_path
    venv.create(project / ".venv", with_pip=True)
    python = project / ".venv" / "bin" / "python"
    run(
        [python, "-m", "pip", "install", "--disable-pip-version-check", "-q",
         "-r", "requirements-dev.txt", "-r", "requirements-train.txt"],
        cwd=project, timeout=900,
    )  # fmt: skip
    return project, python


def test_own_test_suite_passes_in_a_fresh_venv(default_service):
    project, python = default_service
    result = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout


def test_own_lint_passes(default_service):
    project, python = default_service
    bin_dir = python.parent
    run([bin_dir / "ruff", "check", "--no-cache", "."], cwd=project)
    run([bin_dir / "ruff", "format", "--check", "--no-cache", "."], cwd=project)
    run([bin_dir / "hadolint", "Dockerfile.cpu", "Dockerfile.gpu"], cwd=project)


def test_gunicorn_serves_correct_predictions(default_service):
    project, python = default_service
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "2"}
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


def test_train_reproduces_the_shipped_model(default_service, tmp_path):
    project, python = default_service
    run([python, "train.py", "--output", tmp_path / "iris.onnx"], cwd=project)
    assert (tmp_path / "iris.onnx").read_bytes() == (project / "model" / "iris.onnx").read_bytes()
    assert (tmp_path / "iris.onnx.sha256").read_text() == (project / "model" / "iris.onnx.sha256").read_text()
