"""Opt-in micro-batching: concurrent requests of one worker share one ``predict`` call.

For models where a batch of rows costs little more than one row (a large
network), a request thread does not call the model at once: the first
request opens a batch and waits up to MICROBATCH_MAX_DELAY_MS for others of
the same worker to join it, up to MICROBATCH_MAX_SIZE rows in all (a full
batch goes at once); then it calls ``predict`` on all their rows and gives
each request its own rows back, in order.  Off (MICROBATCH_MAX_SIZE=0) the
app calls the model directly, as without this module.

Each request keeps its own errors: outputs are checked per request
(service/web/serving.py), so a row without a finite prediction fails only its own
request; if the model raises on a gathered batch, each request of it is run
again alone, so only the one that makes the model fail gets the error.

The batch runs in the thread of its first request, not in a thread of its
own: every request waits inside its own ``timeouts.prediction()``, so a hung
batch ends the worker after TIMEOUT as a hung direct call does, while the
batches after it still run; a SIGTERM drain waits for a batch like any other
request; and nothing has to be started again after gunicorn forks a worker.
"""

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

Predict = Callable[[np.ndarray], np.ndarray]


@dataclass
class _Batch:
    requests: list[tuple[np.ndarray, Future]] = field(default_factory=list)
    rows: int = 0
    full: threading.Event = field(default_factory=threading.Event)


class MicroBatcher:
    """``predict(rows)`` for many threads, run as few model calls as possible."""

    def __init__(self, predict: Predict, max_size: int, max_delay_s: float) -> None:
        self._predict, self.max_size, self.max_delay_s = predict, max_size, max_delay_s
        self._lock = threading.Lock()
        self._open: _Batch | None = None  # the batch that requests arriving now join

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """The model's output rows for ``rows``, computed in a batch with other callers'."""
        if len(rows) >= self.max_size:
            return self._predict(rows)  # a full batch by itself: nothing to wait for
        answer: Future = Future()
        with self._lock:
            batch = self._open
            first = batch is None or batch.rows + len(rows) > self.max_size
            if first:
                batch = self._open = _Batch()
            batch.requests.append((rows, answer))
            batch.rows += len(rows)
            if batch.rows >= self.max_size:
                self._open = None  # full: later requests open the next one
                batch.full.set()
        if first:
            batch.full.wait(self.max_delay_s)
            with self._lock:
                if self._open is batch:
                    self._open = None
            self._run(batch.requests)
        return answer.result()

    def _run(self, requests: list[tuple[np.ndarray, Future]]) -> None:
        """Predict for every request of a closed batch; answer each with its rows or its error."""
        try:
            inputs = np.concatenate([rows for rows, _ in requests]) if len(requests) > 1 else requests[0][0]
            outputs = self._predict(inputs)
            if len(outputs) != len(inputs):
                raise ValueError(f"the model returned {len(outputs)} rows for {len(inputs)}")
        except Exception as error:
            if len(requests) == 1:
                requests[0][1].set_exception(error)
            else:
                for request in requests:  # find whose rows the model fails on: each alone
                    self._run([request])
            return
        start = 0
        for rows, answer in requests:
            answer.set_result(outputs[start : start + len(rows)])
            start += len(rows)


def predictor(predict: Predict, max_size: int, max_delay_ms: float) -> Predict:
    """``predict`` itself when micro-batching is off (max_size 0), else a shared batcher's."""
    if max_size == 0:
        return predict
    return MicroBatcher(predict, max_size, max_delay_ms / 1000).predict
