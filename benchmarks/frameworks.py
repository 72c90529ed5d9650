"""Every model_framework side by side, in one run: `make bench-frameworks` (or `--help`).

Bakes the iris classifier once per framework (the same task, the same
example payload, the default settings), installs each bake's runtime pins
into its cached venv, and measures on this machine, loopback only:

1. POST /predict, one instance per request, N gunicorn workers: requests/s,
   p50/p99 and server CPU per request, with wrk; every framework once per
   round, the rounds interleaved, so a noisy minute hits all of them alike;
2. cold start: process start to the first 2xx POST /predict (each round);
3. memory: PSS over master and workers after load, with 1 and N workers
   preloaded, and N workers each loading the model itself (PRELOAD=false);
4. with a container engine: each framework's CPU image (`docker build -f
   Dockerfile.cpu`), its size, and `docker run` to the first 2xx POST
   /predict (each round).  PyTorch's CPU wheel comes from TORCH_INDEX_URL,
   or from a loopback index serving the wheel this machine's pip finds.

Writes the table to .bench/frameworks.md.  run.py is the deep dive into one
framework (`--framework`): limit and naive baselines, batch sizes, rebuilds.
"""

import argparse
import datetime
import functools
import json
import os
import shlex
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from run import ROOT, WORK, Bench, bake, cpu_model, load_options, med, require_wrk, run, say, service_venv, span

TEMPLATE = json.loads((ROOT / "cookiecutter.json").read_text())
FRAMEWORKS = list(TEMPLATE["_frameworks"])
PORT = TEMPLATE["port"]


def torch_index() -> tuple[str, ThreadingHTTPServer | None]:
    """An index with PyTorch's CPU wheel: TORCH_INDEX_URL, or a loopback one serving the local wheel."""
    if os.environ.get("TORCH_INDEX_URL"):
        return os.environ["TORCH_INDEX_URL"], None
    pin = next(pin for pin in TEMPLATE["_frameworks"]["pytorch"]["cpu"] if pin.startswith("torch=="))
    wheels = WORK / "torch-index" / "simple" / "torch"
    wheels.mkdir(parents=True, exist_ok=True)
    if not any(wheels.glob("*.whl")):
        run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", wheels, pin], timeout=900)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(WORK / "torch-index"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/simple", server


class Images:
    """Each framework's CPU image on the engine: built once, then started once per round."""

    def __init__(self, args, projects: dict[str, Path]) -> None:
        sys.path.insert(0, str(ROOT))
        from tests.engine.engine import find_engine

        self.args, self.projects, self.engine = args, projects, find_engine()
        self.tags = {framework: f"tmpl-bench-{framework}-{os.getpid()}:cpu" for framework in projects}
        self.size_mb: dict[str, float] = {}
        self.ready_s: dict[str, list[float]] = {framework: [] for framework in projects}
        self.index_server = None

    def build(self) -> None:
        for framework, project in self.projects.items():
            flags = []
            if framework == "pytorch":
                index, self.index_server = torch_index()
                flags = ["--network", "host", "--build-arg", f"TORCH_INDEX_URL={index}"]
            started = time.perf_counter()
            self.engine.docker("build", *flags, "-f", "Dockerfile.cpu", "-t", self.tags[framework], ".", cwd=project,
                               timeout=self.args.build_timeout)  # fmt: skip
            size = int(self.engine.docker("image", "inspect", "-f", "{{.Size}}", self.tags[framework]).stdout.strip())
            self.size_mb[framework] = size / 1e6
            say(f"  {framework:<8} image {size / 1e6:5.0f} MB (built in {time.perf_counter() - started:.0f} s)")

    def start_to_first_prediction(self, framework: str, bench: Bench) -> float:
        name, port = f"tmpl-bench-{framework}-{os.getpid()}", bench.b.free_port()
        started = time.perf_counter()
        self.engine.docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:{PORT}", self.tags[framework])
        try:
            url, body = f"http://127.0.0.1:{port}/predict", bench.b.predict_body(1)
            deadline = time.monotonic() + 120
            while not 200 <= bench.b.http("POST", url, body, timeout=1) < 300:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the {framework} container did not answer within 120 s")
                time.sleep(0.02)
            return time.perf_counter() - started
        finally:
            self.engine.docker("rm", "-f", name, check=False, timeout=120)

    def remove(self) -> None:
        self.engine.docker("rmi", "-f", *self.tags.values(), check=False, timeout=300)
        if self.index_server is not None:
            self.index_server.shutdown()


def measure(args, benches: dict[str, Bench], images: Images | None) -> dict:
    found = {framework: {"load": [], "cold": []} for framework in benches}
    for round_ in range(1, args.rounds + 1):
        for framework, bench in benches.items():
            with bench.started("generated") as server:
                bench.b.run_wrk(server, 1, args.connections, args.warmup)
                result = bench.b.run_wrk(server, 1, args.connections, args.duration)
            found[framework]["load"].append(result)
            server = bench.server("generated")
            try:
                found[framework]["cold"].append(server.wait_first_prediction())
            finally:
                server.stop()
            line = (f"  round {round_} {framework:<8} {result.rps:6.0f} req/s  p50 {result.p50_ms:5.2f} ms  "
                    f"p99 {result.p99_ms:6.2f} ms  errors {result.errors}  server CPU {result.server_cpu:.0%}  "
                    f"workers {bench.b.shares(result)}  cold start {found[framework]['cold'][-1]:.2f} s")  # fmt: skip
            if images is not None:
                images.ready_s[framework].append(images.start_to_first_prediction(framework, bench))
                line += f"  container {images.ready_s[framework][-1]:.2f} s"
            say(line)
    return found


def memory(args, benches: dict[str, Bench]) -> dict:
    found = {}
    for framework, bench in benches.items():
        for preload, workers in (("true", 1), ("true", args.workers), ("false", args.workers)):
            with bench.started("generated", workers, {"PRELOAD": preload}) as server:
                bench.b.run_wrk(server, 1, args.connections, 2)
                server.wait_workers(workers)
                found[(framework, preload, workers)] = bench.b.pss_mib(server.pids())
        say(f"  {framework:<8} PSS: 1 worker {found[(framework, 'true', 1)]:.0f} MiB, {args.workers} workers "
            f"{found[(framework, 'true', args.workers)]:.0f} MiB preloaded, "
            f"{found[(framework, 'false', args.workers)]:.0f} MiB each loading its own")  # fmt: skip
    return found


def report(args, machine: dict, found: dict, mem: dict, images: Images | None) -> str:
    n = args.workers
    lines = [
        f"{machine['date']}, {machine['nproc']} CPUs ({machine['cpu']}), Python {machine['python']}, "
        f"iris classifier of each framework, POST /predict with 1 instance, wrk {args.connections} keep-alive "
        f"connections, {args.duration:g} s x {args.rounds} rounds interleaved, {n} gunicorn workers; medians [ranges]",
        "",
        f"| framework | requests/s | p50 ms | p99 ms | server CPU/request | cold start s | PSS 1 worker | "
        f"PSS {n} workers, preloaded | PSS {n} workers, PRELOAD=false | CPU image | docker run to first prediction |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for framework, results in found.items():
        load, cold = results["load"], results["cold"]
        rps = [r.rps for r in load]
        image = f"{images.size_mb[framework]:.0f} MB" if images else "not measured"
        ready = f"{med(images.ready_s[framework]):.2f} s" if images else "not measured"
        lines.append(
            f"| {framework} | {med(rps):.0f} [{span(rps)}] | {med([r.p50_ms for r in load]):.2f} "
            f"| {med([r.p99_ms for r in load]):.2f} | {med([r.server_cpu / r.rps * 1e6 for r in load]):.0f} µs "
            f"| {med(cold):.2f} [{span(cold, '{:.2f}')}] | {mem[(framework, 'true', 1)]:.0f} MiB "
            f"| {mem[(framework, 'true', n)]:.0f} MiB | {mem[(framework, 'false', n)]:.0f} MiB | {image} | {ready} |"
        )
    errors = sum(r.errors for results in found.values() for r in results["load"])
    lines += ["", f"Errors under load: {errors}."]
    from tools import bench as tools_bench  # the baked project's tools/bench.py, on sys.path

    for framework, results in found.items():
        slow = tools_bench.slow_rounds([r.rps for r in results["load"]])
        recycled = sum(r.recycled for r in results["load"])
        flag = f"SLOW round(s) {', '.join(map(str, slow))}" if slow else "no slow round"
        lines.append(
            f"{framework}: {flag} (more than {tools_bench.ROUND_SPREAD:.0%} below its median), {recycled} workers recycled."
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark every model_framework in one run (benchmarks/README.md).")
    parser.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS, default=FRAMEWORKS, help="which (all)")
    load_options(parser)
    parser.add_argument("--no-container", action="store_true", help="skip the images and containers")
    parser.add_argument("--build-timeout", type=float, default=1200, help="seconds allowed per image build (1200)")
    args = parser.parse_args()
    require_wrk()

    started = time.perf_counter()
    WORK.mkdir(exist_ok=True)
    projects, benches = {}, {}
    for framework in args.frameworks:
        projects[framework] = bake(framework, WORK / f"bake-{framework}")
        python = service_venv(projects[framework], prune=False)
        benches[framework] = Bench(args, projects[framework], python)
    python_version = run([python, "-c", "import platform; print(platform.python_version())"]).stdout.strip()
    machine = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu_model(),
        "python": python_version,
        "load": os.getloadavg(),
    }
    say(
        f"bench: {', '.join(args.frameworks)}; {machine['nproc']} CPUs ({machine['cpu']}), load {machine['load'][0]:.1f}"
    )
    images = None
    try:
        if not args.no_container:
            say("\n0. CPU images")
            images = Images(args, projects)
            images.build()
        say("\n1-2. POST /predict under load, cold start" + ("" if images is None else ", container start"))
        found = measure(args, benches, images)
        say("\n3. memory")
        mem = memory(args, benches)
    finally:
        if images is not None:
            images.remove()

    table = report(args, machine, found, mem, images)
    given = shlex.join(sys.argv[1:])
    command = "make bench-frameworks" + (f' BENCH_ARGS="{given}"' if given else "")
    text = (f"{table}\n\nCommand: `{command}` ({time.perf_counter() - started:.0f} s; "
            f"load average at start {machine['load'][0]:.1f})\n")  # fmt: skip
    (WORK / "frameworks.md").write_text(text)
    say("\n" + text)
    say(f"(also in {(WORK / 'frameworks.md').relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as error:
        raise SystemExit(f"bench: {shlex.join(map(str, error.cmd))} failed:\n{error.stderr or error.stdout}") from None
