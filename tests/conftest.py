"""The template tests' shared fixtures and pytest hooks; their helpers are in support/."""

import os
import sys
from pathlib import Path

import pytest

from support.containers import GPU_STAND_IN
from support.processes import in_ci, run
from support.report import REPORT
from support.template import TASKS


@pytest.fixture(scope="session")
def engine():
    """A Docker-API engine (tests/engine); skips without one, but never under CI=true."""
    from engine.engine import EngineUnavailable, find_engine

    try:
        found = find_engine()
    except EngineUnavailable as reason:
        if in_ci():
            pytest.fail(f"CI=true but no container engine: {reason}")
        pytest.skip(f"no container engine: {reason}")
    print(f"\ncontainer engine: {found.describe()}")
    return found


@pytest.fixture(scope="session")
def default_bake(cookies_session) -> Path:
    """The default bake, shared by the tests that only read or build it."""
    result = cookies_session.bake()
    assert result.exception is None, result.exception
    return result.project_path


@pytest.fixture(scope="session")
def gpu_base(engine):
    """The local python:3.13-slim, standing in for nvidia/cuda (which cannot be pulled here)."""
    if not engine.has_image(GPU_STAND_IN):
        message = f"no {GPU_STAND_IN} on the engine to stand in for nvidia/cuda"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return GPU_STAND_IN


@pytest.fixture(scope="session")
def default_image(engine, default_bake) -> str:
    """The default bake's CPU image, built once with `make build` on the engine."""
    tag = f"{default_bake.name}:test-{os.getpid()}"
    image, version = tag.split(":")
    run(["make", "build", f"IMAGE={image}", f"TAG={version}"], cwd=default_bake, env=engine.env, timeout=1800)
    yield tag
    engine.docker("rmi", "-f", tag, check=False)


# What the container tests measured (support/report.py), after every run, `make test` included.
def pytest_terminal_summary(terminalreporter) -> None:
    if REPORT:
        terminalreporter.section("container report")
        for line in REPORT:
            terminalreporter.write_line(line)


_VENVS: dict[tuple, tuple[Path, Path]] = {}


def _bake_with_venv(cookies_session, task: str, **answers: str) -> tuple[Path, Path]:
    """A bake for ``task`` (and other ``answers``) with a fresh .venv of its requirements-dev.txt, made once per session."""
    key = (task, *sorted(answers.items()))
    if key not in _VENVS:
        result = cookies_session.bake(extra_context={"task": task, **answers})
        assert result.exception is None, result.exception
        project = result.project_path
        # Exactly what a user runs first: `make install` makes .venv from requirements-dev.txt.
        run(["make", "install", f"PYTHON={sys.executable}"], cwd=project, timeout=900)
        _VENVS[key] = (project, project / ".venv" / "bin" / "python")
    return _VENVS[key]


@pytest.fixture(scope="session")
def service_venv(cookies_session) -> tuple[Path, Path]:
    """The default bake with a fresh .venv: (project, its python).

    Shared by the tests that run the baked service under a real gunicorn
    (test_robustness.py, test_security.py); they start their servers from it.
    """
    return _bake_with_venv(cookies_session, TASKS[0])


@pytest.fixture(scope="session")
def bake_with_venv(cookies_session):
    """``bake_with_venv(task, **answers)``: that bake with a fresh .venv, (project, its python)."""
    return lambda task, **answers: _bake_with_venv(cookies_session, task, **answers)


@pytest.fixture(scope="session", params=TASKS)
def task_venv(request, cookies_session) -> tuple[Path, Path]:
    """Each task's default bake with a fresh .venv: (project, its python)."""
    return _bake_with_venv(cookies_session, request.param)
