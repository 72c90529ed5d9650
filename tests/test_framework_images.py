"""Each framework's CPU image builds with `make build` and answers /predict with its example.

The ONNX image is test_containers.py's default image.  PyTorch's CPU-only
wheel comes from the index in TORCH_INDEX_URL; when that variable is unset,
the test serves one itself on 127.0.0.1 (the wheel as this machine's pip
finds it) and builds with `--network host` so pip inside the build reaches it.
"""

import functools
import json
import os
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from support.containers import (
    BUILD_TIMEOUT,
    Cleanup,
    assert_gpu_build_matches_the_base_cuda,
    image_size,
    make,
    mb,
    start_container,
    unique,
)
from support.examples import assert_serves_example
from support.http import free_port, http, wait_ready
from support.processes import run
from support.report import REPORT
from support.template import DEFAULTS

pytestmark = pytest.mark.container

FRAMEWORKS = DEFAULTS["_frameworks"]
# Far below an image with CUDA wheels (the target for PyTorch's CPU image).
MAX_CPU_IMAGE_BYTES = 1_200_000_000


@pytest.fixture(scope="module")
def torch_index(tmp_path_factory):
    """A PEP 503 index URL serving the pinned CPU torch wheel, and the build flags to reach it."""
    if os.environ.get("TORCH_INDEX_URL"):
        yield os.environ["TORCH_INDEX_URL"], ""
        return
    pin = next(pin for pin in FRAMEWORKS["pytorch"]["cpu"] if pin.startswith("torch=="))
    root = tmp_path_factory.mktemp("torch-index")
    wheels = root / "simple" / "torch"
    wheels.mkdir(parents=True)
    run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", wheels, pin], timeout=900)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple", "--network host"
    server.shutdown()


@pytest.mark.parametrize("framework", [f for f in FRAMEWORKS if f != "onnx"])
def test_cpu_image_builds_and_predicts(engine, cookies, request, framework):
    cleanup = Cleanup(engine)
    request.addfinalizer(cleanup)
    # The CPU torch wheel this machine holds is for Python 3.11; the others use the default Python.
    python = "3.11" if framework == "pytorch" else DEFAULTS["python_version"][0]
    result = cookies.bake(extra_context={"model_framework": framework, "include_gpu": "no", "python_version": python})
    assert result.exception is None, result.exception
    project = Path(result.project_path)
    image = cleanup.image(f"{unique('fw-' + framework)}:cpu")
    variables = {"IMAGE": image.split(":")[0], "TAG": "cpu"}
    if framework == "pytorch":
        index, flags = request.getfixturevalue("torch_index")
        variables.update(TORCH_INDEX_URL=index, BUILD_FLAGS=flags)
    make(engine, project, "build", timeout=BUILD_TIMEOUT, **variables)
    size = image_size(engine, image)
    REPORT.append(f"image {framework} (CPU, Python {python}): {mb(size)}")
    assert size < MAX_CPU_IMAGE_BYTES, mb(size)

    _, base = start_container(engine, project, image, cleanup, f"fw-{framework}")
    example = json.loads((project / "model" / "example.json").read_text())
    status, body = http("POST", f"{base}/predict", {"instances": example["instances"]}, timeout=30)
    assert status == 200, body
    for prediction, expected in zip(body["predictions"], example["outputs"], strict=True):
        got = list(prediction["probabilities"].values())
        assert got == pytest.approx(expected, rel=1e-4, abs=1e-4), (got, expected)


@pytest.mark.parametrize("framework", [f for f in FRAMEWORKS if f != "onnx" and FRAMEWORKS[f]["gpu"]])
def test_gpu_image_builds_on_a_stand_in_base_and_predicts(engine, cookies, request, framework):
    """Dockerfile.gpu with the framework's CUDA build, on python:3.13-slim standing in for nvidia/cuda.

    The ONNX GPU image is test_containers.py's.  With no GPU here, the CUDA
    build answers /predict on the CPU, which also runs it on Python 3.13.
    """
    stand_in = request.getfixturevalue("gpu_base")
    cleanup = Cleanup(engine)
    request.addfinalizer(cleanup)
    result = cookies.bake(extra_context={"model_framework": framework, "include_gpu": "yes"})
    assert result.exception is None, result.exception
    project = Path(result.project_path)
    image = unique("fw-gpu-" + framework)
    built = cleanup.image(f"{image}-gpu:gpu")
    started = time.monotonic()
    make(engine, project, "build-gpu", IMAGE=image, TAG="gpu", BUILD_FLAGS=f"--build-arg BASE_IMAGE={stand_in}",
         timeout=BUILD_TIMEOUT)  # fmt: skip
    took = time.monotonic() - started
    pins = engine.docker("run", "--rm", "--entrypoint", "pip", built, "freeze").stdout
    for pin in FRAMEWORKS[framework]["gpu"]:
        assert pin in pins.splitlines(), pins
    for pin in FRAMEWORKS[framework]["cpu"]:
        assert pin not in pins.splitlines(), pins
    assert_gpu_build_matches_the_base_cuda(engine, project, built, framework)
    REPORT.append(
        f"image {framework} (GPU build, stand-in base): {mb(image_size(engine, built))}, built in {took:.0f} s"
    )

    name = cleanup.container(unique(f"fw-gpu-{framework}"))
    port = free_port()
    engine.docker("run", "-d", "-p", f"127.0.0.1:{port}:{DEFAULTS['port']}", "--name", name, built)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, timeout=120)
    assert_serves_example(base, project)
