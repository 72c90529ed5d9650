"""A service made before the move into service/ follows it through `cruft update`, offline.

Commit 20e0c3f moved every module of the generated service into the service/
package and tools/ (api_ops.py -> service/api/ops.py, settings.py ->
service/settings.py, ...), changing nothing in them but their imports. A
service is created with `cruft create` from the template as it was just before
(commit A, taken from the template's own git history), its team adds a route to
api_ops.py and changes a default in settings.py, and `cruft update` brings in
the template as this checkout has it (commit B).

How cruft carries an edit across a move: it renders A and B with the service's
answers, diffs the two renders with `git diff --no-index` (which reports a file
as renamed when at least half of it is unchanged, git's default threshold) and
applies that patch with `git apply -3`: a rename's patch is merged three-way
with the team's version of the old file (the render of A is in the service's
history: `cruft create` made it and the team committed it) and the result is
written at the new path. A module B changed so much that it falls under the
threshold is a deletion plus a new file instead, and the team's edits in it do
not follow; a team then updates to the move commit first and to the latest
afterwards (`cruft update --checkout <move commit>`, then `cruft update`), which
the second test plays.
"""

import json
import os
import re
import subprocess
import tarfile
from pathlib import Path

import pytest

from support.gitrepo import (
    NEW_ROUTE,
    ROUTE_ANCHOR,
    SETTING_AFTER,
    SETTING_BEFORE,
    assert_make_test_passes,
    assert_updated_cleanly,
    clear_worktree,
    commit_all,
    copy_template,
    cruft,
    cruft_create,
    replace_once,
)
from support.processes import run
from support.template import TEMPLATE

BEFORE_THE_MOVE = "badb92db683c0c96d5407cc40935d603a7f268f4"
THE_MOVE = "20e0c3f34a936c3439ef636b841bf3d7c7c5b754"
# The modules the team edits: where they were before the move, where they are after it.
OPS_BEFORE, OPS_AFTER = "api_ops.py", "service/api/ops.py"
SETTINGS_BEFORE, SETTINGS_AFTER = "settings.py", "service/settings.py"
# Run by the updated service's own Python: the team's route answers and is documented, the default holds.
SERVES_THE_EDITS = """
import json
from serve_http import app
from service.settings import Settings
client = app.test_client()
owner = client.get("/owner")
paths = client.get("/openapi.json").get_json()["paths"]
print(json.dumps({"owner": [owner.status_code, owner.get_json()], "documented": "/owner" in paths,
                  "threads": Settings().threads}))
"""


def template_at(commit: str, repo: Path) -> str:
    """The template's tree at commit, from its own git history, committed in repo; returns repo's commit."""
    known = subprocess.run(
        ["git", "-C", str(TEMPLATE), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True, text=True
    )
    if known.returncode != 0:
        pytest.fail(
            f"The template's git history has no commit {commit}, which this test builds a service from"
            f" ({known.stderr.strip()}). A shallow clone? Fetch the history:"
            f" `git -C {TEMPLATE} fetch --unshallow` (GitHub Actions: actions/checkout with fetch-depth: 0)."
        )
    archive = repo.parent / f"{commit}.tar"
    run(["git", "-C", str(TEMPLATE), "archive", "--format=tar", "-o", str(archive), commit])
    repo.mkdir(exist_ok=True)
    clear_worktree(repo)
    with tarfile.open(archive) as tar:
        tar.extractall(repo, filter="data")
    archive.unlink()
    return commit_all(repo, f"The template at {commit[:7]}")


def template_now(repo: Path) -> str:
    """Commit B: the template as this checkout has it (perhaps the same tree as the last commit)."""
    copy_template(repo)
    return commit_all(repo, "B: the template now", allow_empty=True)


def commit_of(project: Path) -> str:
    return json.loads((project / ".cruft.json").read_text())["commit"]


@pytest.fixture
def template_repo(tmp_path) -> Path:
    """The template just before the move, committed in a fresh git repository (commit A)."""
    repo = tmp_path / "template"
    template_at(BEFORE_THE_MOVE, repo)
    return repo


@pytest.fixture
def service(template_repo, tmp_path) -> Path:
    """A service created from A with `cruft create`, committed; then the team's edits, committed."""
    project = cruft_create(template_repo, tmp_path / "services")
    assert not (project / "service").exists(), "commit A is not the template before the move"
    replace_once(project / OPS_BEFORE, ROUTE_ANCHOR, NEW_ROUTE + ROUTE_ANCHOR)
    replace_once(project / SETTINGS_BEFORE, SETTING_BEFORE, SETTING_AFTER)
    commit_all(project, "Our route and setting")
    return project


def update(project: Path, *args: str):
    result = cruft(project, "update", "--skip-apply-ask", *args)
    print(f"cruft update {' '.join(args)}:\n{result.stdout}{result.stderr}")
    assert_updated_cleanly(project, result)
    return result


def assert_edits_moved(project: Path) -> None:
    """The team's lines are in the moved modules, as they wrote them; the old modules are gone."""
    assert not (project / OPS_BEFORE).exists(), f"{OPS_BEFORE} is still there"
    assert not (project / SETTINGS_BEFORE).exists(), f"{SETTINGS_BEFORE} is still there"
    ops = (project / OPS_AFTER).read_text()
    assert NEW_ROUTE.strip() in ops, f"the team's route (decorators and function) is not in {OPS_AFTER}:\n{ops}"
    settings = (project / SETTINGS_AFTER).read_text()
    assert re.search(rf"^\s*{re.escape(SETTING_AFTER)}", settings, re.MULTILINE), settings
    assert SETTING_BEFORE not in settings


def assert_serves_the_edits(project: Path) -> None:
    """In the updated service (installed by `make install`): GET /owner, its OpenAPI entry, THREADS 3."""
    env = {key: value for key, value in os.environ.items() if key != "THREADS"}
    checked = run([str(project / ".venv" / "bin" / "python"), "-c", SERVES_THE_EDITS], cwd=project, env=env)
    found = json.loads(checked.stdout.strip().splitlines()[-1])
    assert found == {
        "owner": [200, {"status": "run by the fraud team"}],
        "documented": True,
        "threads": 3,
    }, checked.stdout + checked.stderr


def assert_updated_to(service: Path, commit: str, message: str) -> None:
    """The update landed on ``commit`` with the team's edits moved; the team commits it."""
    assert_edits_moved(service)
    assert commit_of(service) == commit
    commit_all(service, message)


def assert_works_on_the_latest(service: Path) -> None:
    """The updated service passes its own tests, serves the edits and is on the template's latest commit."""
    assert_make_test_passes(service)
    assert_serves_the_edits(service)
    assert cruft(service, "check").returncode == 0


def test_update_straight_across_the_move(template_repo, service):
    commit_b = template_now(template_repo)
    update(service)
    assert_updated_to(service, commit_b, "Template update across the move")
    assert_works_on_the_latest(service)


def test_update_through_the_move_commit(template_repo, service):
    """The way round a straight update that does not apply: the move alone first, then the rest."""
    commit_move = template_at(THE_MOVE, template_repo)
    commit_b = template_now(template_repo)

    update(service, "--checkout", commit_move)
    assert_updated_to(service, commit_move, "Template update: the move")
    update(service)
    assert_updated_to(service, commit_b, "Template update: the rest")
    assert_works_on_the_latest(service)
