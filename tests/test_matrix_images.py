"""Nightly size: every combination of the option matrix builds its CPU image.

Deselected by default (pyproject.toml's addopts); run it with
    make test PYTEST_ARGS='-m matrix_images'
The default run builds a representative subset instead: the pipelines in
test_ci.py (Python 3.13 + GPU + GitHub; Python 3.11 + CPU + GitLab) and the
default bake's CPU and GPU images in test_containers.py.
"""

import os
import uuid

import pytest

from support.baking import bake_ok
from support.matrix import MATRIX
from support.processes import run

# Not marked `container`: `-m container` (which replaces the default -m) must not pull these in.
pytestmark = pytest.mark.matrix_images

SUFFIX = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"


@pytest.mark.parametrize("answers", MATRIX)
def test_every_combination_builds_its_image(cookies, engine, answers, request):
    base = f"python:{answers['python_version']}-slim"
    if engine.private and not engine.has_image(base):
        # No registry is reachable from the private engine; it has stand-ins for some versions only.
        pytest.skip(f"{base} has no stand-in on the private engine (tests/engine/README.md)")
    project = bake_ok(cookies, **answers)
    image = f"tmpl-matrix-{SUFFIX}"
    tag = request.node.callspec.id.replace("_", "-").lower()[:100]
    try:
        run(["make", "build", f"IMAGE={image}", f"TAG={tag}"], cwd=project, env=engine.env, timeout=1800)
        assert engine.has_image(f"{image}:{tag}")
    finally:
        engine.docker("rmi", "-f", f"{image}:{tag}", check=False)
