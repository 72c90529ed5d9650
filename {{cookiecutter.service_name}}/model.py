"""The model this service serves, and the contract for replacing it.

Contract (what serve_http.py relies on; keep it when you swap in your model):

* ``load_model(path, threads) -> Model`` is called once per process, before
  any request: in the gunicorn master when PRELOAD is on (workers then share
  its memory), otherwise in each worker.  It raises ``ModelLoadError`` with a
  one-line reason if the file is missing, unreadable, or does not match the
  SHA-256 recorded beside it in ``<file>.sha256``.
* ``Model.predict(batch)`` takes a float32 array of shape
  ``(n_instances, n_features)``, already validated (finite numbers, right
  width), and returns one ``Prediction`` per row, in order.  It must be safe
  to call from several threads at once.
* ``Model.metadata`` describes the model for ``GET /metadata``; its
  ``feature_names`` fix the input width and its ``labels`` the output classes.

The default is an iris classifier exported to ONNX by train.py and run with
ONNX Runtime.  To serve your own ONNX classifier, export it the same way and
set MODEL_PATH; to serve something else, reimplement these three names.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort


class ModelLoadError(RuntimeError):
    """The model file cannot be served.

    ``str(error)`` names the file and the reason, for the log; ``reason``
    alone is what HTTP responses may show (no file paths leave the service).
    """

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class Metadata:
    name: str
    version: str
    feature_names: tuple[str, ...]
    labels: tuple[str, ...]
    sha256: str

    @property
    def n_features(self) -> int:
        return len(self.feature_names)


@dataclass(frozen=True)
class Prediction:
    label: str
    probabilities: dict[str, float]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def recorded_sha256(path: Path) -> str | None:
    """The digest in ``<file>.sha256`` (``sha256sum`` format), if that file exists."""
    sidecar = path.with_name(path.name + ".sha256")
    if not sidecar.exists():
        return None
    fields = sidecar.read_text().split()
    if not fields:
        raise ModelLoadError(sidecar, "empty checksum file")
    return fields[0].lower()


class OnnxClassifier:
    """A classifier whose ONNX graph outputs (labels, probabilities)."""

    def __init__(self, session: ort.InferenceSession, metadata: Metadata) -> None:
        self._session = session
        self._input_name = session.get_inputs()[0].name
        # Output 1 holds the class probabilities; output 0 (the argmax label)
        # is not fetched, we derive it from the probabilities.
        self._output_names = [session.get_outputs()[1].name]
        self.metadata = metadata

    def predict(self, batch: np.ndarray) -> list[Prediction]:
        probabilities = self._session.run(self._output_names, {self._input_name: batch})[0]
        labels = self.metadata.labels
        best = probabilities.argmax(axis=1)
        return [
            Prediction(labels[index], dict(zip(labels, row, strict=True)))
            for index, row in zip(best.tolist(), probabilities.tolist(), strict=True)
        ]


def _session_options(threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    # One intra-op thread per worker by default: the workers already use every
    # core, and ONNX Runtime creates no thread pool that forking could break.
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return options


def _providers() -> list[str]:
{%- if cookiecutter.include_gpu %}
    # Use CUDA when the GPU build of ONNX Runtime is installed (Dockerfile.gpu).
    available = ort.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
{%- else %}
    return ["CPUExecutionProvider"]
{%- endif %}


def load_model(path: Path, threads: int = 1) -> OnnxClassifier:
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(path, "model file not found")
    digest = file_sha256(path)
    expected = recorded_sha256(path)
    if expected is not None and digest != expected:
        raise ModelLoadError(path, f"SHA-256 {digest} does not match {expected} recorded in {path.name}.sha256")
    try:
        session = ort.InferenceSession(str(path), _session_options(threads), providers=_providers())
        props = session.get_modelmeta().custom_metadata_map
        metadata = Metadata(
            name=props.get("name", path.stem),
            version=props.get("version", "unknown"),
            feature_names=tuple(json.loads(props["feature_names"])),
            labels=tuple(json.loads(props["labels"])),
            sha256=digest,
        )
    except (ort.capi.onnxruntime_pybind11_state.Fail, ort.capi.onnxruntime_pybind11_state.InvalidProtobuf) as error:
        raise ModelLoadError(path, f"not a loadable ONNX model ({type(error).__name__})") from error
    except (KeyError, ValueError) as error:
        raise ModelLoadError(path, "metadata 'labels' and 'feature_names' missing or not JSON lists") from error
    return OnnxClassifier(session, metadata)
