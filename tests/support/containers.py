"""Images and containers of bakes on a container engine (tests/engine), for the container tests.

Every container, image and network has a name ending in this session's SUFFIX,
and a Cleanup removes them, pass or fail.
"""

import contextlib
import os
import re
import subprocess
import uuid
from pathlib import Path

from support.http import free_port, wait_ready
from support.processes import run

SUFFIX = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"
# The GPU image's base (nvidia/cuda) cannot be pulled here; conftest's gpu_base stands in for it.
GPU_STAND_IN = "python:3.13-slim"
BUILD_TIMEOUT = 1800


def unique(purpose: str) -> str:
    return f"tmpl-ct-{purpose}-{SUFFIX}"


def make(engine, project: Path, target: str, *, check: bool = True, timeout: float = 600, **variables):
    """`make TARGET VAR=value...` in the baked project, against the engine."""
    args = ["make", "--no-print-directory", target, *(f"{key}={value}" for key, value in variables.items())]
    return run(args, cwd=project, env=engine.env, timeout=timeout, check=check)


def image_vars(tag: str) -> dict[str, str]:
    image, version = tag.rsplit(":", 1)
    return {"IMAGE": image, "TAG": version}


class Cleanup:
    """Removes what a test or fixture created, in reverse order, ignoring errors."""

    def __init__(self, engine):
        self.engine = engine
        self.steps: list[tuple[tuple[str, ...], Path | None]] = []

    def container(self, name: str) -> str:
        self.steps.append((("rm", "-f", "-v", name), None))
        return name

    def image(self, tag: str) -> str:
        self.steps.append((("rmi", "-f", tag), None))
        return tag

    def network(self, name: str) -> str:
        self.steps.append((("network", "rm", name), None))
        return name

    def compose(self, project: Path, *args: str) -> None:
        self.steps.append((("compose", *args), project))

    def __call__(self) -> None:
        for args, cwd in reversed(self.steps):
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.engine.docker(*args, check=False, timeout=180, cwd=cwd)


def image_size(engine, tag: str) -> int:
    return int(engine.docker("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip())


def mb(size: int) -> str:
    return f"{size / 1e6:.0f} MB"


def start_container(engine, project: Path, tag: str, cleanup: Cleanup, purpose: str) -> tuple[str, str]:
    """`make run` on a free port, waited on until /readyz answers; (name, base url)."""
    name = cleanup.container(unique(purpose))
    port = free_port()
    make(engine, project, "run", PORT=port, CONTAINER=name, **image_vars(tag))
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, timeout=90)
    return name, base


# The CUDA major version each framework's GPU build was built for, printed inside its image.
CUDA_OF_BUILD = {
    "onnx": "from onnxruntime.capi import build_and_package_info as b; print(b.cuda_version.split('.')[0])",
    "xgboost": "import xgboost; print(xgboost.build_info()['CUDA_VERSION'][0])",
    "pytorch": "import torch; print(torch.version.cuda.split('.')[0])",
}


def assert_gpu_build_matches_the_base_cuda(engine, project: Path, image: str, framework: str) -> None:
    """The framework's CUDA build in ``image`` is for the CUDA major version of Dockerfile.gpu's base."""
    base_cuda = re.search(r"^ARG CUDA_VERSION=(\d+)\.", (project / "Dockerfile.gpu").read_text(), re.M)
    assert base_cuda, "no ARG CUDA_VERSION in Dockerfile.gpu"
    built_for = engine.docker("run", "--rm", "--entrypoint", "python", image, "-c", CUDA_OF_BUILD[framework],
                              timeout=120)  # fmt: skip
    assert built_for.stdout.strip() == base_cuda.group(1), (
        f"{framework}'s GPU build is for CUDA {built_for.stdout.strip()}, the base image has CUDA {base_cuda.group(1)}"
    )
