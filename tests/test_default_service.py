"""Each task's default bake works as shipped: `make install`, `make test` and
`make lint` pass in it as a user would run them, a real gunicorn started from
its fresh virtual environment serves its example (model/example.json), and
train.py reproduces the shipped model and refuses to replace one it did not make."""

import json
import re

from support.examples import assert_serves_example, example_of
from support.http import http
from support.processes import run
from support.service import Gunicorn


def test_make_test_passes_in_a_fresh_venv(task_venv):
    project, _ = task_venv
    result = run(["make", "test"], cwd=project, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout


def test_make_lint_passes(task_venv):
    project, _ = task_venv
    result = run(["make", "lint"], cwd=project, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gunicorn_serves_the_example_and_make_smoke_shows_it(task_venv, tmp_path):
    project, python = task_venv
    row = example_of(project)["instances"][0]
    with Gunicorn(project, python, tmp_path) as server:
        server.wait_ready()
        assert_serves_example(server.base, project)
        status, body = http("POST", f"{server.base}/predict", {"instance": [*row[:2], "x", *row[3:]]})
        assert status == 400 and body["error"]["message"].startswith("instance[2]:"), body
        smoke = run(["make", "--no-print-directory", "smoke", f"PORT={server.port}"], cwd=project, check=False)
        assert smoke.returncode == 0, smoke.stdout + smoke.stderr
        answer = json.loads(next(line for line in smoke.stdout.splitlines() if line.startswith("{")))
        assert len(answer["predictions"]) == len(example_of(project)["instances"])
        code, _ = server.terminate(timeout=60)
    assert code == 0, server.output()
    assert '"message": "effective configuration"' in server.output(), server.output()


def test_the_api_docs_requests_answer(task_venv, tmp_path):
    """Every /predict body docs/api.md shows (rows of numbers, rows as objects of named columns) answers 200."""
    project, python = task_venv
    bodies = [
        json.loads(body) for body in re.findall(r"-d '(\{.*?\})'$", (project / "docs" / "api.md").read_text(), re.M)
    ]
    assert any(isinstance(body.get("instance"), dict) for body in bodies), bodies
    with Gunicorn(project, python, tmp_path) as server:
        server.wait_ready()
        answers = [http("POST", f"{server.base}/predict", body) for body in bodies]
    assert [status for status, _ in answers] == [200] * len(bodies), answers
    # The named row is the first example row: the same answer as it, sent positionally.
    named = next(
        answer for body, (_, answer) in zip(bodies, answers, strict=True) if isinstance(body.get("instance"), dict)
    )
    positional = next(
        answer for body, (_, answer) in zip(bodies, answers, strict=True) if isinstance(body.get("instance"), list)
    )
    assert named["predictions"] == positional["predictions"]


def test_make_smoke_shows_the_json_error(service_venv, tmp_path):
    project, python = service_venv
    # A stale example, one feature short (a model swapped without its example.json).
    example = example_of(project)
    example["instances"] = [row[:-1] for row in example["instances"]]
    (tmp_path / "example.json").write_text(json.dumps(example))
    with Gunicorn(project, python, tmp_path) as server:
        server.wait_ready()
        smoke = run(
            ["make", "--no-print-directory", "smoke", f"PORT={server.port}", f"MODEL_PATH={tmp_path / 'model.onnx'}"],
            cwd=project,
            check=False,
        )
    assert smoke.returncode != 0
    assert '"code":"wrong_feature_count"' in smoke.stdout.replace(" ", ""), smoke.stdout + smoke.stderr


def test_train_reproduces_the_shipped_model_and_keeps_a_foreign_one(task_venv, tmp_path):
    project, python = task_venv
    run([python, "-m", "pip", "install", "-q", "-r", "requirements-train.txt"], cwd=project, timeout=900)
    run([python, "tools/train.py", "--output", tmp_path / "model.onnx"], cwd=project)
    for name in ("model.onnx", "model.onnx.sha256", "metadata.json", "example.json"):
        assert (tmp_path / name).read_bytes() == (project / "model" / name).read_bytes(), name
    foreign = b"not the model train.py makes"
    (tmp_path / "model.onnx").write_bytes(foreign)
    refused = run(
        ["make", "--no-print-directory", "train", f"MODEL_PATH={tmp_path / 'model.onnx'}"], cwd=project, check=False
    )
    assert refused.returncode != 0 and "is not the model this script makes" in refused.stderr, refused.stderr
    assert (tmp_path / "model.onnx").read_bytes() == foreign
    run(["make", "--no-print-directory", "train", f"MODEL_PATH={tmp_path / 'model.onnx'}", "FORCE=1"], cwd=project)
    assert (tmp_path / "model.onnx").read_bytes() == (project / "model" / "model.onnx").read_bytes()
