"""Gunicorn settings, derived from the same environment as the app (service/settings.py).

Read once when gunicorn starts; the effective values are logged in one line
so `docker logs` shows what the service is really running with.
"""

import gc
import logging
import os
import shutil
import sys
import tempfile

from service.server import draining
from service.server.logs import logging_config
from service.server.rebalance import Rebalancer
from service.settings import load_settings

settings = load_settings()


def threads_survive_fork() -> bool:
    # Imported only when needed: the adapter imports the model's runtime.
    from service.inference.loader import ADAPTER

    return ADAPTER.threads_survive_fork


# prometheus_client's multiprocess mode: every process writes its samples to
# files in this directory and /metrics sums them.  It must exist, be empty and
# be set before the app (and prometheus_client) is imported.  A temp dir keeps
# it working on a read-only root filesystem with a tmpfs on /tmp.
_metrics_dir = tempfile.mkdtemp(prefix="prometheus-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir

bind = settings.bind
# The app to serve, unless the command line names another.
wsgi_app = "serve_http:app"
workers = settings.workers
# gthread: keep-alive connections and a few requests in flight per worker
# without a thread per core; inference itself runs MODEL_THREADS (1) per worker.
# Requests run on the worker's own threads, never on the main thread forked
# from the preloaded master: an OpenMP pool the master started (XGBoost,
# PyTorch with MODEL_THREADS > 1) would deadlock that thread's predictions
# (tests/test_gunicorn.py serves with MODEL_THREADS=2).
worker_class = "gthread"
threads = settings.threads
timeout = settings.timeout
graceful_timeout = settings.graceful_timeout
keepalive = settings.keepalive
# Recycle workers now and then (bounding slow leaks in user code), with
# jitter so they do not all restart at once.
max_requests = settings.max_requests
max_requests_jitter = settings.max_requests_jitter
# Recycling closes a worker's connections, and keep-alive keeps them where
# they reconnect: a worker holding more than its share of the connections
# closes some after their answer, so they spread again (service/server/rebalance.py).
rebalancer = Rebalancer(workers)
# Load the model once in the master; forked workers share its memory pages.
# Not with MODEL_THREADS other than 1 for a runtime whose threads stay in the
# process that loaded the model (the adapter's threads_survive_fork): each
# worker then loads its own.
preload_app = settings.preload and (settings.model_threads == 1 or threads_survive_fork())
# Heartbeat files on a tmpfs: /dev/shm (gunicorn's recommendation) where it
# exists, else the temp dir, never the (possibly read-only) image filesystem.
SHM = "/dev/shm"  # noqa: S108  # nosec B108
worker_tmp_dir = SHM if os.path.isdir(SHM) and os.access(SHM, os.W_OK) else tempfile.gettempdir()
# gunicorn >= 25.1 opens a control socket under $HOME by default; the image's
# user has no writable home, and nothing here uses gunicornc.
control_socket_disable = True
# The app writes one access line per request itself (with the request ID).
logger_class = "service.server.logs.GunicornLogger"
errorlog = "-"
loglevel = settings.log_level
logconfig_dict = logging_config(settings.log_level, settings.log_format)
# Names the master and workers in ps and top.
proc_name = "{{ cookiecutter.service_name }}"


def on_starting(server) -> None:
    # Every setting, and what gunicorn made of them.
    # (host and port as the address bound, first; preload as gunicorn applies it.)
    values = {name: value for name, value in settings.effective().items() if name not in ("host", "port")}
    effective = {"bind": bind, **values, "preload": preload_app, "worker_class": worker_class}
    logging.getLogger("gunicorn.error").info("effective configuration", extra={"config": effective})


def post_worker_init(worker) -> None:
    # gthread workers never time out by themselves: see service/server/timeouts.py.
    from service.server import timeouts

    timeouts.watch(timeout)
    draining.stop_listening_on_sigterm(worker)
    rebalancer.join()


def pre_request(worker, req) -> None:
    if rebalancer.should_close(req.peer_addr):
        req.force_close()


def post_request(worker, req, environ, resp) -> None:
    if not worker.alive:
        # Its last request before a recycle or a stop: the others take the new connections.
        rebalancer.leave()
    if resp is None or resp.should_close():
        rebalancer.closed(req.peer_addr)


def pre_fork(server, worker) -> None:
    # Move everything the master loaded (the preloaded app and model) out of
    # the garbage collector's reach: a worker's collections then never write
    # to those objects, so their memory pages stay shared with the master
    # instead of being copied into every worker.
    gc.freeze()


def child_exit(server, worker) -> None:
    # Let /metrics drop a dead worker's live gauges (its counters are kept).
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
    rebalancer.worker_exited(worker.pid)


def worker_exit(server, worker) -> None:
    """End the worker without running C++ static destructors.

    A model runtime imported in the master when the app is preloaded (ONNX
    Runtime, for one) may leave a thread there; in a forked worker its
    exit-time destructors wait for that thread, which does not exist in the
    child, and the worker hangs or aborts.
    By now the worker has drained its requests: flush the logs and leave with
    the exit code gunicorn was about to use.
    """
    if os.getpid() != worker.pid:
        # gunicorn also calls this hook in the master, for a worker that died
        # before it could be signalled: the master must carry on.
        return
    error = sys.exc_info()[1]
    code = error.code if isinstance(error, SystemExit) else 0
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 1)


def on_exit(server) -> None:
    shutil.rmtree(_metrics_dir, ignore_errors=True)
