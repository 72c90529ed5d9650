"""Remove what the chosen options do not use, then print the next steps.

Files that exist only for an option are deleted here; lines inside shared
files (Makefile targets, the compose GPU service, README rows) are left out
by the templates themselves, so nothing in the result refers to a file that
is not there.  Nothing else happens here (no `git init`, no installs):
`cruft update` re-runs this hook on clean copies of the template and diffs
them, so it must only ever produce files.
"""

import shutil
from pathlib import Path

INCLUDE_GPU = {{ cookiecutter.include_gpu | string | jsonify }}.lower() == "true"
SERVICE_NAME = {{ cookiecutter.service_name | string | jsonify }}
PORT = {{ cookiecutter.port | string | jsonify }}
CI = {{ cookiecutter.ci | string | jsonify }}

GPU_ONLY_FILES = ("Dockerfile.gpu", "requirements-gpu.txt")
# Where each CI system's pipeline lives; all but the chosen one are removed.
CI_PATHS = {"github": ".github", "gitlab": ".gitlab-ci.yml"}


def remove_unused_files() -> None:
    if not INCLUDE_GPU:
        for name in GPU_ONLY_FILES:
            Path(name).unlink()


def remove_unchosen_ci() -> None:
    for system, name in CI_PATHS.items():
        if system != CI:
            path = Path(name)
            shutil.rmtree(path) if path.is_dir() else path.unlink()


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
    remove_unused_files()
    remove_unchosen_ci()
    print_next_steps()
