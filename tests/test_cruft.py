"""A service keeps up with its template through cruft, offline.

The template is committed to a temporary git repository (commit A), a service
is created from it with `cruft create` and committed, its team edits it, the
template moves on (commit B), and `cruft update` brings B in: without a
conflict when the team's edits and B touch different lines, with one that
cruft reports (and the service's README explains) when they touch the same.
"""

import hashlib
import json
from pathlib import Path

import pytest

from support.gitrepo import (
    NEW_ROUTE,
    ROUTE_ANCHOR,
    SERVICE_DIR,
    SETTING_AFTER,
    SETTING_BEFORE,
    assert_make_test_passes,
    assert_updated_cleanly,
    commit_all,
    copy_template,
    cruft,
    cruft_create,
    git,
    replace_once,
)
from support.processes import run

HEALTHCHECK_LINE = "HEALTHCHECK --interval=15s"


def other_model(model: Path, note: bytes) -> None:
    """Replace an ONNX model by a different, equally valid one: an appended
    protobuf field (doc_string, field 6) overrides the model's description.
    The recorded SHA-256 beside it is updated, as `make train` would."""
    model.write_bytes(model.read_bytes() + bytes([0x32, len(note)]) + note)
    sidecar = model.with_name(model.name + ".sha256")
    sidecar.write_text(f"{hashlib.sha256(model.read_bytes()).hexdigest()}  {model.name}\n")


@pytest.fixture
def template_repo(tmp_path) -> tuple[Path, str]:
    """The template committed in a fresh git repository: (its path, commit A)."""
    repo = tmp_path / "template"
    copy_template(repo)
    return repo, commit_all(repo, "A")


@pytest.fixture
def service(template_repo, tmp_path) -> Path:
    """A service created from commit A with `cruft create`, committed."""
    repo, _ = template_repo
    return cruft_create(repo, tmp_path / "services")


def change_template(repo: Path, healthcheck_interval: str) -> str:
    """Commit B: a new Makefile target, a changed Dockerfile line, a new file, a new example model."""
    service = repo / SERVICE_DIR
    replace_once(
        service / "Makefile",
        "clean: ##",
        "version: ## Print the service's name\n\t@echo {{ cookiecutter.service_name }}\n\nclean: ##",
    )
    replace_once(service / "Dockerfile.cpu", HEALTHCHECK_LINE, f"HEALTHCHECK --interval={healthcheck_interval}")
    (service / "CONTRIBUTING.md").write_text(
        "# Contributing to {{ cookiecutter.project_name }}\n\nRun `make lint test`.\n"
    )
    other_model(service / ".models" / "onnx" / "classification" / "model.onnx", b"the template's newer example")
    return commit_all(repo, "B")


def test_update_keeps_the_teams_edits(template_repo, service):
    repo, _ = template_repo
    project = service
    replace_once(project / "service" / "api" / "ops.py", ROUTE_ANCHOR, NEW_ROUTE + ROUTE_ANCHOR)
    replace_once(project / "service" / "settings.py", SETTING_BEFORE, SETTING_AFTER)
    other_model(project / "model" / "model.onnx", b"the team's own model")
    team_model = (project / "model" / "model.onnx").read_bytes()
    commit_all(project, "Our route, setting and model")
    assert cruft(project, "check").returncode == 0

    commit_b = change_template(repo, healthcheck_interval="10s")
    stale = cruft(project, "check", check=False)
    assert stale.returncode != 0, stale.stdout
    assert "FAILURE" in stale.stdout, stale.stdout

    update = cruft(project, "update", "--skip-apply-ask")
    assert_updated_cleanly(project, update)
    # The team's edits are all there...
    assert '@blueprint.get("/owner")' in (project / "service" / "api" / "ops.py").read_text()
    assert SETTING_AFTER in (project / "service" / "settings.py").read_text()
    assert (project / "model" / "model.onnx").read_bytes() == team_model, "cruft touched a skipped model file"
    # ...and so is B.
    assert "version: ## Print the service's name" in (project / "Makefile").read_text()
    assert "HEALTHCHECK --interval=10s" in (project / "Dockerfile.cpu").read_text()
    assert (project / "CONTRIBUTING.md").read_text().startswith("# Contributing to Iris Classifier\n")
    assert json.loads((project / ".cruft.json").read_text())["commit"] == commit_b

    commit_all(project, "Template update B")
    assert_make_test_passes(project)
    assert run(["make", "--no-print-directory", "version"], cwd=project).stdout.strip() == "iris-classifier"
    assert cruft(project, "check").returncode == 0


def test_update_reports_a_conflict_on_the_same_lines(template_repo, service):
    repo, _ = template_repo
    project = service
    replace_once(project / "Dockerfile.cpu", HEALTHCHECK_LINE, "HEALTHCHECK --interval=30s")
    commit_all(project, "Our health-check interval")
    change_template(repo, healthcheck_interval="10s")

    update = cruft(project, "update", "--skip-apply-ask", check=False)
    reported = update.stdout + update.stderr
    print(f"cruft update, exit {update.returncode}:\n{reported}")
    # cruft calls it a success all the same: why the README says to look for conflicts.
    assert update.returncode == 0
    assert "Good work! Project's cruft has been updated" in reported
    # git's three-way merge: the file holds both sides, and git lists it as unmerged.
    assert "Applied patch to 'Dockerfile.cpu' with conflicts." in reported, reported
    assert "U Dockerfile.cpu" in reported, reported
    assert git(project, "diff", "--name-only", "--diff-filter=U") == "Dockerfile.cpu"
    dockerfile = (project / "Dockerfile.cpu").read_text()
    for marker in (
        "<<<<<<< ours",
        "HEALTHCHECK --interval=30s",
        "=======",
        "HEALTHCHECK --interval=10s",
        ">>>>>>> theirs",
    ):
        assert marker in dockerfile, dockerfile
    # Everything else in B went in; the generated docs/template-updates.md tells how to finish.
    assert (project / "CONTRIBUTING.md").exists()
    readme = (project / "docs" / "template-updates.md").read_text()
    assert "git diff --name-only --diff-filter=U" in readme
    assert "*.rej" in readme
