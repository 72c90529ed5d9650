"""Each framework's bake passes its own `make test` on every Python it offers, inside python:X-slim.

This machine has one Python (3.11: test_frameworks.py and test_default_service.py
run the bakes there); the engine's stand-in bases bring the others
(tests/engine/README.md).  The bake is copied into a container of its
python_version's base and `make test` runs there as a user would run it: a
fresh .venv from the pins, then the bake's whole test suite.  PyTorch is
left out here: its CPU wheels come only from PyTorch's own index, which this
machine cannot reach (its 3.11 bake runs in test_frameworks.py, and its GPU
image, with PyPI's CUDA wheel, on Python 3.13 in test_framework_images.py).
"""

import re
import time

import pytest

from support.baking import bake_ok
from support.report import REPORT
from support.template import DEFAULTS, LOCAL_PYTHON

pytestmark = pytest.mark.container

FRAMEWORKS = DEFAULTS["_frameworks"]
# The classifier only: the task changes the model, not which packages install.
CASES = [
    pytest.param(framework, python, id=f"{framework}-py{python}")
    for python in DEFAULTS["python_version"]
    if python != LOCAL_PYTHON
    for framework, spec in FRAMEWORKS.items()
    if python in spec["python"] and not spec["cpu_index"]
]
# make and the Makefile's own recipe; `apt-get` only for make, which python:X-slim lacks.
SCRIPT = """set -e
cp -a /bake /work && cd /work
apt-get update -qq && apt-get install -y -qq --no-install-recommends make >/dev/null
make test PYTHON=python3 PYTEST_ADDOPTS='-p no:cacheprovider'
"""


@pytest.mark.parametrize(("framework", "python"), CASES)
def test_bake_passes_its_tests_on_its_python(engine, cookies, framework, python):
    base = f"python:{python}-slim"
    if not engine.has_image(base):
        pytest.fail(f"no stand-in {base} on the engine (tests/engine/bootstrap.sh builds it)")
    project = bake_ok(cookies, model_framework=framework, include_gpu="no", python_version=python)
    started = time.monotonic()
    result = engine.docker(
        "run", "--rm", "-v", f"{project}:/bake:ro", "-e", "PYTHONDONTWRITEBYTECODE=1", base, "sh", "-c", SCRIPT,
        check=False, timeout=1200,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    summary = re.search(r"\d+ passed[^=\n]*", output)
    assert summary and "skipped" not in summary.group(0) and "failed" not in summary.group(0), output[-3000:]
    interpreter = engine.docker("run", "--rm", base, "python3", "--version").stdout.strip()
    REPORT.append(f"make test, {framework} bake in {base} ({interpreter}): {summary.group(0).strip()} "
                  f"({time.monotonic() - started:.0f} s with the install)")  # fmt: skip
