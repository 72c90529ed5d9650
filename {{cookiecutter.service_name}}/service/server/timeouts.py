"""TIMEOUT for predictions: a worker whose prediction hangs is replaced.

gunicorn replaces a worker when its main loop stops sending heartbeats.  A
gthread worker's main loop keeps beating while one of its request threads is
stuck (the model runtime releases the GIL while it runs), so a hung prediction would
hold its thread, and its caller, forever.  gunicorn.conf.py starts ``watch()``
in every worker: once a prediction has run longer than TIMEOUT it logs one
line and ends the worker, and gunicorn starts a new one, just as it does for a
timed-out sync worker.  The caller's connection closes without an answer, as
do those of the worker's other requests in flight (at most THREADS - 1).
"""

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("service.timeouts")
# When each thread of this process started the prediction it is running.
_started: dict[int, float] = {}


@contextmanager
def prediction() -> Iterator[None]:
    """Mark the current thread as predicting, for the watchdog."""
    thread = threading.get_ident()
    _started[thread] = time.monotonic()
    try:
        yield
    finally:
        del _started[thread]


def _watch(timeout: float, interval: float) -> None:
    while True:
        time.sleep(interval)
        # list() copies the values atomically, while request threads come and go.
        oldest = min(list(_started.values()), default=None)
        if oldest is not None and time.monotonic() - oldest > timeout:
            log.critical(
                "a prediction ran over TIMEOUT=%s s: ending worker %d, gunicorn replaces it", timeout, os.getpid()
            )
            logging.shutdown()
            os._exit(1)  # no clean-up: a thread is stuck (see worker_exit in gunicorn.conf.py)


def watch(timeout: float, interval: float = 0.5) -> threading.Thread:
    """Start the watchdog thread of this worker."""
    thread = threading.Thread(target=_watch, args=(timeout, interval), name="prediction-watchdog", daemon=True)
    thread.start()
    return thread
