"""What every bake must satisfy, whatever its answers: check_project and its parts.

No template leftovers, Python that compiles and is ruff-clean, YAML that parses,
Dockerfiles that pass hadolint with their dependency layer before the source, a
Makefile whose targets print the documented commands, the chosen CI file valid
by its schema, and every relative link of the README and docs/ resolving.
"""

import compileall
import re

import yaml

from support.pipelines import CI_FILES, validate_ci_file
from support.processes import run, tool
from support.template import CUDA_VERSIONS, DEFAULTS, PYTHON_VERSIONS

# Template syntax left in a baked file.
UNRENDERED = re.compile(r"\{\{\s*cookiecutter|\{%|\{#|cookiecutter", re.IGNORECASE)
# The example models are binary files, copied as they are (one suffix per framework).
FRAMEWORKS = DEFAULTS["_frameworks"]
MODEL_SUFFIXES = tuple("." + framework["artifact"].rsplit(".", 1)[1] for framework in FRAMEWORKS.values())
# What only the iris example may mention: none of it in a regression bake.
IRIS = re.compile(r"iris|setosa|versicolor|virginica|sepal|petal|flower", re.IGNORECASE)

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
    # include_gpu's default follows the framework: no for one without a GPU build.
    gpu = answers.get("include_gpu", "yes" if FRAMEWORKS[framework]["cuda"] else "no") == "yes"
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
