"""Shared helpers for the template's tests."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parent.parent
DEFAULTS = json.loads((TEMPLATE / "cookiecutter.json").read_text())
PYTHON_VERSIONS = DEFAULTS["python_version"]
CUDA_VERSIONS = DEFAULTS["cuda_version"]
TASKS = DEFAULTS["task"]
# The Python running the tests: the one bakes are installed and served with outside containers.
LOCAL_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def tool(name: str) -> str:
    """A console script of this test environment (ruff, hadolint, ...)."""
    candidate = Path(sys.executable).with_name(name)
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: run the tests through `make test`")
    return found


def run(args, cwd=None, timeout=600, env=None, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, args))} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def bake_ok(cookies, **answers) -> Path:
    result = cookies.bake(extra_context=answers)
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    return result.project_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, body: dict | None = None, timeout: float = 5) -> tuple[int, dict | str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw, status, kind = response.read(), response.status, response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        raw, status, kind = error.read(), error.code, error.headers.get_content_type()
    return status, json.loads(raw) if kind == "application/json" else raw.decode()


def wait_ready(base_url: str, timeout: float = 60, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"server exited {process.returncode} before becoming ready")
        try:
            status, body = http("GET", f"{base_url}/readyz", timeout=2)
            if status == 200:
                return
            last = f"{status} {body}"
        except OSError as error:
            last = str(error)
        time.sleep(0.2)
    pytest.fail(f"{base_url} not ready after {timeout} s: {last}")


def example_of(project: Path | None = None) -> dict:
    """A bake's example (by default, the default task's): instances, the outputs they must give, the tolerance."""
    default = TEMPLATE / "{{cookiecutter.service_name}}" / ".models" / DEFAULTS["model_framework"][0] / TASKS[0]
    model_dir = project / "model" if project else default
    return json.loads((model_dir / "example.json").read_text())


def assert_serves_example(base_url: str, project: Path | None = None) -> None:
    """POST /predict with the bake's example answers its outputs, within its tolerance."""
    example = example_of(project)
    status, body = http("POST", f"{base_url}/predict", {"instances": example["instances"]})
    assert status == 200, body
    status, metadata = http("GET", f"{base_url}/metadata")
    assert status == 200, metadata
    tolerance = example["tolerance"]
    for prediction, expected in zip(body["predictions"], example["outputs"], strict=True):
        if "labels" in metadata:
            served = [prediction["probabilities"][label] for label in metadata["labels"]]
            assert prediction["label"] == metadata["labels"][expected.index(max(expected))], (prediction, expected)
        else:
            served = prediction["value"] if isinstance(prediction["value"], list) else [prediction["value"]]
        assert served == pytest.approx(expected, rel=tolerance, abs=tolerance), (prediction, expected)


UNRENDERED = re.compile(r"\{\{\s*cookiecutter|\{%|\{#|cookiecutter", re.IGNORECASE)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def system_tool(*names: str) -> str:
    """The first of ``names`` on PATH (a Debian package's program); skips without it, but never under CI=true."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    if in_ci():
        pytest.fail(f"CI=true but {names[0]} is not installed (apt-get install {names[0]})")
    pytest.skip(f"{names[0]} is not installed (apt-get install {names[0]})")


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
def default_image(engine, default_bake) -> str:
    """The default bake's CPU image, built once with `make build` on the engine."""
    tag = f"{default_bake.name}:test-{os.getpid()}"
    image, version = tag.split(":")
    run(["make", "build", f"IMAGE={image}", f"TAG={version}"], cwd=default_bake, env=engine.env, timeout=1800)
    yield tag
    engine.docker("rmi", "-f", tag, check=False)


# Lines the container tests measure (build times, image sizes), printed at the
# end of every run, `make test` included, in a "container report" section.
REPORT: list[str] = []


def pytest_terminal_summary(terminalreporter) -> None:
    if REPORT:
        terminalreporter.section("container report")
        for line in REPORT:
            terminalreporter.write_line(line)


_VENVS: dict[str, tuple[Path, Path]] = {}


def _bake_with_venv(cookies_session, task: str) -> tuple[Path, Path]:
    """A bake for ``task`` with a fresh .venv of its requirements-dev.txt, made once per session."""
    if task not in _VENVS:
        result = cookies_session.bake(extra_context={"task": task})
        assert result.exception is None, result.exception
        project = result.project_path
        # Exactly what a user runs first: `make install` makes .venv from requirements-dev.txt.
        run(["make", "install", f"PYTHON={sys.executable}"], cwd=project, timeout=900)
        _VENVS[task] = (project, project / ".venv" / "bin" / "python")
    return _VENVS[task]


@pytest.fixture(scope="session")
def service_venv(cookies_session) -> tuple[Path, Path]:
    """The default bake with a fresh .venv: (project, its python).

    Shared by the tests that run the baked service under a real gunicorn
    (test_robustness.py, test_security.py); they start their servers from it.
    """
    return _bake_with_venv(cookies_session, TASKS[0])


@pytest.fixture(scope="session")
def bake_with_venv(cookies_session):
    """``bake_with_venv(task)``: that task's default bake with a fresh .venv, (project, its python)."""
    return lambda task: _bake_with_venv(cookies_session, task)


@pytest.fixture(scope="session", params=TASKS)
def task_venv(request, cookies_session) -> tuple[Path, Path]:
    """Each task's default bake with a fresh .venv: (project, its python)."""
    return _bake_with_venv(cookies_session, request.param)
