"""Git for the tests: a template or a bake as a repository, with a fixed identity."""

import os
from pathlib import Path

from conftest import run

# Commits need an identity; the machine's git config may have none.
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], cwd=repo, env=GIT_ENV).stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    """Commit everything in repo (made a repository first if it is not one); returns the commit."""
    if not (repo / ".git").exists():
        git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")
