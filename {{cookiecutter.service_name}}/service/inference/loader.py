"""Loading the served model: the file's integrity, its metadata.json, its adapter.

{%- set framework = cookiecutter._frameworks[cookiecutter.model_framework] %}
The contract every model meets is in contract.py; this service's adapter
({{ framework.runtime }}) in {{ framework.module }}.py, imported here and nowhere else:
another runtime's adapter is a change of ``ADAPTER``.  ``load_model`` is the
one entry the service calls, once per process (state.load_state).  Beside
the model file it reads:

* ``<file>.sha256`` (``sha256sum`` format): the file must match it.  Without
  it the model is served with a warning that its integrity was not checked.
* ``metadata.json`` (optional): name, version, task, feature_names, labels
  and, for a classifier, whether its float output holds ``probabilities`` or
  ``logits`` (``scores``), and the named input columns (``inputs``:
  service/inference/columns.py).  What it says overrides what the adapter infers.
{%- if cookiecutter.model_framework == "sklearn" %}
  ``trusted_types``: the types beyond scikit-learn's own that the skops file
  may hold, declared with the model so that every way of running it sees them.
{%- endif %}
"""

import hashlib
import logging
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.inference.contract import Column, DeclaredMetadata, Model, ModelLoadError
from service.inference.{{ framework.module }} import {{ framework.adapter }}
from service.project import TASK, Task
from service.settings import Settings, load_settings
from service.validation import one_line

# The framework's adapter: the class that loads and runs the model file.
ADAPTER: type[Model] = {{ framework.adapter }}
METADATA_FILE = "metadata.json"

log = logging.getLogger("service.model")


class MetadataFile(BaseModel):
    """The optional metadata.json beside the model; every field may be left out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    version: str | None = None
    task: Task | None = None
    feature_names: list[str] | None = Field(None, min_length=1)
    labels: list[str] | None = Field(None, min_length=2)
    scores: Literal["probabilities", "logits"] | None = None
    inputs: list[Column] | None = Field(None, min_length=1)
{%- if cookiecutter.model_framework == "sklearn" %}
    trusted_types: list[str] = []
{%- endif %}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verified_sha256(path: Path) -> str:
    """The file's SHA-256, checked against ``<file>.sha256`` when that exists."""
    if not path.is_file():
        raise ModelLoadError(path, "model file not found")
    digest = file_sha256(path)
    sidecar = path.with_name(path.name + ".sha256")
    if not sidecar.exists():
        log.warning("model integrity not checked: no %s beside %s (sha256sum FILE > FILE.sha256)", sidecar.name, path)
        return digest
    fields = sidecar.read_text().split()
    if not fields:
        raise ModelLoadError(sidecar, "empty checksum file")
    if digest != fields[0].lower():
        raise ModelLoadError(path, f"SHA-256 {digest} does not match {fields[0]} recorded in {sidecar.name}")
    return digest


def declared_metadata(path: Path, task: Task) -> DeclaredMetadata:
    """What metadata.json beside ``path`` declares, checked against the service's task."""
    source = path.with_name(METADATA_FILE)
    if not source.exists():
        return DeclaredMetadata(task=task)
    try:
        declared = MetadataFile.model_validate_json(source.read_bytes())
    except ValidationError as error:
        raise ModelLoadError(source, f"{METADATA_FILE}: {one_line(error)}") from None
    if declared.task not in (None, task):
        raise ModelLoadError(
            source, f"{METADATA_FILE} says task={declared.task}, but this service was generated for task={task}"
        )
    return DeclaredMetadata(
        task=task,
        name=declared.name,
        version=declared.version,
        feature_names=tuple(declared.feature_names) if declared.feature_names else None,
        labels=tuple(declared.labels) if declared.labels else None,
        scores=declared.scores,
        inputs=tuple(declared.inputs) if declared.inputs else None,
{%- if cookiecutter.model_framework == "sklearn" %}
        trusted_types=tuple(declared.trusted_types),
{%- endif %}
    )


def load_model(path: Path, settings: Settings | None = None, task: Task = TASK) -> tuple[Model, str]:
    """The model behind the contract, and its file's SHA-256; ``ModelLoadError`` says why not.

    ``settings`` (by default, the environment's) reach the adapter: MODEL_THREADS and its own.
    """
    path = Path(path)
    digest = verified_sha256(path)
    return ADAPTER.load(path, declared_metadata(path, task), settings or load_settings()), digest
