"""Remove what the chosen options do not use, then print the next steps.

Files that exist only for an option are deleted here; lines inside shared
files (Makefile targets, the compose GPU service, README rows) are left out
by the templates themselves, so nothing in the result refers to a file that
is not there.  Nothing else happens here (no `git init`, no installs):
`cruft update` re-runs this hook on clean copies of the template and diffs
them, so it must only ever produce files.
"""

import os
import shlex
import shutil
from pathlib import Path

INCLUDE_GPU = {{ 'True' if cookiecutter.include_gpu is yes else 'False' }}
PORT = {{ cookiecutter.port | string | jsonify }}
TASK = {{ cookiecutter.task | string | jsonify }}
CI = {{ cookiecutter.ci | string | jsonify }}
FRAMEWORK = {{ cookiecutter.model_framework | string | jsonify }}
# cookiecutter.json's _frameworks: each framework's adapter module, among others.
FRAMEWORKS = {{ cookiecutter._frameworks | jsonify }}

GPU_ONLY_FILES = ("Dockerfile.gpu", "requirements-gpu.txt", "docs/gpu.md")
# Cookiecutter renders every directory of the template: these go afterwards.
GPU_ONLY_DIRECTORIES = ("k8s/overlays/gpu",)
# Where each CI system's pipeline lives; all but the chosen one are removed.
CI_PATHS = {"github": ".github", "gitlab": ".gitlab-ci.yml"}


def install_example_model() -> None:
    """The framework's example model for the task, its checksum, metadata.json and example.json go to model/."""
    Path("model").mkdir(exist_ok=True)
    for source in sorted(Path(".models", FRAMEWORK, TASK).iterdir()):
        source.rename(Path("model", source.name))
    shutil.rmtree(".models")


def remove_other_frameworks() -> None:
    """Only this framework's adapter (service/inference/<module>.py) and its tests (tests/test_<module>.py) stay."""
    for name, framework in FRAMEWORKS.items():
        if name != FRAMEWORK:
            Path("service", "inference", f"{framework['module']}.py").unlink()
            Path("tests", f"test_{framework['module']}.py").unlink(missing_ok=True)


def remove_unused_files() -> None:
    if not INCLUDE_GPU:
        for name in GPU_ONLY_FILES:
            Path(name).unlink()
        for name in GPU_ONLY_DIRECTORIES:
            shutil.rmtree(name)


def where_generated() -> str:
    """The new project's path as the user can cd to it: relative to the shell's
    directory when inside it (``-o DIR`` gives ``DIR/name``), else absolute.

    Cookiecutter runs this hook inside the project; PWD is still the directory
    the user ran cookiecutter from.
    """
    project = Path.cwd()
    start = Path(os.environ.get("PWD", "/nonexistent"))
    try:
        return str(project.relative_to(start.resolve()))
    except ValueError:
        return str(project)


def remove_unchosen_ci() -> None:
    for system, name in CI_PATHS.items():
        if system != CI:
            path = Path(name)
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    if CI == "none":
        Path("docs", "ci.md").unlink()


def print_next_steps() -> None:
    path = where_generated()
    print(
        f"""
Generated {path}/. Next steps:

  cd {shlex.quote(path)}
  make dev        # run it locally (virtualenv + gunicorn) on port {PORT}
  make smoke      # send a real prediction to it
  make build run  # or build the CPU image and run the container
  make help       # every command, one line each
"""
    )


if __name__ == "__main__":
    install_example_model()
    remove_other_frameworks()
    remove_unused_files()
    remove_unchosen_ci()
    print_next_steps()
