"""The generated project's layout keeps its promises: the root holds only what
the README names, the dependency rule of service/ is enforced, and each row of
the README's "Where to change what" is true: the change is made in the files
that row names, and the bake's own tests then pass."""

import json
import re
import subprocess

import pytest

from support.processes import run

# The default bake's root: the entry points, the build and run files, model/,
# docs/, tests/, tools/, k8s/, the CI and pre-commit files, and the package.
ROOT_ENTRIES = {
    ".dockerignore",
    ".github",
    ".gitignore",
    ".pre-commit-config.yaml",
    "Dockerfile.cpu",
    "Dockerfile.gpu",
    "Makefile",
    "README.md",
    "compose.yaml",
    "docs",
    "gunicorn.conf.py",
    "healthcheck.py",
    "k8s",
    "model",
    "pyproject.toml",
    "requirements-common.txt",
    "requirements-dev.txt",
    "requirements-gpu.txt",
    "requirements-serve.txt",
    "requirements-train.txt",
    "serve_http.py",
    "service",
    "start.py",
    "tests",
    "tools",
}
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "PATH": "/usr/bin:/bin",
}


def test_default_bake_root_holds_only_the_named_files(cookies):
    # A bake of its own: the shared default bake has run make targets that leave caches.
    result = cookies.bake()
    assert result.exception is None, result.exception
    assert {path.name for path in result.project_path.iterdir()} == ROOT_ENTRIES


def test_the_package_is_at_most_two_levels_deep(default_bake):
    for path in (default_bake / "service").rglob("*.py"):
        assert len(path.relative_to(default_bake / "service").parts) <= 2, path


def where_to_change(project) -> dict[str, str]:
    """The README's "Where to change what" table: its rows, by their first cell."""
    readme = (project / "README.md").read_text()
    section = readme.split("## Where to change what", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|") and not line.startswith("|--")]
    return {row.split("|")[1].strip().lower(): row for row in rows[1:]}


def fresh_bake(cookies):
    """A fresh default bake, committed, so `git status` shows exactly what a change touched."""
    result = cookies.bake()
    assert result.exception is None, result.exception
    project = result.project_path
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "baked"]):
        subprocess.run(["git", *args], cwd=project, env=GIT_ENV, check=True, capture_output=True)
    return project


def touched(project) -> list[str]:
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted(line[3:] for line in status.splitlines() if "__pycache__" not in line)


def replace_once(path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path.name}: {old!r} found {text.count(old)} times"
    path.write_text(text.replace(old, new))


def assert_bake_tests_pass(project, python) -> None:
    result = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, check=False, timeout=900)
    assert result.returncode == 0 and " passed" in result.stdout, result.stdout + result.stderr
    assert " failed" not in result.stdout and " error" not in result.stdout, result.stdout


def in_the_bake(project, python, code: str, env: dict | None = None, args: list[str] = ()):
    """Run ``code`` with the bake's venv inside the bake; the JSON it printed last."""
    result = run([python, "-c", code, *args], cwd=project, env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


OWNER_ROUTE = '''"""Who runs this service: GET /owner."""

from flask import Blueprint, jsonify

from service.api import schemas
from service.web.openapi import operation

blueprint = Blueprint("owner", __name__)


@blueprint.get("/owner")
@operation("The team that runs this service", {200: ("The team.", schemas.StatusResponse)})
def owner():
    return jsonify(status="run by the fraud team")
'''


def test_add_a_route_in_one_place(cookies, service_venv):
    project, python = fresh_bake(cookies), service_venv[1]
    (project / "service" / "api" / "owner.py").write_text(OWNER_ROUTE)
    replace_once(project / "service" / "api" / "__init__.py", "from service.api import docs, ops, predict\n",
                 "from service.api import docs, ops, owner, predict\n")  # fmt: skip
    replace_once(project / "service" / "api" / "__init__.py", "    predict.blueprint,\n",
                 "    predict.blueprint,\n    owner.blueprint,\n")  # fmt: skip
    assert touched(project) == ["service/api/__init__.py", "service/api/owner.py"]
    answers = in_the_bake(
        project,
        python,
        """
import json
from service.app import create_app
from service.settings import load_settings
client = create_app(load_settings(api_key="k")).test_client()
print(json.dumps({
    "anonymous": client.get("/owner").status_code,
    "with_key": client.get("/owner", headers={"X-API-Key": "k"}).get_json(),
    "documented": "/owner" in client.get("/openapi.json", headers={"X-API-Key": "k"}).get_json()["paths"],
}))
""",
    )
    # Registered, documented and behind the API key like every route not marked public.
    assert answers == {"anonymous": 401, "with_key": {"status": "run by the fraud team"}, "documented": True}
    # The README's row names the files just changed.
    row = where_to_change(project)["add a route"]
    assert "`service/api/__init__.py`" in row, row
    assert_bake_tests_pass(project, python)


# POST /predict in the bake: the example's instances, or the rows given as argv[1] (JSON).
PREDICT = """
import json, sys
from service.app import create_app
rows = json.loads(sys.argv[1]) if len(sys.argv) > 1 else json.load(open("model/example.json"))["instances"]
answer = create_app().test_client().post("/predict", json={"instances": rows}).get_json()
print(json.dumps([p["probabilities"][k] for p in answer["predictions"] for k in sorted(p["probabilities"])]))
"""


def test_add_preprocessing_changes_the_answer(cookies, service_venv):
    project, python = fresh_bake(cookies), service_venv[1]
    before = in_the_bake(project, python, PREDICT)
    example = json.loads((project / "model" / "example.json").read_text())
    in_cm = example["instances"]
    # Clients now send millimetres; the model was trained on centimetres.
    replace_once(project / "service" / "inference" / "processing.py",
                 '    """A validated request batch -> the model\'s input."""\n    return batch\n',
                 '    """Millimetres, as clients send them, to the centimetres the model was trained on."""\n'
                 "    return batch / 10\n")  # fmt: skip
    example["instances"] = [[round(value * 10, 6) for value in row] for row in in_cm]
    (project / "model" / "example.json").write_text(json.dumps(example, indent=2) + "\n")
    assert touched(project) == ["model/example.json", "service/inference/processing.py"]
    # The example in millimetres gets the answers the centimetres got; centimetres now get others.
    assert in_the_bake(project, python, PREDICT) == pytest.approx(before, abs=1e-5)
    assert in_the_bake(project, python, PREDICT, args=[json.dumps(in_cm)]) != pytest.approx(before, abs=1e-2)
    # The README's row names the files just changed.
    row = where_to_change(project)["add preprocessing"]
    assert "`service/inference/processing.py`" in row and "`model/example.json`" in row, row
    assert_bake_tests_pass(project, python)


def test_add_a_setting_read_from_the_environment(cookies, service_venv):
    project, python = fresh_bake(cookies), service_venv[1]
    replace_once(project / "service" / "settings.py", "    # Your settings go here: one typed field each, e.g.\n",
                 '    score_threshold: float = Field(0.5, ge=0, le=1, description="Least probability to report a label.")\n'
                 "    # Your settings go here: one typed field each, e.g.\n")  # fmt: skip
    assert touched(project) == ["service/settings.py"]
    read = """
import json
from service.app import create_app
print(json.dumps({"threshold": create_app().config["SETTINGS"].score_threshold}))
"""
    assert in_the_bake(project, python, read, env={"PATH": "/usr/bin:/bin", "SCORE_THRESHOLD": "0.9"}) == {
        "threshold": 0.9
    }
    bad = run([python, "start.py"], cwd=project, env={"PATH": "/usr/bin:/bin", "SCORE_THRESHOLD": "2"}, check=False)
    assert (
        bad.returncode == 1
        and "invalid configuration: SCORE_THRESHOLD='2': Input should be less than or equal to 1"
        in bad.stderr + bad.stdout
    ), bad
    # The README's row names the files just changed.
    row = where_to_change(project)["add a setting"]
    assert "`service/settings.py`" in row, row
    assert_bake_tests_pass(project, python)


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("service/v2/tensors.py", "from service.api import schemas", "service.v2 is not allowed to import service.api"),
        ("service/web/bodies.py", "from service import v2", "service.web is not allowed to import service.v2"),
        ("service/inference/batching.py", "import flask", "service.inference is not allowed to import flask"),
    ],
    ids=["v2-imports-api", "web-imports-v2", "inference-imports-flask"],
)
def test_make_lint_enforces_the_dependency_rule(cookies, service_venv, module, line, broken):
    project, python = cookies.bake().project_path, service_venv[1]
    lint_imports = python.with_name("lint-imports")
    assert run([lint_imports], cwd=project, check=False).returncode == 0
    with (project / module).open("a") as source:
        source.write(f"\n{line}  # noqa: E402, F401\n")
    result = run([lint_imports], cwd=project, check=False)
    assert result.returncode != 0, result.stdout
    assert re.search(re.escape(broken), result.stdout), result.stdout
