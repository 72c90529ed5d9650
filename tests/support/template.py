"""The template under test: its root directory and the answers of its cookiecutter.json."""

import json
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent.parent
DEFAULTS = json.loads((TEMPLATE / "cookiecutter.json").read_text())
PYTHON_VERSIONS = DEFAULTS["python_version"]
CUDA_VERSIONS = DEFAULTS["cuda_version"]
TASKS = DEFAULTS["task"]
# The Python running the tests: the one bakes are installed and served with outside containers.
LOCAL_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
