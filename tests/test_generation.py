"""Bake every supported combination of answers and check what comes out.

Each baked project must read as hand-written: no template leftovers, Python
that compiles and is ruff-clean, YAML that parses, Dockerfiles that pass
hadolint with their dependency layer before the source, and a Makefile whose
targets print the documented commands.
"""

import compileall
import os
import re
import shlex

import pytest
import yaml
from conftest import CUDA_VERSIONS, DEFAULTS, PYTHON_VERSIONS, TEMPLATE, UNRENDERED, bake_ok, run, tool
from matrix import MATRIX
from pipelines import CI_FILES, validate_ci_file

# The example models are binary files, copied as they are (one suffix per framework).
FRAMEWORKS = DEFAULTS["_frameworks"]
MODEL_SUFFIXES = tuple("." + framework["artifact"].rsplit(".", 1)[1] for framework in FRAMEWORKS.values())
# What only the iris example may mention: none of it in a regression bake.
IRIS = re.compile(r"iris|setosa|versicolor|virginica|sepal|petal|flower", re.IGNORECASE)
# Free-text answers that stress rendering: quotes, backslashes, non-ASCII,
# a long description, extra system packages, the highest ports.
TEXT_ANSWERS = [
    pytest.param({}, id="defaults"),
    pytest.param(
        {
            "project_name": 'Fraud "Scorer" \\ v2 \u2013 \u00fcn\u00efcode',
            "service_name": "fraud.scorer_v2-api",
            "description": "Scores card payments for fraud; it's " + "very " * 22 + 'long, with "quotes" and \\ too.',
            "port": "8080",
            "system_packages": "ffmpeg libsm6 libxext6",
        },
        id="awkward-text",
    ),
    pytest.param({"port": "65534", "system_packages": "  libgomp1   "}, id="top-port-gpu"),
    pytest.param({"port": "65535", "include_gpu": "no", "system_packages": "libgomp1"}, id="top-port-cpu"),
]

MAKE_TARGETS_WITH_COMMANDS = {
    "build": ["docker build", "-f Dockerfile.cpu", "-t {image}:latest", " ."],
    "run": [
        "docker run -d -p {port}:{port}",
        "--log-opt max-size=5m --log-opt max-file=5",
        "--restart always",
        "--name {service} {image}:latest",
    ],
    "run-net": ["docker network create {service}-net", "--network {service}-net", "--restart always"],
    "stop": ["docker stop {service}"],
    "restart": ["docker restart {service}"],
    "ps": ["docker ps --filter name={service} --format 'table {{{{.Names}}}}"],
    "ps-all": ["docker ps -a --filter name={service}"],
    "stats": ["docker stats", "{{{{.CPUPerc}}}}", "{service}"],
    "logs": ["docker logs -f --tail 100 {service}"],
    "shell": ["docker exec -it {service} bash"],
    "rm": ["docker rm {service}"],
    "rmi": ["docker rmi {image}:latest"],
    "prune-images": ["docker image prune -f"],
    "prune-containers": ["docker container prune -f"],
    "prune-system": ["docker system prune -f"],
    "network-create": ["docker network create {service}-net"],
    "network-ls": ["docker network ls"],
    "compose-build": ["docker compose build"],
    "compose-up": ["docker compose up -d --build"],
    "compose-down": ["docker compose", "down"],
    "compose-logs": ["docker compose logs -f"],
    "smoke": [
        "curl",
        "/readyz",
        "service/inference/example.py model/{artifact}",
        "--fail-with-body",
        "-X POST",
        "/predict",
    ],
    "push": ["make push needs REGISTRY", "docker tag {image}:latest", "docker push"],
    "pre-commit": ["pre-commit run --all-files"],
    "template-check": ["cruft check"],
    "dev": ["HOST=127.0.0.1", "python start.py --reload"],
    "test": ["pytest"],
    "lint": ["ruff check .", "ruff format --check .", "lint-imports", "hadolint Dockerfile.cpu"],
    "train": ["requirements-train.txt", "tools/train.py --output model/{artifact}"],
}
GPU_TARGETS_WITH_COMMANDS = {
    "build-gpu": ["docker build", "-f Dockerfile.gpu", "-t {image}-gpu:latest"],
    "run-gpu": [
        "docker run -d -p {gpu_port}:{port}",
        "--log-opt max-size=5m --log-opt max-file=5",
        "--restart always",
        "--gpus all",
        "--name {service}-gpu {image}-gpu:latest",
    ],
    "compose-up-gpu": ["docker compose --profile gpu up -d --build"],
}


def check_project(project, answers: dict) -> None:
    service = project.name
    port = int(answers.get("port", "5000").strip())
    framework = answers.get("model_framework", DEFAULTS["model_framework"][0])
    gpu = answers.get("include_gpu", "yes" if DEFAULTS["_frameworks"][framework]["cuda"] else "no") == "yes"
    files = [path for path in project.rglob("*") if path.is_file()]

    # No template leftovers anywhere (the model is binary and copied as-is).
    for path in files:
        if path.suffix not in MODEL_SUFFIXES:
            match = UNRENDERED.search(path.read_text())
            assert match is None, f"{path.relative_to(project)}: unrendered {match.group(0)!r}"

    # A regression bake knows nothing of the classification example.
    if answers.get("task") == "regression":
        for path in files:
            if path.suffix not in MODEL_SUFFIXES:
                match = IRIS.search(path.read_text())
                assert match is None, f"{path.relative_to(project)}: {match.group(0)!r} in a regression bake"
        assert "label" not in (project / "service" / "api" / "schemas.py").read_text()

    # Option-specific files exist exactly when chosen.
    for name in ("Dockerfile.gpu", "requirements-gpu.txt"):
        assert (project / name).exists() == gpu, name
    if not gpu:
        # Not a word of the GPU option in any file of the project.
        for path in files:
            if path.suffix not in MODEL_SUFFIXES:
                text = path.read_text().lower()
                assert "gpu" not in text and "cuda" not in text, f"{path.relative_to(project)} mentions the GPU option"

    # Python compiles, and is lint- and format-clean under the project's own config.
    assert compileall.compile_dir(project, quiet=1, force=True)
    run([tool("ruff"), "check", "--no-cache", "."], cwd=project)
    run([tool("ruff"), "format", "--check", "--no-cache", "."], cwd=project)

    check_compose(yaml.safe_load((project / "compose.yaml").read_text()), service, port, gpu)
    for dockerfile in ["Dockerfile.cpu"] + (["Dockerfile.gpu"] if gpu else []):
        check_dockerfile(project / dockerfile, answers)
    check_makefile(project, service, port, gpu, FRAMEWORKS[answers.get("model_framework", "onnx")]["artifact"])
    check_ci(project, answers.get("ci", DEFAULTS["ci"][0]))
    check_links(project)


# A Markdown link [text](target), and a heading line, outside code blocks.
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#+ (.+)$", re.M)
FENCE = re.compile(r"^```.*?^```$", re.M | re.S)


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def check_links(project) -> None:
    """Every relative link of README.md and docs/*.md names a file of the bake, and a heading in it."""
    pages = [project / "README.md", *sorted((project / "docs").glob("*.md"))]
    for page in pages:
        for target in LINK.findall(FENCE.sub("", page.read_text())):
            if re.match(r"[a-z]+://", target):
                continue
            path, _, fragment = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(project)}: link {target!r}"
            assert linked.is_file(), f"{where} names no file of the bake"
            if fragment:
                headings = HEADING.findall(FENCE.sub("", linked.read_text()))
                assert fragment in {anchor(heading) for heading in headings}, f"{where} names no heading"


def check_ci(project, ci: str) -> None:
    """The chosen CI system's file, valid by its published schema, and no other's."""
    for system, name in CI_FILES.items():
        assert (project / name).is_file() == (system == ci), name
    assert (project / ".github").exists() == (ci == "github"), "an empty .github/ left behind"
    if ci in CI_FILES:
        result = validate_ci_file(project / CI_FILES[ci], ci)
        assert result.returncode == 0, result.stdout + result.stderr
    # GitHub expressions reach the workflow as written, not rendered (or eaten) by Jinja.
    if ci == "github":
        workflow = (project / CI_FILES[ci]).read_text()
        assert "${{ github.workflow }}-${{ github.ref }}" in workflow
        assert "${{ vars.REGISTRY }}" in workflow


def check_compose(compose: dict, service: str, port: int, gpu: bool) -> None:
    assert "version" not in compose
    services = compose["services"]
    assert set(services) == ({service, f"{service}-gpu"} if gpu else {service})
    cpu = services[service]
    assert cpu["build"] == {"context": ".", "dockerfile": "Dockerfile.cpu"}
    assert cpu["container_name"] == service
    assert cpu["restart"] == "always"
    assert cpu["logging"] == {"driver": "json-file", "options": {"max-size": "5m", "max-file": "5"}}
    assert cpu["healthcheck"]["test"] == ["CMD", "python", "healthcheck.py"]
    host_ports = [entry.split(":")[0] for entry in cpu["ports"]]
    assert cpu["ports"] == [f"${{PORT:-{port}}}:{port}"]
    if gpu:
        gpu_service = services[f"{service}-gpu"]
        assert gpu_service["build"]["dockerfile"] == "Dockerfile.gpu"
        assert gpu_service["ports"] == [f"${{GPU_PORT:-{port + 1}}}:{port}"]
        assert gpu_service["deploy"]["resources"]["reservations"]["devices"] == [
            {"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}
        ]
        host_ports += [entry.split(":")[0] for entry in gpu_service["ports"]]
    assert len(set(host_ports)) == len(host_ports), "two services on one host port"


def check_dockerfile(dockerfile, answers: dict) -> None:
    result = run(
        [tool("hadolint"), "--failure-threshold", "style", dockerfile.name], cwd=dockerfile.parent, check=False
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout
    lines = [line for line in dockerfile.read_text().splitlines() if line and not line.startswith("#")]
    index = {
        "copy_requirements": next(
            i for i, line in enumerate(lines) if re.match(r"COPY requirements-common\.txt ", line)
        ),
        "pip_install": next(i for i, line in enumerate(lines) if "pip install -r" in line),
        "copy_source": next(i for i, line in enumerate(lines) if line.startswith("COPY *.py")),
        "user": next(i for i, line in enumerate(lines) if line.startswith("USER ")),
    }
    assert index["copy_requirements"] < index["pip_install"] < index["copy_source"] < index["user"], index
    text = dockerfile.read_text()
    # BuildKit features (RUN --mount) need the Dockerfile syntax declared first.
    assert "RUN --mount" not in text or text.startswith("# syntax=docker/dockerfile:1\n"), dockerfile.name
    python_arg = "PYTHON_RELEASE" if dockerfile.name == "Dockerfile.gpu" else "PYTHON_VERSION"
    assert re.search(rf"^ARG {python_arg}={answers.get('python_version', PYTHON_VERSIONS[0])}$", text, re.M)
    assert re.search(r'^ENTRYPOINT \["python", "start.py"\]$', text, re.M)
    assert re.search(r'^HEALTHCHECK .*CMD \["python", "healthcheck.py"\]$', text, re.M)
    assert "useradd --uid" in text and "USER ${UID}:${UID}" in text
    packages = answers.get("system_packages", "").split()
    if packages:
        install = next(line for line in text.splitlines() if "apt-get install" in line and packages[0] in line)
        assert all(f" {package}" in install for package in packages), install
        assert text.index(install) < text.index("COPY requirements-"), "system packages after dependencies"
    elif dockerfile.name == "Dockerfile.cpu":
        assert "apt-get" not in text, "an apt layer with nothing to install"
    if dockerfile.name == "Dockerfile.gpu":
        assert f"ARG CUDA_VERSION={answers.get('cuda_version', CUDA_VERSIONS[0])}" in text
        assert "ARG BASE_IMAGE=nvidia/cuda:${CUDA_VERSION}-cudnn-runtime-ubuntu24.04" in text


def make_n(project, target: str, **variables) -> str:
    args = ["make", "-n", "--no-print-directory", target] + [f"{k}={v}" for k, v in variables.items()]
    return run(args, cwd=project).stdout


def check_makefile(project, service: str, port: int, gpu: bool, artifact: str) -> None:
    expected = dict(MAKE_TARGETS_WITH_COMMANDS, **(GPU_TARGETS_WITH_COMMANDS if gpu else {}))
    values = {"service": service, "image": service, "port": port, "gpu_port": port + 1, "artifact": artifact}
    for target, fragments in expected.items():
        printed = make_n(project, target)
        for fragment in fragments:
            assert fragment.format(**values) in printed, f"make -n {target}:\n{printed}"
    if not gpu:
        for target in GPU_TARGETS_WITH_COMMANDS:
            assert run(["make", "-n", target], cwd=project, check=False).returncode != 0, target

    # The docker command is a variable, e.g. for sudo or podman.
    assert make_n(project, "ps", DOCKER="sudo docker").startswith("sudo docker ps")
    assert "podman run -d -p 9000:9000" in make_n(project, "run", DOCKER="podman", PORT=9000)

    # `make` alone is `make help`, and it lists every target with a description.
    help_text = run(["make", "--no-print-directory"], cwd=project).stdout
    targets = re.findall(r"^([a-z][a-z0-9-]*):", (project / "Makefile").read_text(), re.M)
    for target in targets:
        assert re.search(rf"^\s*(\x1b\[\d+m)?{re.escape(target)}\b.*\S", help_text, re.M), f"make help lacks {target}"


@pytest.mark.parametrize("answers", MATRIX + TEXT_ANSWERS)
def test_bake_is_clean(cookies, answers):
    project = bake_ok(cookies, **answers)
    check_project(project, answers)


def test_default_bake_layout(cookies):
    project = bake_ok(cookies)
    assert project.name == "iris-classifier"
    for name in (
        "serve_http.py",
        "service/app.py",
        "service/inference/loader.py",
        "tools/train.py",
        "gunicorn.conf.py",
        "requirements-serve.txt",
        "requirements-dev.txt",
        "Dockerfile.cpu",
        "Dockerfile.gpu",
        ".dockerignore",
        "compose.yaml",
        "Makefile",
        "README.md",
        "tests/test_predict.py",
        ".pre-commit-config.yaml",
        ".github/workflows/ci.yml",
    ):
        assert (project / name).is_file(), name
    # The task's example model and its files, copied byte for byte, not rendered; nothing else.
    examples = TEMPLATE / "{{cookiecutter.service_name}}" / ".models" / "onnx"
    assert not (project / ".models").exists()
    shipped = sorted(path.name for path in (project / "model").iterdir())
    assert shipped == ["example.json", "metadata.json", "model.onnx", "model.onnx.sha256"]
    for name in shipped:
        assert (project / "model" / name).read_bytes() == (examples / "classification" / name).read_bytes(), name
    # Runtime dependencies are all pinned, in layers: common, then the CPU or the GPU build of ONNX Runtime.
    for name in ("requirements-common.txt", "requirements-serve.txt", "requirements-gpu.txt"):
        for line in (project / name).read_text().splitlines():
            if line and not line.startswith("#") and line != "-r requirements-common.txt":
                assert re.fullmatch(r"[a-z0-9-]+==[0-9][0-9a-z.]*", line), f"{name}: {line}"
    assert "-r requirements-common.txt" in (project / "requirements-gpu.txt").read_text().splitlines()
    # The README reads in minutes (the reference is in docs/): under 8 KB, as the anchors' are.
    readme = (project / "README.md").read_bytes()
    assert len(readme) <= 8 * 1024, f"README.md is {len(readme)} bytes"
    assert b"## Where to change what" in readme


# What Dockerfile.gpu may do differently from Dockerfile.cpu, from the user on:
# its requirements file, its own Python, the GPU defaults, a longer start.
GPU_DIFFERENCES = re.compile(
    r"requirements-(serve|gpu)\.txt|-m venv|^ENV PORT|^ {4}(PRELOAD|WORKERS)=|CUDA context|one worker per GPU|start-period"
)


def test_dockerfiles_follow_one_pattern(cookies):
    project = bake_ok(cookies)

    def steps(name: str) -> list[str]:
        text = (project / name).read_text()
        return [line for line in text[text.index("ARG UID=") :].splitlines() if not GPU_DIFFERENCES.search(line)]

    assert steps("Dockerfile.cpu") == steps("Dockerfile.gpu")


def test_regression_bake_ships_the_diabetes_example(cookies):
    project = bake_ok(cookies, task="regression")
    assert project.name == "diabetes-progression"
    examples = TEMPLATE / "{{cookiecutter.service_name}}" / ".models" / "onnx" / "regression"
    for name in ("example.json", "metadata.json", "model.onnx", "model.onnx.sha256"):
        assert (project / "model" / name).read_bytes() == (examples / name).read_bytes(), name


@pytest.mark.parametrize(
    ("answers", "gpu"),
    [
        pytest.param({"model_framework": "sklearn"}, False, id="sklearn-default"),
        pytest.param({"model_framework": "xgboost"}, True, id="xgboost-default"),
        pytest.param({"include_gpu": "n"}, False, id="spelled-n"),
        # A .cruft.json written while include_gpu was a yes/no question holds a boolean.
        pytest.param({"include_gpu": False}, False, id="cruft-false"),
        pytest.param({"include_gpu": True}, True, id="cruft-true"),
    ],
)
def test_the_gpu_default_follows_the_framework_and_every_spelling_is_read(cookies, answers, gpu):
    """`--no-input model_framework=sklearn` bakes (no GPU build, so no GPU files) instead of
    failing on a default the hook refuses; an explicit yes with sklearn is still refused (test_frameworks)."""
    project = bake_ok(cookies, **answers)
    assert (project / "Dockerfile.gpu").exists() is gpu
    assert ("run-gpu:" in (project / "Makefile").read_text()) is gpu


def test_cookiecutter_no_input_bakes_sklearn_without_gpu_files(tmp_path):
    """The issue's command, through cookiecutter's own CLI rather than pytest-cookies."""
    run([tool("cookiecutter"), "--no-input", str(TEMPLATE), "model_framework=sklearn"], cwd=tmp_path)
    project = tmp_path / "iris-classifier"
    assert (project / "Dockerfile.cpu").exists() and not (project / "Dockerfile.gpu").exists()
    assert "gpu" not in (project / "compose.yaml").read_text()


def test_service_name_derives_from_project_name(cookies):
    project = bake_ok(cookies, project_name="Credit Risk Scorer")
    assert project.name == "credit-risk-scorer"


def test_post_gen_prints_next_steps(cookies, capfd):
    project = bake_ok(cookies, include_gpu="no")
    out = capfd.readouterr().out
    # pytest-cookies bakes outside the current directory: the full path.
    assert f"Generated {project}/. Next steps:" in out and f"\n  cd {project}\n" in out and "make dev" in out


@pytest.mark.parametrize(
    ("options", "path"), [([], "iris-classifier"), (["-o", "out/my dir"], "out/my dir/iris-classifier")]
)
def test_next_steps_name_the_directory_from_where_cookiecutter_ran(tmp_path, options, path):
    result = run(
        [tool("cookiecutter"), "--no-input", str(TEMPLATE), *options],
        cwd=tmp_path,
        env={**os.environ, "PWD": str(tmp_path)},
    )
    assert (tmp_path / path / "Makefile").is_file()
    assert f"Generated {path}/." in result.stdout and f"\n  cd {shlex.quote(path)}\n" in result.stdout, result.stdout
