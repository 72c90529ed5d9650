{%- set framework = cookiecutter._frameworks[cookiecutter.model_framework] -%}
"""What this service is: the answers given when it was generated, in one place.

Everything else reads these names from here (the OpenAPI title, GET /v2's
server name, the model loader's task, the default model file), so a rename
is one edit.
"""

from typing import Literal

TITLE = {{ cookiecutter.project_name | jsonify }}  # fmt: skip
DESCRIPTION = {{ cookiecutter.description | jsonify }}  # fmt: skip
SERVICE_NAME = {{ cookiecutter.service_name | jsonify }}  # fmt: skip
SERVICE_VERSION = "0.1.0"

Task = Literal["classification", "regression"]
# What the model predicts: the service's response shape follows it.
TASK: Task = {{ cookiecutter.task | jsonify }}  # fmt: skip
# What runs the model (service/inference/{{ framework.module }}.py), and the
# Open Inference Protocol's platform name for it ("<project>_<format>").
RUNTIME = {{ framework.runtime | jsonify }}  # fmt: skip
V2_PLATFORM = {{ framework.v2_platform | jsonify }}  # fmt: skip
# The model file in model/ that tools/train.py writes and MODEL_PATH defaults to.
MODEL_ARTIFACT = {{ framework.artifact | jsonify }}  # fmt: skip
