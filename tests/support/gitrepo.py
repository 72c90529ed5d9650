"""Git for the tests: a template or a bake as a repository, with a fixed identity;
and the cruft life of a service (test_cruft.py, test_cruft_move.py)."""

import json
import os
import shutil
import sys
from pathlib import Path

from support.processes import run, tool
from support.template import TEMPLATE

# Commits need an identity; the machine's git config may have none.
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}

SERVICE_DIR = "{{cookiecutter.service_name}}"
# What a checkout of the template has: no local environments or caches.
NOT_IN_THE_TEMPLATE = shutil.ignore_patterns(
    ".git", ".venv", ".demo", ".bench", "__pycache__", ".pytest_cache", ".ruff_cache", "*.egg-info"
)

# A team's edits to its service: a new route (documented, as the service's own tests require)
# before ROUTE_ANCHOR in the ops module, and a changed default in the settings module.
NEW_ROUTE = """@blueprint.get("/owner")
@operation("Owner: the team that runs this service", {200: ("The team.", schemas.StatusResponse)})
def owner():
    return jsonify(status="run by the fraud team")


"""
ROUTE_ANCHOR = '@blueprint.get("/healthz")\n'
SETTING_BEFORE = "threads: int = Field(2,"
SETTING_AFTER = "threads: int = Field(3,"


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], cwd=repo, env=GIT_ENV).stdout.strip()


def commit_all(repo: Path, message: str, allow_empty: bool = False) -> str:
    """Commit everything in repo (made a repository first if it is not one); returns the commit."""
    if not (repo / ".git").exists():
        git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, *(["--allow-empty"] if allow_empty else []))
    return git(repo, "rev-parse", "HEAD")


def clear_worktree(repo: Path) -> None:
    """Delete everything in repo but its .git."""
    for entry in repo.iterdir():
        if entry.name == ".git":
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def copy_template(repo: Path) -> None:
    """The template as this checkout has it now, in place of whatever repo held (its .git kept)."""
    if repo.exists():
        clear_worktree(repo)
    shutil.copytree(TEMPLATE, repo, ignore=NOT_IN_THE_TEMPLATE, dirs_exist_ok=True)


def cruft(project: Path, *args: str, check: bool = True):
    return run([tool("cruft"), *args], cwd=project, env=GIT_ENV, check=check)


def cruft_create(template: Path, out: Path) -> Path:
    """A service created with `cruft create` (default answers) from template's HEAD, committed."""
    run([tool("cruft"), "create", "--no-input", "--output-dir", str(out), str(template)], env=GIT_ENV)
    project = out / "iris-classifier"
    state = json.loads((project / ".cruft.json").read_text())
    assert state["template"] == str(template)
    assert state["commit"] == git(template, "rev-parse", "HEAD")
    commit_all(project, "Created from the template")
    return project


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path.name}: {old!r} found {text.count(old)} times"
    path.write_text(text.replace(old, new))


def assert_updated_cleanly(project: Path, update) -> None:
    """cruft update finished, and git applied everything: no rejected hunk, no conflict."""
    reported = update.stdout + update.stderr
    assert "Good work! Project's cruft has been updated" in reported, reported
    # `git apply -3` failed and cruft went on with `git apply --reject`, which may leave no trace below.
    assert "Retrying again with a different update strategy" not in reported, (
        f"git apply -3 failed, cruft fell back to git apply --reject:\n{reported}"
    )
    assert not list(project.rglob("*.rej")), f"cruft left rejected hunks\n{reported}"
    assert git(project, "diff", "--name-only", "--diff-filter=U") == "", f"unresolved conflicts\n{reported}"


def assert_make_test_passes(project: Path) -> None:
    """The service's own `make install` (a venv from this Python) and `make test`."""
    run(["make", "install", f"PYTHON={sys.executable}"], cwd=project, timeout=900)
    tests = run(["make", "--no-print-directory", "test"], cwd=project, timeout=900)
    assert " passed" in tests.stdout and " failed" not in tests.stdout, tests.stdout
