"""Micro-batching off vs on, on a model heavy enough to matter (`make bench-microbatch`).

Serves the default bake with an MLP classifier (benchmarks/mlp_model.py: two
ReLU layers of --hidden units, ONNX) in one gunicorn worker with --threads
request threads, and drives POST /predict (one instance per request) with wrk
at --connections keep-alive connections, interleaved rounds:

- off: MICROBATCH_MAX_SIZE=0 (the default), each request thread calls the model;
- on: MICROBATCH_MAX_SIZE=--connections, MICROBATCH_MAX_DELAY_MS=--delay-ms.

Also measures one batch's compute time as the service sees it: a request of
--connections instances at a time, micro-batching off.  Targets (issue 12):
requests/s on >= 2 x off, and p99 on <= the delay + one batch's compute time.
"""

import argparse
import datetime
import json
import platform
import statistics
import subprocess
import sys
from pathlib import Path

from dirty_workers import sequential_latencies_ms
from run import WORK, bake, cpu_model, say, service_venv

HERE = Path(__file__).resolve().parent
TARGET_SPEEDUP = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, default=4096, help="units per hidden layer of the MLP (4096)")
    parser.add_argument("--threads", type=int, default=32, help="THREADS of the one worker (32)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections, and the batch cap (32)")
    parser.add_argument("--delay-ms", type=float, default=5, help="MICROBATCH_MAX_DELAY_MS when on (5)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--seconds", type=float, default=8, help="wrk seconds per measurement (8)")
    args = parser.parse_args()

    project = bake()
    python = service_venv(project)
    model = Path(subprocess.run(
        [python, HERE / "mlp_model.py", WORK / "mlp", "--hidden", str(args.hidden)],
        check=True, capture_output=True, text=True,
    ).stdout.strip())  # fmt: skip
    sys.path.insert(0, str(project))
    from tools import bench  # the generated project's tools/bench.py: server, wrk and /proc helpers

    common = {"MODEL_PATH": str(model), "THREADS": str(args.threads), "LOG_LEVEL": "warning"}
    ways = {
        "off": {"MICROBATCH_MAX_SIZE": "0"},
        "on": {"MICROBATCH_MAX_SIZE": str(args.connections), "MICROBATCH_MAX_DELAY_MS": f"{args.delay_ms:g}"},
    }
    results = {name: [] for name in ways}
    batch_ms = []
    for round_ in range(1, args.rounds + 1):
        for name, env in ways.items():
            port = bench.free_port()
            with bench.gunicorn_server(port, 1, env={**common, **env}, cwd=project, python=str(python)) as server:
                server.wait_ready()
                server.wait_workers(1)
                if name == "off":
                    rows = json.loads(bench.predict_body(1))["instances"] * args.connections
                    batch_ms += sequential_latencies_ms(port, json.dumps({"instances": rows}).encode(), 40)
                bench.run_wrk(server, connections=args.connections, seconds=2)  # warm-up
                load = bench.run_wrk(server, connections=args.connections, seconds=args.seconds)
            results[name].append(load)
            say(
                f"round {round_} {name:3}: {load.rps:6.0f} req/s  p50 {load.p50_ms:6.1f} ms  p99 {load.p99_ms:6.1f} ms"
                f"  errors {load.errors}  server CPU {load.server_cpu:.0%}"
            )

    med = statistics.median
    say(
        f"\n{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {cpu_model()}, Python {platform.python_version()}, "
        f"MLP 4-{args.hidden}-{args.hidden}-3, 1 worker x {args.threads} threads, {args.connections} connections, "
        f"{args.seconds:g} s x {args.rounds} rounds interleaved; medians"
    )
    say("\n| micro-batching | requests/s | p50 ms | p99 ms | errors |")
    say("|---|---|---|---|---|")
    for name, loads in results.items():
        label = "off" if name == "off" else f"on (max {args.connections} rows, {args.delay_ms:g} ms)"
        say(
            f"| {label} | {med([r.rps for r in loads]):.0f} | {med([r.p50_ms for r in loads]):.1f} "
            f"| {med([r.p99_ms for r in loads]):.1f} | {sum(r.errors for r in loads)} |"
        )
    speedup = med([r.rps for r in results["on"]]) / med([r.rps for r in results["off"]])
    p99_on = med([r.p99_ms for r in results["on"]])
    batch_ms.sort()
    batch_p50, batch_p99 = med(batch_ms), batch_ms[int(len(batch_ms) * 0.99)]
    say(
        f"\nOne batch's compute, as a request of {args.connections} instances one at a time (off): "
        f"p50 {batch_p50:.1f} ms, p99 {batch_p99:.1f} ms over {len(batch_ms)} requests"
    )
    say("\n| target | measured | |\n|---|---|---|")
    say(f"| on >= {TARGET_SPEEDUP:g} x off requests/s | {speedup:.1f} x | {'met' if speedup >= 2 else 'MISSED'} |")
    for which, compute in (("p50", batch_p50), ("p99", batch_p99)):
        bound = args.delay_ms + compute
        say(
            f"| p99 on <= delay + one batch's compute ({which}) | {p99_on:.1f} ms vs {args.delay_ms:g} + "
            f"{compute:.1f} = {bound:.1f} ms | {'met' if p99_on <= bound else 'MISSED'} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
