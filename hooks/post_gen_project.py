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

GPU_ONLY_FILES = ("Dockerfile.gpu", "requirements-gpu.txt")
# Cookiecutter renders every directory of the template: these go afterwards.
GPU_ONLY_DIRECTORIES = ("k8s/overlays/gpu",)


def remove_unused_files() -> None:
    if not INCLUDE_GPU:
        for name in GPU_ONLY_FILES:
            Path(name).unlink()
        for name in GPU_ONLY_DIRECTORIES:
            shutil.rmtree(name)


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
    print_next_steps()
