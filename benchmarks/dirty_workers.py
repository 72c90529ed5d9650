"""Evaluate gunicorn's dirty workers for the model (`python benchmarks/dirty_workers.py`).

Three ways to serve the default bake with W HTTP workers (default 4), on
127.0.0.1, the same gunicorn.conf.py, interleaved rounds:

- preloaded: the template's way, the model loaded in the master and shared by
  the forked workers (PRELOAD=true);
- per-worker: every worker loads its own copy (PRELOAD=false, as the GPU
  image must, since a CUDA context does not survive fork());
- dirty: the model in one gunicorn dirty worker (benchmarks/dirty_app.py),
  the HTTP workers sending it each batch over gunicorn's dirty IPC.

Per round and way: the latency of one POST /predict at a time (one
connection, keep-alive: the per-request overhead), requests/s and p50/p99
with wrk at --connections, and the PSS summed over every process of the
server (master, HTTP workers, dirty arbiter and worker).  Medians are printed.
"""

import argparse
import datetime
import http.client
import platform
import statistics
import sys
import time
from pathlib import Path

from run import bake, cpu_model, say, service_venv

HERE = Path(__file__).resolve().parent


def sequential_latency_ms(port: int, body: bytes, requests: int) -> float:
    """Median milliseconds of one request at a time over one keep-alive connection."""
    return statistics.median(sequential_latencies_ms(port, body, requests))


def sequential_latencies_ms(port: int, body: bytes, requests: int) -> list[float]:
    """Milliseconds of each of ``requests`` requests sent one at a time over one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"dirty_workers: POST /predict answered {response.status}")
        times.append((time.perf_counter() - started) * 1000)
    connection.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4, help="HTTP workers (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--seconds", type=float, default=8, help="wrk seconds per measurement (default 8)")
    parser.add_argument("--requests", type=int, default=2000, help="sequential requests per round (default 2000)")
    args = parser.parse_args()

    project = bake()
    python = service_venv(project)
    sys.path.insert(0, str(project))
    from tools import bench  # the generated project's tools/bench.py: server, wrk and /proc helpers

    ways = {
        "preloaded": {"app": "serve_http:app", "extra": [], "env": {}},
        "per-worker": {"app": "serve_http:app", "extra": [], "env": {"PRELOAD": "false"}},
        "dirty": {
            "app": "dirty_app:app",
            "extra": ["--pythonpath", str(HERE), "--dirty-app", "dirty_app:ModelProcess", "--dirty-workers", "1"],
            "env": {},
        },
    }
    body = bench.predict_body(1)
    results = {name: [] for name in ways}
    for round_ in range(1, args.rounds + 1):
        for name, way in ways.items():
            port = bench.free_port()
            env = {"LOG_LEVEL": "warning", "THREADS": "2", **way["env"]}
            with bench.gunicorn_server(
                port, args.workers, way["app"], env, way["extra"], project, str(python)
            ) as server:
                server.wait_ready()
                server.wait_workers(args.workers)
                latency = sequential_latency_ms(port, body, args.requests)
                load = bench.run_wrk(server, connections=args.connections, seconds=args.seconds)
                pids = server.pids()
                memory = bench.pss_mib(pids)
            results[name].append((latency, load.rps, load.p50_ms, load.p99_ms, load.errors, memory, len(pids)))
            say(
                f"round {round_} {name:9}: one at a time {latency:.3f} ms; {load.rps:.0f} req/s at "
                f"{args.connections} connections (p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, "
                f"{load.errors} errors); PSS {memory:.1f} MiB over {len(pids)} processes"
            )

    say(f"\n{datetime.date.today()} · {cpu_model()} · {platform.python_version()} · {args.workers} HTTP workers")
    say("| way | one request at a time (ms) | req/s | p50 (ms) | p99 (ms) | PSS, all processes (MiB) | processes |")
    say("|---|---|---|---|---|---|---|")
    for name, rows in results.items():
        latency, rps, p50, p99, _, memory, count = (statistics.median(column) for column in zip(*rows, strict=True))
        say(f"| {name} | {latency:.3f} | {rps:.0f} | {p50:.1f} | {p99:.1f} | {memory:.1f} | {count:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
