"""Running programs from the tests: this environment's console scripts, the system's, and CI's rule for both."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def tool(name: str) -> str:
    """A console script of this test environment (ruff, hadolint, ...)."""
    candidate = Path(sys.executable).with_name(name)
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: run the tests through `make test`")
    return found


def system_tool(*names: str) -> str:
    """The first of ``names`` on PATH (a Debian package's program); skips without it, but never under CI=true."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    if in_ci():
        pytest.fail(f"CI=true but {names[0]} is not installed (apt-get install {names[0]})")
    pytest.skip(f"{names[0]} is not installed (apt-get install {names[0]})")


def run(args, cwd=None, timeout=600, env=None, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, args))} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result
