"""The generated CI pipelines and pre-commit hooks, run for real.

Each pipeline's lint, test and image jobs run here in order, step by step,
in a fresh bake on the container engine, as the runner would run them
(tests/support/pipelines.py reads the file), so a pipeline that cannot work fails
here.  The two bakes are also the default run's representative image
subset: Python 3.13 with GPU files and GitHub Actions (the defaults), and
Python 3.11, CPU only, with GitLab CI.  (test_matrix_images.py builds every
combination's image; it is deselected by default.)
"""

import os
import sys
import uuid

import pytest

from support.baking import bake_ok
from support.gitrepo import commit_all, git
from support.http import free_port
from support.pipelines import CI_FILES, pipeline_steps, run_steps, validate_ci_file
from support.processes import run

SUFFIX = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"
# The bakes whose pipelines run here.
PIPELINE_BAKES = {
    "github": {"ci": "github"},
    "gitlab": {"ci": "gitlab", "python_version": "3.11", "include_gpu": "no"},
}


@pytest.mark.parametrize("ci", list(CI_FILES))
def test_schema_check_rejects_a_broken_pipeline(cookies, ci):
    """The schema validation in test_generation.py can fail: a job without
    what every job needs (runs-on / script) is refused."""
    project = bake_ok(cookies, ci=ci)
    path = project / CI_FILES[ci]
    assert validate_ci_file(path, ci).returncode == 0
    text = path.read_text()
    broken = (
        text.replace("    runs-on: ubuntu-24.04\n", "", 1)
        if ci == "github"
        else text.replace("  script:\n", "  scripts:\n", 1)
    )
    assert broken != text
    path.write_text(broken)
    result = validate_ci_file(path, ci)
    assert result.returncode != 0, result.stdout


def test_pre_commit_runs_clean_in_a_fresh_bake(cookies, tmp_path):
    project = bake_ok(cookies)
    commit_all(project, "baked")
    run(["make", "install", f"PYTHON={sys.executable}"], cwd=project, timeout=900)
    pre_commit = str(project / ".venv/bin/pre-commit")
    run([pre_commit, "validate-config", ".pre-commit-config.yaml"], cwd=project)
    # Hooks are local (no git host to fetch from): a run with no network access to one works.
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    result = run(["make", "--no-print-directory", "pre-commit"], cwd=project, env=env)
    for hook in (
        "ruff check",
        "ruff format",
        "import rule of service/",
        "hadolint",
        "check YAML syntax",
        "check TOML syntax",
    ):
        assert any(line.startswith(hook + ".") and line.endswith("Passed") for line in result.stdout.splitlines()), (
            f"{hook} did not pass:\n{result.stdout}"
        )
    # ...and it catches what it is there for.
    (project / "bad.yaml").write_text("key: [unclosed\n")
    (project / "bad.py").write_text("import os\nx=1\n")
    git(project, "add", "bad.yaml", "bad.py")  # staged, as in a commit: a reformat shows in git
    bad = run([pre_commit, "run", "--files", "bad.yaml", "bad.py"], cwd=project, env=env, check=False)
    assert bad.returncode != 0
    for hook in ("ruff check", "ruff format", "check YAML syntax"):
        assert any(line.startswith(hook + ".") and line.endswith("Failed") for line in bad.stdout.splitlines()), (
            bad.stdout
        )


@pytest.mark.container
@pytest.mark.parametrize("ci", list(PIPELINE_BAKES))
def test_pipeline_steps_pass_on_the_engine(cookies, engine, ci):
    project = bake_ok(cookies, **PIPELINE_BAKES[ci])
    commit_all(project, "baked")  # what the runner's checkout gives the jobs
    steps = pipeline_steps(project, ci)
    name = f"tmpl-ci-{ci}-{SUFFIX}"
    # The image job's variables where this machine is not a hosted runner.
    image_job = {
        # Unique names and a free port: other tests and sessions share this engine.
        "IMAGE": name,
        "CONTAINER": name,
        "PORT": str(free_port()),
        # The pipelines' remote layer caches (GitHub's cache service, the
        # registry's last release) belong to the hosted runner; this engine has
        # no BuildKit and no registry, and caches layers locally.
        "BUILD_FLAGS": "",
        # GitLab's Docker-in-Docker publishes ports on host "docker"; here they are on loopback.
        "SMOKE_HOST": "localhost",
    }
    try:
        results = run_steps(steps, project, {**os.environ, **engine.env}, {"build": image_job})
    finally:
        engine.docker("rm", "-f", name, check=False)
        engine.docker("rmi", "-f", f"{name}:ci", check=False)
    report = "\n\n".join(result.describe() for result in results)
    assert all(result.returncode == 0 for result in results), report
    # Every step ran (none skipped after a failure), the smoke test's prediction included.
    expected = [(step.job, step.name) for step in steps if step.when != "failure"]
    assert [(result.step.job, result.step.name) for result in results] == expected, report
    smoke = next(result for result in results if "make smoke" in result.step.script)
    assert '"predictions"' in smoke.output and '"label"' in smoke.output, smoke.output
