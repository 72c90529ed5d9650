"""Opt-in micro-batching: concurrent requests of one worker share one ``predict`` call.

For models where a batch of rows costs little more than one row (a large
network, a GPU), the request threads of a worker hand their rows to one
gathering thread instead of calling the model themselves.  It waits up to
MICROBATCH_MAX_DELAY_MS after the first request for others, up to
MICROBATCH_MAX_SIZE rows in all, calls ``predict`` once on them, and gives
each caller its own rows back, in order.  Off (MICROBATCH_MAX_SIZE=0) the
app calls the model directly, as without this module.

Each caller keeps its own errors: outputs are checked per request
(api_predict.py), so a row without a finite prediction fails only its own
request; if the model raises on a gathered batch, each request of it is
run again alone, so only the one that makes the model fail gets the error.
A caller waits inside ``timeouts.prediction()``, so a hung batch ends the
worker after TIMEOUT as a hung direct call does.  The gathering thread is a
daemon started in each worker on first use (threads do not survive gunicorn's
fork); during a SIGTERM drain it keeps serving the requests still in flight.
"""

import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

Predict = Callable[[np.ndarray], np.ndarray]


@dataclass
class _Request:
    rows: np.ndarray
    answer: Future = field(default_factory=Future)


class MicroBatcher:
    """``predict(rows)`` for many threads, run as few model calls as possible."""

    def __init__(self, predict: Predict, max_size: int, max_delay_s: float) -> None:
        self._predict, self.max_size, self.max_delay_s = predict, max_size, max_delay_s
        self._queue: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._start_lock = threading.Lock()
        self._started_in: int | None = None  # the process whose gathering thread runs
        self._carry: _Request | None = None  # a request that did not fit in the last batch

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """The model's output rows for ``rows``, computed in a batch with other callers'."""
        if len(rows) >= self.max_size:
            return self._predict(rows)  # a full batch by itself: nothing to wait for
        if self._started_in != os.getpid():
            self._start()
        request = _Request(rows)
        self._queue.put(request)
        return request.answer.result()

    def _start(self) -> None:
        with self._start_lock:
            if self._started_in != os.getpid():
                threading.Thread(target=self._serve, name="micro-batching", daemon=True).start()
                self._started_in = os.getpid()

    def _serve(self) -> None:
        while True:
            self._run(self._gather())

    def _gather(self) -> list[_Request]:
        """The next batch: the first waiting request, and those that arrive within the delay."""
        first, self._carry = self._carry or self._queue.get(), None
        batch, size = [first], len(first.rows)
        deadline = time.monotonic() + self.max_delay_s
        while size < self.max_size:
            remaining = deadline - time.monotonic()
            try:
                # Past the deadline, still take what is already waiting.
                request = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if size + len(request.rows) > self.max_size:
                self._carry = request
                break
            batch.append(request)
            size += len(request.rows)
        return batch

    def _run(self, batch: list[_Request]) -> None:
        try:
            outputs = self._predict(np.concatenate([r.rows for r in batch]) if len(batch) > 1 else batch[0].rows)
            if len(outputs) != sum(len(r.rows) for r in batch):
                raise ValueError(f"the model returned {len(outputs)} rows for {sum(len(r.rows) for r in batch)}")
        except Exception as error:
            if len(batch) == 1:
                batch[0].answer.set_exception(error)
            else:
                for request in batch:  # find whose rows the model fails on: each alone
                    self._run([request])
            return
        start = 0
        for request in batch:
            end = start + len(request.rows)
            request.answer.set_result(outputs[start:end])
            start = end


def predictor(predict: Predict, max_size: int, max_delay_ms: float) -> Predict:
    """``predict`` itself when micro-batching is off (max_size 0), else a shared batcher's."""
    if max_size == 0:
        return predict
    return MicroBatcher(predict, max_size, max_delay_ms / 1000).predict
