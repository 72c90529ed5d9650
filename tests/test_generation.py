"""Bake every supported combination of answers and check what comes out.

Each baked project must read as hand-written: no template leftovers, Python
that compiles and is ruff-clean, YAML that parses, Dockerfiles that pass
hadolint with their dependency layer before the source, and a Makefile whose
targets print the documented commands (support/bake_checks.py's check_project).
"""

import os
import re
import shlex

import pytest

from support.bake_checks import check_project
from support.baking import bake_ok
from support.matrix import MATRIX
from support.processes import run, tool
from support.template import TEMPLATE

# Free-text answers that stress rendering: quotes, backslashes, non-ASCII,
# a long description, extra system packages, the highest ports.
TEXT_ANSWERS = [
    pytest.param({}, id="defaults"),
    pytest.param(
        {
            "project_name": 'Fraud "Scorer" \\ v2 \u2013 \u00fcn\u00efcode',
            "service_name": "fraud.scorer_v2-api",
            "description": "Scores card payments for fraud; it's " + "very " * 22 + 'long, with "quotes" and \\ too.',
            "port": "8080",
            "system_packages": "ffmpeg libsm6 libxext6",
        },
        id="awkward-text",
    ),
    pytest.param({"port": "65534", "system_packages": "  libgomp1   "}, id="top-port-gpu"),
    pytest.param({"port": "65535", "include_gpu": "no", "system_packages": "libgomp1"}, id="top-port-cpu"),
]


@pytest.mark.parametrize("answers", MATRIX + TEXT_ANSWERS)
def test_bake_is_clean(cookies, answers):
    project = bake_ok(cookies, **answers)
    check_project(project, answers)


def test_default_bake_layout(cookies):
    project = bake_ok(cookies)
    assert project.name == "iris-classifier"
    for name in (
        "serve_http.py",
        "service/app.py",
        "service/inference/loader.py",
        "tools/train.py",
        "gunicorn.conf.py",
        "requirements-serve.txt",
        "requirements-dev.txt",
        "Dockerfile.cpu",
        "Dockerfile.gpu",
        ".dockerignore",
        "compose.yaml",
        "Makefile",
        "README.md",
        "tests/test_predict.py",
        ".pre-commit-config.yaml",
        ".github/workflows/ci.yml",
    ):
        assert (project / name).is_file(), name
    # The task's example model and its files, copied byte for byte, not rendered; nothing else.
    examples = TEMPLATE / "{{cookiecutter.service_name}}" / ".models" / "onnx"
    assert not (project / ".models").exists()
    shipped = sorted(path.name for path in (project / "model").iterdir())
    assert shipped == ["example.json", "metadata.json", "model.onnx", "model.onnx.sha256"]
    for name in shipped:
        assert (project / "model" / name).read_bytes() == (examples / "classification" / name).read_bytes(), name
    # Runtime dependencies are all pinned, in layers: common, then the CPU or the GPU build of ONNX Runtime.
    for name in ("requirements-common.txt", "requirements-serve.txt", "requirements-gpu.txt"):
        for line in (project / name).read_text().splitlines():
            if line and not line.startswith("#") and line != "-r requirements-common.txt":
                assert re.fullmatch(r"[a-z0-9-]+==[0-9][0-9a-z.]*", line), f"{name}: {line}"
    assert "-r requirements-common.txt" in (project / "requirements-gpu.txt").read_text().splitlines()
    # The README reads in minutes (the reference is in docs/): under 8 KB, as the anchors' are.
    readme = (project / "README.md").read_bytes()
    assert len(readme) <= 8 * 1024, f"README.md is {len(readme)} bytes"
    assert b"## Where to change what" in readme


# What Dockerfile.gpu may do differently from Dockerfile.cpu, from the user on:
# its requirements file, its own Python, the GPU defaults, a longer start.
GPU_DIFFERENCES = re.compile(
    r"requirements-(serve|gpu)\.txt|-m venv|^ENV PORT|^ {4}(PRELOAD|WORKERS)=|CUDA context|one worker per GPU|start-period"
)


def test_dockerfiles_follow_one_pattern(cookies):
    project = bake_ok(cookies)

    def steps(name: str) -> list[str]:
        text = (project / name).read_text()
        return [line for line in text[text.index("ARG UID=") :].splitlines() if not GPU_DIFFERENCES.search(line)]

    assert steps("Dockerfile.cpu") == steps("Dockerfile.gpu")


def test_regression_bake_ships_the_diabetes_example(cookies):
    project = bake_ok(cookies, task="regression")
    assert project.name == "diabetes-progression"
    examples = TEMPLATE / "{{cookiecutter.service_name}}" / ".models" / "onnx" / "regression"
    for name in ("example.json", "metadata.json", "model.onnx", "model.onnx.sha256"):
        assert (project / "model" / name).read_bytes() == (examples / name).read_bytes(), name


@pytest.mark.parametrize(
    ("answers", "gpu"),
    [
        pytest.param({"model_framework": "sklearn"}, False, id="sklearn-default"),
        pytest.param({"model_framework": "xgboost"}, True, id="xgboost-default"),
        pytest.param({"include_gpu": "n"}, False, id="spelled-n"),
        # A .cruft.json written while include_gpu was a yes/no question holds a boolean.
        pytest.param({"include_gpu": False}, False, id="cruft-false"),
        pytest.param({"include_gpu": True}, True, id="cruft-true"),
    ],
)
def test_the_gpu_default_follows_the_framework_and_every_spelling_is_read(cookies, answers, gpu):
    """`--no-input model_framework=sklearn` bakes (no GPU build, so no GPU files) instead of
    failing on a default the hook refuses; an explicit yes with sklearn is still refused (test_frameworks)."""
    project = bake_ok(cookies, **answers)
    assert (project / "Dockerfile.gpu").exists() is gpu
    assert ("run-gpu:" in (project / "Makefile").read_text()) is gpu


def test_cookiecutter_no_input_bakes_sklearn_without_gpu_files(tmp_path):
    """The issue's command, through cookiecutter's own CLI rather than pytest-cookies."""
    run([tool("cookiecutter"), "--no-input", str(TEMPLATE), "model_framework=sklearn"], cwd=tmp_path)
    project = tmp_path / "iris-classifier"
    assert (project / "Dockerfile.cpu").exists() and not (project / "Dockerfile.gpu").exists()
    assert "gpu" not in (project / "compose.yaml").read_text()


def test_service_name_derives_from_project_name(cookies):
    project = bake_ok(cookies, project_name="Credit Risk Scorer")
    assert project.name == "credit-risk-scorer"


def test_post_gen_prints_next_steps(cookies, capfd):
    project = bake_ok(cookies, include_gpu="no")
    out = capfd.readouterr().out
    # pytest-cookies bakes outside the current directory: the full path.
    assert f"Generated {project}/. Next steps:" in out and f"\n  cd {project}\n" in out and "make dev" in out


@pytest.mark.parametrize(
    ("options", "path"), [([], "iris-classifier"), (["-o", "out/my dir"], "out/my dir/iris-classifier")]
)
def test_next_steps_name_the_directory_from_where_cookiecutter_ran(tmp_path, options, path):
    result = run(
        [tool("cookiecutter"), "--no-input", str(TEMPLATE), *options],
        cwd=tmp_path,
        env={**os.environ, "PWD": str(tmp_path)},
    )
    assert (tmp_path / path / "Makefile").is_file()
    assert f"Generated {path}/." in result.stdout and f"\n  cd {shlex.quote(path)}\n" in result.stdout, result.stdout
