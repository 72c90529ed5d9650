"""Remove what the chosen options do not use, then print the next steps.

Files that exist only for an option are deleted here; lines inside shared
files (Makefile targets, the compose GPU service, README rows) are left out
by the templates themselves, so nothing in the result refers to a file that
is not there.
"""

import shutil
from pathlib import Path

INCLUDE_GPU = {{ cookiecutter.include_gpu | string | jsonify }}.lower() == "true"
SERVICE_NAME = {{ cookiecutter.service_name | string | jsonify }}
PORT = {{ cookiecutter.port | string | jsonify }}
TASK = {{ cookiecutter.task | string | jsonify }}
FRAMEWORK = {{ cookiecutter.model_framework | string | jsonify }}
# cookiecutter.json's _frameworks: each framework's adapter module, among others.
FRAMEWORKS = {{ cookiecutter._frameworks | jsonify }}

GPU_ONLY_FILES = ("Dockerfile.gpu", "requirements-gpu.txt")


def install_example_model() -> None:
    """The framework's example model for the task, its checksum, metadata.json and example.json go to model/."""
    Path("model").mkdir(exist_ok=True)
    for source in sorted(Path(".models", FRAMEWORK, TASK).iterdir()):
        source.rename(Path("model", source.name))
    shutil.rmtree(".models")


def remove_other_frameworks() -> None:
    """Only this framework's adapter and its tests stay (tests/test_<module>.py)."""
    for name, framework in FRAMEWORKS.items():
        if name != FRAMEWORK:
            Path(f"{framework['module']}.py").unlink()
            Path("tests", f"test_{framework['module']}.py").unlink(missing_ok=True)


def remove_unused_files() -> None:
    if not INCLUDE_GPU:
        for name in GPU_ONLY_FILES:
            Path(name).unlink()


def print_next_steps() -> None:
    print(
        f"""
Generated {SERVICE_NAME}/. Next steps:

  cd {SERVICE_NAME}
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
    print_next_steps()
