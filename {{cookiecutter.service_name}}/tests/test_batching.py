"""Micro-batching (service/inference/batching.py): order, isolated errors, the timeout, off by default."""

import os
import subprocess
import sys
import threading
import time

import numpy as np

import serve_http
from service.inference import batching, processing
from service.inference.loader import load_model
from service.inference.state import ModelState
from service.settings import load_settings
from support.app import PROJECT
from support.model import EXAMPLE, model_input


class CountingModel:
    """predict() = the rows doubled; records the size of every call, and can fail or stall."""

    def __init__(self, fail_on: float | None = None, stall: threading.Event | None = None) -> None:
        self.calls: list[int] = []
        self.fail_on, self.stall = fail_on, stall

    def predict(self, rows: np.ndarray) -> np.ndarray:
        self.calls.append(len(rows))
        if self.stall is not None:
            self.stall.wait()
        if self.fail_on is not None and (rows == self.fail_on).any():
            raise ValueError(f"cannot predict {self.fail_on}")
        outputs = rows * 2
        outputs[rows < 0] = np.nan  # out of the model's range: no finite prediction
        return outputs


def call_together(predict, inputs: list[np.ndarray]) -> list:
    """``predict`` on each input from its own thread, all started together; results or exceptions, in order."""
    results: list = [None] * len(inputs)
    barrier = threading.Barrier(len(inputs))

    def one(index: int) -> None:
        barrier.wait()
        try:
            results[index] = predict(inputs[index])
        except Exception as error:  # the test compares it
            results[index] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_off_by_default_the_model_is_called_directly():
    assert load_settings().microbatch_max_size == 0
    model = CountingModel()
    assert batching.predictor(model.predict, 0, 5) == model.predict


def test_concurrent_callers_share_calls_and_each_gets_its_own_rows_in_order():
    model = CountingModel()
    predict = batching.predictor(model.predict, 64, 200)
    inputs = [np.full((1 + i % 3, 2), float(i), dtype=np.float32) for i in range(12)]
    results = call_together(predict, inputs)
    for rows, result in zip(inputs, results, strict=True):
        np.testing.assert_array_equal(result, rows * 2)
    assert sum(model.calls) == sum(len(rows) for rows in inputs)
    assert len(model.calls) < len(inputs), model.calls  # some requests were batched together


def test_a_batch_never_exceeds_the_maximum_size():
    model = CountingModel()
    predict = batching.predictor(model.predict, 4, 200)
    inputs = [np.full((3, 2), float(i), dtype=np.float32) for i in range(6)]
    for rows, result in zip(inputs, call_together(predict, inputs), strict=True):
        np.testing.assert_array_equal(result, rows * 2)
    assert max(model.calls) <= 4, model.calls


def test_a_failing_request_fails_alone():
    model = CountingModel(fail_on=3.0)
    predict = batching.predictor(model.predict, 64, 200)
    inputs = [np.full((1, 2), float(i), dtype=np.float32) for i in range(6)]
    results = call_together(predict, inputs)
    assert isinstance(results[3], ValueError)
    for index in (0, 1, 2, 4, 5):
        np.testing.assert_array_equal(results[index], inputs[index] * 2)


class NaNForOneRow:
    """The served model, except that the rows equal to ``row`` (a model input row) come out as NaN."""

    def __init__(self, model, row: np.ndarray) -> None:
        self._model, self.metadata, self.calls = model, model.metadata, []
        self._row = _key(row)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        self.calls.append(len(batch))
        outputs = self._model.predict(batch).copy()
        outputs[[_key(row) == self._row for row in batch]] = np.nan
        return outputs


def _key(row: np.ndarray) -> tuple:
    return tuple(str(value) for value in row)  # str: a missing value (NaN) equals itself


def test_a_row_without_a_finite_prediction_gets_its_own_422_and_the_others_their_answers():
    settings = load_settings(microbatch_max_size=64, microbatch_max_delay_ms=200)
    model, digest = load_model(settings.model_path)
    first, last = EXAMPLE.instances[0], EXAMPLE.instances[-1]
    # The model sees the rows after preprocess (service/inference/processing.py).
    seen = {at: processing.preprocess(model_input([EXAMPLE.instances[at]]))[0] for at in (0, -1)}
    assert _key(seen[0]) != _key(seen[-1]), "the example needs two different rows"
    wrapped = NaNForOneRow(model, seen[-1])
    client = serve_http.create_app(settings, ModelState(wrapped, digest, "")).test_client()
    good, bad = {"instance": first}, {"instance": last}
    answers = call_together(lambda body: client.post("/predict", json=body), [good, bad, good, good])
    assert [answer.status_code for answer in answers] == [200, 422, 200, 200], [a.get_json() for a in answers]
    assert answers[1].get_json()["error"]["code"] == "prediction_not_finite"
    assert len(wrapped.calls) < 4, wrapped.calls  # the four were not all predicted alone


def test_a_hung_batch_does_not_hold_up_the_batches_after_it():
    never = threading.Event()

    def stalls_on_nines(rows: np.ndarray) -> np.ndarray:
        if (rows == 9).any():
            never.wait(10)
        return rows * 2

    predict = batching.predictor(stalls_on_nines, 64, 5)
    hung = threading.Thread(target=predict, args=(np.full((1, 2), 9.0, dtype=np.float32),), daemon=True)
    hung.start()
    time.sleep(0.2)  # its batch has closed and is stuck in the model
    started = time.monotonic()
    np.testing.assert_array_equal(predict(np.ones((1, 2), dtype=np.float32)), np.full((1, 2), 2.0))
    assert time.monotonic() - started < 2
    never.set()
    hung.join(5)


HUNG_BATCH = """
import threading, numpy as np
from service.inference import batching
from service.server import timeouts
never = threading.Event()
predict = batching.predictor(lambda rows: never.wait() or rows, 64, 1)
timeouts.watch(timeout=0.5, interval=0.1)
with timeouts.prediction():
    predict(np.ones((1, 2), dtype=np.float32))
print("the hung batch returned")
"""


def test_a_hung_batch_ends_the_worker_after_timeout_like_a_hung_direct_call():
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", HUNG_BATCH], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "ran over TIMEOUT" in result.stdout + result.stderr
    assert time.monotonic() - started < 15
