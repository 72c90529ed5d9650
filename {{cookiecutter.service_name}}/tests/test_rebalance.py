"""Keep-alive connections spread over the workers (service/server/rebalance.py), worker by worker.

Each "worker" here is a forked process, as gunicorn's are, sharing the
counts made before the fork; tests/test_gunicorn.py shows the same under a
real gunicorn and real load.
"""

import multiprocessing

import pytest

from service.server import rebalance
from service.server.rebalance import Rebalancer

fork = multiprocessing.get_context("fork")


def worker_with_connections(rebalancer: Rebalancer, count: int):
    """A forked worker that joins and holds ``count`` busy connections until the test ends."""
    ready, done = fork.Event(), fork.Event()

    def run() -> None:
        rebalancer.join()
        for port in range(count):
            rebalancer.should_close(("10.0.0.2", port))
        ready.set()
        done.wait(30)

    process = fork.Process(target=run, daemon=True)
    process.start()
    assert ready.wait(10)
    return process, done


@pytest.fixture
def workers():
    started = []

    def start(rebalancer: Rebalancer, count: int):
        process, done = worker_with_connections(rebalancer, count)
        started.append((process, done))
        return process

    yield start
    for process, done in started:
        done.set()
        process.join(10)


def connections_kept(rebalancer: Rebalancer, count: int, host: str = "10.0.0.1") -> int:
    """Open ``count`` connections to this process one by one, as gunicorn serves them: how many stay open."""
    kept = 0
    for port in range(count):
        peer = (host, port)
        if rebalancer.should_close(peer):
            rebalancer.closed(peer)  # gunicorn's post_request, after the answer closed it
        else:
            kept += 1
    return kept


def test_a_single_worker_never_closes_a_connection():
    rebalancer = Rebalancer(workers=1)
    rebalancer.join()
    assert connections_kept(rebalancer, 50) == 50


def test_next_to_a_worker_without_connections_a_worker_keeps_only_a_few(workers):
    rebalancer = Rebalancer(workers=2)
    workers(rebalancer, 0)  # the replacement: in service, no connections yet
    rebalancer.join()
    # With 3 of them, the share is 2 and a little over it is allowed; a 4th is closed after its answer.
    assert connections_kept(rebalancer, 16) == 3


def test_at_about_its_share_a_worker_keeps_its_connections(workers):
    rebalancer = Rebalancer(workers=2)
    workers(rebalancer, 8)
    rebalancer.join()
    # 13 of 21 is the share (11) plus a quarter of it: kept; a 14th of 22 is not.
    assert connections_kept(rebalancer, 16) == 13


def test_a_worker_that_left_or_died_no_longer_counts(workers):
    rebalancer = Rebalancer(workers=2)
    other = workers(rebalancer, 0)
    rebalancer.join()
    rebalancer.worker_exited(other.pid)  # the master, after the worker died
    assert connections_kept(rebalancer, 16) == 16
    rebalancer.leave()  # its last request: gunicorn closes the rest itself
    assert connections_kept(rebalancer, 32, host="10.0.0.3") == 32


def test_quiet_connections_drop_out_of_the_count(workers, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(rebalance.time, "monotonic", lambda: now[0])
    rebalancer = Rebalancer(workers=2)
    workers(rebalancer, 4)
    rebalancer.join()
    assert connections_kept(rebalancer, 4) == 4
    # Later those 4 have gone quiet (their clients left): 6 new ones are 6 of 10, the share (5) and
    # one over; counted with the quiet ones, the 9th of 14 would have been one too many.
    now[0] += rebalance.ACTIVE_SECONDS + rebalance.SWEEP_SECONDS
    assert connections_kept(rebalancer, 6, host="10.0.0.3") == 6
