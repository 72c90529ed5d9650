{%- set classification = cookiecutter.task == "classification" -%}
"""PyTorch specifics: TorchScript only (no pickled code runs), threads, fork safety, logits or probabilities."""
{% if classification %}
import json
{%- endif %}
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from service.inference.contract import ModelLoadError
from service.inference.loader import load_model
from service.settings import load_settings
from support.app import make_client
from support.model import EXAMPLE, MODEL

WIDTH = len(EXAMPLE.instances[0])
OUTPUTS = {% if classification %}3{% else %}1{% endif %}


class Payload:
    """Pickling this runs code on load: it would create the file named ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_is_refused_without_running_it(tmp_path):
    path, marker = tmp_path / "model.pt", tmp_path / "ran"
    torch.save({"weights": torch.zeros(2), "payload": Payload(str(marker))}, path)
    with pytest.raises(ModelLoadError, match="not a loadable TorchScript module"):
        load_model(path)
    assert not marker.exists()
    response = make_client(model_path=path).get("/readyz")
    assert response.status_code == 503 and "TorchScript" in response.get_json()["reason"]


def test_model_threads_sets_torch_threads():
    load_model(MODEL, load_settings(model_threads=2))
    assert torch.get_num_threads() == 2
    load_model(MODEL, load_settings(model_threads=1))
    assert torch.get_num_threads() == 1


def exit_code_of(child: int, seconds: float = 60) -> int:
    """The exit code of a forked worker, failing the test if it hangs (in its first prediction) for ``seconds``."""
    deadline = time.monotonic() + seconds
    while (waited := os.waitpid(child, os.WNOHANG))[0] == 0:
        if time.monotonic() > deadline:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
            pytest.fail(f"the forked worker hung in its first multi-threaded prediction ({seconds:.0f} s)")
        time.sleep(0.01)
    return os.waitstatus_to_exitcode(waited[1])


def threads_of_this_process() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc (Linux)")
# gunicorn's preload forks its workers from the master the same way.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_worker_forked_after_a_multithreaded_warm_up_predicts_on_its_own_threads():
    """Preload loads and warms the model in gunicorn's master, then forks the workers.

    The shipped warm-up is one row, which starts no intra-op thread pool; a
    larger model's may.  Here the master really runs a batch on MODEL_THREADS=2
    (its pool shows in /proc) before forking.  OpenMP's pool belongs to the
    thread that started it, and a worker predicts on gunicorn's request
    threads (gthread), never on the forked main thread, whose inherited pool
    has no threads left: so the worker starts a pool of its own, and answers
    the same batch the same way within the time limit.  (Predicting on the
    forked main thread deadlocks, which is why gunicorn.conf.py keeps gthread.)
    """
    model, _ = load_model(MODEL, load_settings(model_threads=2))
    batch = np.tile(np.array(EXAMPLE.instances, dtype=np.float32), (200_000 // len(EXAMPLE.instances) + 1, 1))
    before = threads_of_this_process()
    expected = model.predict(batch)
    assert threads_of_this_process() > before, "the batch started no intra-op thread: nothing to check"
    child = os.fork()
    if child == 0:  # the worker: exit code 0 only for the same answer, on a pool of its own
        try:
            answers, started = [], threads_of_this_process()

            def answer() -> None:  # what a gthread request thread does, counting the threads while it runs
                answers.append((model.predict(batch), threads_of_this_process()))

            request_thread = threading.Thread(target=answer)
            request_thread.start()
            request_thread.join()
            (served, during), *_ = answers
            # More than this thread and the request thread: a pool of its own.
            same = np.allclose(served, expected, rtol=1e-6, atol=1e-7)
            os._exit(0 if same and during > started + 1 else 1)
        except BaseException:
            os._exit(2)
    assert exit_code_of(child) == 0, "the worker answered differently or on no pool (1), or failed (2)"


def first_predictions_at_once(model, row: np.ndarray, threads: int = 4) -> int:
    """Exit code of a fresh worker whose request threads start predicting together: 0 if all succeeded."""
    barrier, errors = threading.Barrier(threads), []

    def first_request() -> None:
        barrier.wait()
        try:
            model.predict(row)
        except Exception as error:  # counted: the exit code says so
            errors.append(error)

    started = [threading.Thread(target=first_request) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    return 1 if errors else 0


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")  # as above
def test_a_new_workers_first_requests_at_once_all_succeed():
    """A worker's request threads making their first prediction together, as when a recycled worker starts under load.

    PyTorch replaces the thread pool a child inherits on a thread's first
    parallel op; without torch_model.py's at-fork rebuild, two threads doing
    that at once failed 5 to 21 of these 30 forks here ("Invalid thread pool!").
    """
    model, _ = load_model(MODEL, load_settings(model_threads=2))
    row = np.array(EXAMPLE.instances[:1], dtype=np.float32)
    model.predict(row)
    failed = 0
    for _ in range(30):
        child = os.fork()
        if child == 0:  # a fresh worker: it must never return into pytest
            code = 2
            try:
                code = first_predictions_at_once(model, row)
            finally:
                os._exit(code)
        failed += exit_code_of(child) != 0
    assert failed == 0, f"{failed} of 30 forked workers failed a first prediction"
{%- if classification %}


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")  # see torch_model.py
@pytest.mark.filterwarnings("ignore:`torch.jit.save` is deprecated:DeprecationWarning")
def test_a_module_that_outputs_probabilities_says_so(tmp_path):
    """metadata.json's "scores": "probabilities" stops a second softmax."""
    module = torch.jit.script(torch.nn.Sequential(torch.nn.Linear(WIDTH, OUTPUTS), torch.nn.Softmax(dim=1)))
    path = tmp_path / "model.pt"
    torch.jit.save(module, str(path))
    batch = np.array(EXAMPLE.instances, dtype=np.float32)
    with torch.inference_mode():
        expected = module(torch.from_numpy(batch)).numpy()
    (tmp_path / "metadata.json").write_text(json.dumps({"scores": "probabilities"}))
    np.testing.assert_allclose(load_model(path)[0].predict(batch), expected, rtol=1e-6)
{%- endif %}
