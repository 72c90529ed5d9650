"""The ONNX adapter of the model contract (contract.py), run by ONNX Runtime.

It serves what the usual converters export, with no hand-made metadata:

* skl2onnx classifiers (a label output and class probabilities, as a tensor
  with ``options={"zipmap": False}`` or as ZipMap's list of maps, which is
  served too but costs a Python loop per row) and regressors;
* ``torch.onnx.export`` of a network whose output is class logits (softmax
  gives the probabilities; an output made by a Softmax node is used as is)
  or regression values;
* onnxmltools (XGBoost, LightGBM): like skl2onnx.

Class labels come from the graph where the converter put them (ZipMap or the
classifier node), else ``0..K-1``; feature names default to ``f0..fN``.
``metadata.json`` beside the model overrides both (see loader.py).

The export mistakes it can see are refused at load with one line that says
the fix (shown on ``/readyz``): several inputs, an input that is not a
float matrix or whose width is not fixed, outputs that fit neither task, a
label count that differs from the probability width.  A float64 input is
accepted: each batch is cast to float64 (a warning says to export float32).
"""

import logging
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np
import onnx
import onnxruntime as ort

from service.inference.contract import DeclaredMetadata, ModelLoadError, ModelMetadata, describe
from service.project import Task
from service.settings import Settings

log = logging.getLogger("service.model")

# ONNX Runtime's type strings for the tensors we can feed or read, and V2's names.
FLOAT_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64}
V2_DATATYPES = {np.dtype(np.float32): "FP32", np.dtype(np.float64): "FP64"}
LABEL_TYPES = ("tensor(int64)", "tensor(string)", "tensor(int32)")
# Node attributes in which ONNX-ML classifiers and ZipMap keep their class labels.
LABEL_ATTRIBUTES = ("classlabels_strings", "classlabels_int64s", "classlabels_ints")


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
{%- if cookiecutter.include_gpu is yes %}
    # CUDA when ONNX Runtime's GPU build is installed (Dockerfile.gpu), else the CPU.
    available = ort.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
{%- else %}
    return ["CPUExecutionProvider"]
{%- endif %}


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _graph_facts(path: Path) -> tuple[list[str] | None, dict[str, str]]:
    """The class labels stored in the graph (None if none), and which op type makes each output."""
    graph = onnx.load(str(path), load_external_data=False).graph
    labels, zipmap_labels, producers = None, None, {}
    for node in graph.node:
        for output in node.output:
            producers[output] = node.op_type
        for attribute in node.attribute:
            if attribute.name in LABEL_ATTRIBUTES:
                values = onnx.helper.get_attribute_value(attribute)
                found = [v.decode() if isinstance(v, bytes) else str(v) for v in values]
                if node.op_type == "ZipMap":
                    zipmap_labels = found
                elif labels is None and found:
                    labels = found
    return zipmap_labels or labels, producers


def _one_line(error: Exception, path: Path) -> str:
    """An error's type and the gist of its message, without the file's path (it may reach HTTP clients)."""
    text = " ".join(str(error).split()).replace(str(path), path.name)
    gist = text.rsplit("failed:", 1)[-1].strip()  # ONNX Runtime: "Load model from PATH failed:<why>"
    hint = "; export float32 inputs" if "tensor(double)" in gist else ""
    return f"{type(error).__name__}: {gist[:200]}{hint}" if gist else type(error).__name__


class OnnxModel:
    """An ONNX graph behind the contract: predict() returns probabilities or values."""

    platform: ClassVar[str] = "onnxruntime"
    # A session's intra-op threads start with the session and stay in the
    # process that made it: a worker forked from a preloading master would run
    # with one thread whatever MODEL_THREADS says.
    threads_survive_fork: ClassVar[bool] = False

    def __init__(self, run: Callable[[np.ndarray], np.ndarray], metadata: ModelMetadata) -> None:
        self._run = run
        self.metadata = metadata

    def predict(self, batch: np.ndarray) -> np.ndarray:
        return self._run(batch)

    @classmethod
    def load(cls, path: Path, declared: DeclaredMetadata, settings: Settings) -> "OnnxModel":
        try:
            session = ort.InferenceSession(str(path), _session_options(settings.model_threads), providers=_providers())
            graph_labels, producers = _graph_facts(path)
        except Exception as error:  # ONNX Runtime's and protobuf's many error types: one line, no path
            raise ModelLoadError(path, f"not a loadable ONNX model ({_one_line(error, path)})") from error
        feed, n_features, input_dtype = cls._input(path, session, declared)
        probe = np.zeros((1, n_features), dtype=np.float32)
        try:
            run = cls._output(path, session, feed, input_dtype, declared.task, producers, probe)
            result = np.asarray(run(probe))
        except ModelLoadError:
            raise
        except Exception as error:  # the graph's own error: say which, on one line
            raise ModelLoadError(path, f"the model fails on a row of zeros ({_one_line(error, path)})") from error
        metadata = describe(
            path,
            declared,
            cls.platform,
            n_features,
            result,
            labels=tuple(graph_labels) if graph_labels is not None else None,
            label_source="the graph names",
            output_datatype=V2_DATATYPES.get(result.dtype, "FP32"),
        )
        return cls(run, metadata)

    @staticmethod
    def _input(path: Path, session: ort.InferenceSession, declared: DeclaredMetadata) -> tuple[str, int, type]:
        """The input's name, width and dtype; a refusal naming the fix if the service cannot feed it."""
        inputs = session.get_inputs()
        if len(inputs) != 1:
            names = ", ".join(i.name for i in inputs)
            raise ModelLoadError(
                path, f"the model has {len(inputs)} inputs ({names}); export one float32 (batch, features) input"
            )
        tensor = inputs[0]
        if tensor.type not in FLOAT_TYPES:
            raise ModelLoadError(
                path, f"input '{tensor.name}' is {tensor.type}; export it as a float32 (batch, features) tensor"
            )
        if len(tensor.shape) != 2:
            raise ModelLoadError(
                path, f"input '{tensor.name}' has shape {tensor.shape}; export a 2-D (batch, features) input"
            )
        width = tensor.shape[1]
        if declared.feature_names is not None:
            if isinstance(width, int) and width != len(declared.feature_names):
                raise ModelLoadError(
                    path,
                    f"metadata.json names {len(declared.feature_names)} features but input '{tensor.name}' has {width}",
                )
            width = len(declared.feature_names)
        elif not isinstance(width, int):
            raise ModelLoadError(
                path,
                f"input '{tensor.name}' has a dynamic width ({width!r}); export it with a fixed number of features "
                "(only the batch dimension dynamic) or list feature_names in metadata.json",
            )
        dtype = FLOAT_TYPES[tensor.type]
        if dtype is np.float64:
            log.warning(
                "input '%s' is float64: each batch is cast to float64 (export float32 to skip the copy)", tensor.name
            )
        return tensor.name, width, dtype

    @staticmethod
    def _output(
        path: Path,
        session: ort.InferenceSession,
        feed: str,
        input_dtype: type,
        task: Task,
        producers: dict[str, str],
        probe: np.ndarray,
    ) -> Callable[[np.ndarray], np.ndarray]:
        """A function from a float32 batch to the contract's 2-D output, for this graph's outputs."""
        outputs = session.get_outputs()
        floats = [o for o in outputs if o.type in FLOAT_TYPES]
        zipmaps = [o for o in outputs if o.type.startswith("seq(map(")]
        has_labels = any(o.type in LABEL_TYPES for o in outputs)
        described = ", ".join(f"{o.name}: {o.type}" for o in outputs)
        run = session.run
        cast = input_dtype is not np.float32

        def fetch(name: str) -> Callable[[np.ndarray], object]:
            names = [name]
            if cast:
                return lambda batch: run(names, {feed: batch.astype(input_dtype)})[0]
            return lambda batch: run(names, {feed: batch})[0]

        if task == "regression":
            if zipmaps or has_labels or len(floats) != 1:
                raise ModelLoadError(
                    path,
                    f"outputs ({described}) are not one float tensor of values: a regressor's export has exactly "
                    "one (a classifier needs a service generated with task=classification)",
                )
            values = fetch(floats[0].name)
            return lambda batch: values(batch).reshape(len(batch), -1)

        if zipmaps:
            log.warning(
                "output '%s' is a list of maps (skl2onnx's ZipMap): served, but each row costs a Python loop; "
                "export with options={'zipmap': False} for a probability tensor",
                zipmaps[0].name,
            )
            maps = fetch(zipmaps[0].name)
            keys = list(maps(probe)[0])  # the class labels, in the order the graph names them
            return lambda batch: np.array([[row[key] for key in keys] for row in maps(batch)], dtype=np.float32)
        matrices = [o for o in floats if len(o.shape) == 2]
        if len(matrices) != 1:
            raise ModelLoadError(
                path,
                f"outputs ({described}) hold no single (batch, classes) float tensor of class scores; "
                "export a classifier's probabilities or logits as one 2-D float output",
            )
        scores = matrices[0]
        probabilities = fetch(scores.name)
        # A converter's classifier (it also outputs labels) or a Softmax node gives
        # probabilities; a bare network output is logits.
        if has_labels or producers.get(scores.name) == "Softmax":
            return probabilities
        log.info("output '%s' is taken as logits: softmax gives the probabilities", scores.name)
        return lambda batch: softmax(probabilities(batch))
