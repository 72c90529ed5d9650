"""Graceful stop of a worker: refuse new connections at once, finish the rest.

On SIGTERM (``docker stop``, a Kubernetes pod deletion) gunicorn's master
closes its listening socket and signals every worker, but each worker keeps
its own copy of that socket open until it has drained its requests.  Until the
last copy closes the kernel keeps queueing new connections that nobody will
accept, and resets them GRACEFUL_TIMEOUT later.  Each worker therefore closes
its copy as soon as its SIGTERM arrives (through gunicorn's public
``post_worker_init`` hook and Python's own signal API, no gunicorn internals):
once the master and every worker have done so, new connections are refused
and a client or load balancer retries elsewhere at once.  Closing only this
process's copy is safe when another process still serves the socket (a USR2
upgrade, systemd socket activation, a HUP reload): it stays open there.

From then on ``started()`` is true, and /readyz answers 503 on the
connections still open, so a probe or proxy that reuses one stops routing here.
"""

import signal
import threading

_started = threading.Event()


def started() -> bool:
    """True once this process has begun to stop."""
    return _started.is_set()


def begin() -> None:
    _started.set()


def stop_listening_on_sigterm(worker) -> None:
    """Chain a handler before gunicorn's own SIGTERM handler of ``worker``."""
    graceful_stop = signal.getsignal(signal.SIGTERM)

    def stop_listening(signum, frame) -> None:
        begin()
        for listener in worker.sockets:
            listener.close()
        if callable(graceful_stop):
            graceful_stop(signum, frame)

    signal.signal(signal.SIGTERM, stop_listening)
    # As gunicorn sets it: a SIGTERM does not interrupt a request's system calls.
    signal.siginterrupt(signal.SIGTERM, False)
