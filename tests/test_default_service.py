"""The default bake works as shipped: `make install`, `make test` and
`make lint` pass in it as a user would run them, a real gunicorn started from
its fresh virtual environment serves correct predictions, and train.py
reproduces the shipped model."""

from conftest import assert_predicts_known_flowers, http, run
from service import Gunicorn


def test_make_test_passes_in_a_fresh_venv(service_venv):
    project, _ = service_venv
    result = run(["make", "test"], cwd=project, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout


def test_make_lint_passes(service_venv):
    project, _ = service_venv
    result = run(["make", "lint"], cwd=project, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gunicorn_serves_correct_predictions(service_venv, tmp_path):
    project, python = service_venv
    with Gunicorn(project, python, tmp_path) as server:
        server.wait_ready()
        assert_predicts_known_flowers(server.base)
        status, body = http("POST", f"{server.base}/predict", {"instance": [5.1, 3.5, "x", 0.2]})
        assert status == 400 and body["error"]["message"].startswith("instance[2]:"), body
        code, _ = server.terminate(timeout=60)
    assert code == 0, server.output()
    assert '"message": "effective configuration"' in server.output(), server.output()


def test_train_reproduces_the_shipped_model(service_venv, tmp_path):
    project, python = service_venv
    run([python, "-m", "pip", "install", "-q", "-r", "requirements-train.txt"], cwd=project, timeout=900)
    run([python, "train.py", "--output", tmp_path / "iris.onnx"], cwd=project)
    assert (tmp_path / "iris.onnx").read_bytes() == (project / "model" / "iris.onnx").read_bytes()
    assert (tmp_path / "iris.onnx.sha256").read_text() == (project / "model" / "iris.onnx.sha256").read_text()
