"""The template's benchmark: `make bench` (or `.venv/bin/python benchmarks/run.py --help`).

Bakes the default service, installs its runtime requirements into a cached
venv (.bench/venv-<hash>), and measures on this machine, loopback only:

1. requests/s and latency of POST /predict (one instance per request) for
   - the generated service (gunicorn + gunicorn.conf.py, N workers),
   - the limit: a bare WSGI callable around the same model.predict
     (benchmarks/limit_app.py), under the same gunicorn settings,
   - the naive baseline: the same model behind Flask's development server
     (benchmarks/naive_app.py, threaded, one process),
   with the same load generator (wrk), connections and payload, repeated
   --rounds times, interleaved; medians and ranges;
2. batch throughput of the generated service (instances/s for 1, 8, 64, 256);
3. cold start: process start to the first 2xx answer to POST /predict;
4. memory: PSS summed over master and workers, 1 and N workers, preloaded or not;
5. with a container engine (tests/engine/engine.py): cold image build,
   rebuild after a code-only change, container start to ready, image size
   above its base.

The load generator and process helpers are the generated project's own
tools/bench.py (what its `make bench` runs), imported from the baked copy.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
WORK = ROOT / ".bench"

# The targets of issues 5 and 12 (docs/benchmark.md).
TARGET_VS_LIMIT = 0.9  # requests/s, and CPU per request (limit's / generated's)
TARGET_P99_OVER_LIMIT = 2.0
TARGET_BATCH64_OVER_SINGLE = 20.0
TARGET_EXTRA_WORKER_SHARE = 0.30
TARGET_COLD_START_S = 1.5
TARGET_CONTAINER_READY_S = 3.0
TARGET_REBUILD_SHARE = 0.10


def say(text: str = "") -> None:
    print(text, flush=True)


def run(argv: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], check=True, text=True, capture_output=True, **kwargs)


# --- setup ----------------------------------------------------------------------------------------


def bake(framework: str, out: Path = WORK / "bake") -> Path:
    """The default answers with this model_framework (and this machine's Python, whose wheels the venv gets)."""
    shutil.rmtree(out, ignore_errors=True)
    cookiecutter = Path(sys.executable).with_name("cookiecutter")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    answers = [f"model_framework={framework}", "include_gpu=no", f"python_version={python}"]
    run([cookiecutter, "--no-input", "--output-dir", out, ROOT, *answers])
    return out / "iris-classifier"


def service_venv(project: Path, prune: bool = True) -> Path:
    """A venv with the project's runtime requirements, reused while they do not change; ``prune`` drops the others."""
    # requirements-serve.txt and the common pins it includes.
    requirements = b"".join(
        (project / name).read_bytes() for name in ("requirements-common.txt", "requirements-serve.txt")
    )
    venv = WORK / f"venv-{hashlib.sha256(requirements).hexdigest()[:12]}"
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        shutil.rmtree(venv, ignore_errors=True)
        say(f"setup: creating {venv.relative_to(ROOT)} from requirements-serve.txt (once)")
        run([sys.executable, "-m", "venv", venv])
        run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", "requirements-serve.txt"],
            cwd=project)  # fmt: skip
        (venv / ".installed").touch()
    for old in WORK.glob("venv-*") if prune else ():
        if old != venv:
            shutil.rmtree(old, ignore_errors=True)
    return python


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def med(values) -> float:
    return statistics.median(values)


def span(values, fmt="{:.0f}") -> str:
    return f"{fmt.format(min(values))}-{fmt.format(max(values))}"


# --- the measurements -----------------------------------------------------------------------------


class Bench:
    def __init__(self, args, project: Path, python: Path) -> None:
        self.args, self.project, self.python = args, project, python
        sys.path.insert(0, str(project))
        from tools import bench  # the generated project's tools/bench.py

        self.b = bench
        self.workers = args.workers

    def server(self, kind: str, workers: int | None = None, env: dict | None = None):
        b, port = self.b, self.b.free_port()
        env = {"LOG_FORMAT": "json", **(env or {})}
        workers = workers or self.workers
        if kind == "generated":
            return b.gunicorn_server(port, workers, env=env, cwd=self.project, python=str(self.python))
        if kind == "limit":
            extra = ["--pythonpath", str(HERE)]
            return b.gunicorn_server(port, workers, "limit_app:app", env, extra, self.project, str(self.python))
        if kind == "naive":
            env = {**env, "PYTHONPATH": str(self.project)}
            return b.Server([str(self.python), str(HERE / "naive_app.py"), str(port)], port, env, self.project)
        raise ValueError(kind)

    def started(self, kind: str, workers: int | None = None, env: dict | None = None):
        server = self.server(kind, workers, env)
        try:
            server.wait_ready()
            if kind != "naive":
                server.wait_workers(workers or self.workers)
        except BaseException:
            server.stop()
            raise
        return server

    def throughput(self) -> dict:
        a = self.args
        kinds = ("generated", "limit", "naive")
        results = {kind: [] for kind in kinds}
        for round_ in range(1, a.rounds + 1):
            for kind in kinds:
                with self.started(kind) as server:
                    self.b.run_wrk(server, 1, a.connections, a.warmup)
                    result = self.b.run_wrk(server, 1, a.connections, a.duration)
                results[kind].append(result)
                say(
                    f"  round {round_} {kind:<9} {result.rps:7.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
                    f"p99 {result.p99_ms:6.2f} ms  errors {result.errors}  wrk CPU {result.wrk_cpu:.0%}  "
                    f"server CPU {result.server_cpu:.0%}"
                )
        return results

    def batches(self) -> dict:
        a = self.args
        sizes = (1, 8, 64, a.max_batch)
        results = {size: [] for size in sizes}
        with self.started("generated") as server:
            self.b.run_wrk(server, 1, a.connections, a.warmup)
            for _ in range(a.rounds):
                for size in sizes:
                    results[size].append(self.b.run_wrk(server, size, a.connections, a.batch_duration))
        for size in sizes:
            rs = results[size]
            say(f"  batch {size:>3}: {med([r.instances_per_s for r in rs]):8.0f} instances/s "
                f"({med([r.rps for r in rs]):.0f} req/s, p99 {med([r.p99_ms for r in rs]):.1f} ms)")  # fmt: skip
        return results

    def cold_start(self) -> list[float]:
        times = []
        for _ in range(self.args.rounds):
            server = self.server("generated")
            try:
                times.append(server.wait_first_prediction())
            finally:
                server.stop()
        say(f"  process start to first 2xx POST /predict: median {med(times):.2f} s ({span(times, '{:.2f}')})")
        return times

    def memory(self) -> dict:
        a, found = self.args, {}
        for preload in ("true", "false"):
            for workers in sorted({1, self.workers}):
                with self.started("generated", workers, {"PRELOAD": preload}) as server:
                    self.b.run_wrk(server, 1, a.connections, 2)
                    self.b.run_wrk(server, 64, a.connections, 1)
                    server.wait_workers(workers)
                    pids = server.pids()
                    total = self.b.pss_mib(pids)
                    each = [round(self.b.pss_mib([pid])) for pid in pids]
                found[(preload, workers)] = total
                say(f"  PRELOAD={preload:<5} {workers} worker(s): {total:5.0f} MiB PSS (master, workers: {each})")
        return found

    def build_flags(self) -> list[str]:
        """PyTorch's CPU wheel index: TORCH_INDEX_URL when set (a loopback mirror needs the host network)."""
        index = os.environ.get("TORCH_INDEX_URL")
        if self.args.framework != "pytorch" or not index:
            return []
        return ["--network", "host", "--build-arg", f"TORCH_INDEX_URL={index}"]

    def container(self) -> dict | None:
        sys.path.insert(0, str(ROOT))
        try:
            from tests.engine.engine import EngineUnavailable, find_engine
        except ImportError as error:
            say(f"  skipped: cannot import tests/engine/engine.py ({error})")
            return None
        try:
            engine = find_engine()
        except EngineUnavailable as error:
            say(f"  skipped: no container engine ({str(error).splitlines()[0]})")
            return None
        tag = f"tmpl-bench-{os.getpid()}"
        name = f"{tag}-run"
        project, found = self.project, {}
        base = "python:{}-slim".format(json.loads((ROOT / "cookiecutter.json").read_text())["python_version"][0])
        try:
            started = time.perf_counter()
            engine.docker("build", *self.build_flags(), "--no-cache", "-f", "Dockerfile.cpu", "-t", f"{tag}:cold", ".", cwd=project,
                          timeout=self.args.build_timeout)  # fmt: skip
            found["cold_build_s"] = time.perf_counter() - started
            say(f"  cold build (--no-cache): {found['cold_build_s']:.1f} s  [{engine.kind}]")
            with (project / "serve_http.py").open("a") as source:
                source.write("# a code-only change\n")
            started = time.perf_counter()
            engine.docker("build", *self.build_flags(), "-f", "Dockerfile.cpu", "-t", f"{tag}:code", ".", cwd=project,
                          timeout=self.args.build_timeout)  # fmt: skip
            found["rebuild_s"] = time.perf_counter() - started
            say(f"  rebuild after a code-only change: {found['rebuild_s']:.1f} s "
                f"({found['rebuild_s'] / found['cold_build_s']:.0%} of cold)")  # fmt: skip
            ready = []
            for _ in range(self.args.rounds):
                port = self.b.free_port()
                started = time.perf_counter()
                engine.docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:5000", f"{tag}:code")
                try:
                    url = f"http://127.0.0.1:{port}/predict"
                    body = self.b.predict_body(1)
                    deadline = time.monotonic() + 60
                    while not 200 <= self.b.http("POST", url, body, timeout=1) < 300:
                        if time.monotonic() > deadline:
                            raise RuntimeError("the container did not answer within 60 s")
                        time.sleep(0.02)
                    ready.append(time.perf_counter() - started)
                finally:
                    engine.docker("rm", "-f", name, check=False, timeout=120)
            found["container_ready_s"] = ready
            say(f"  docker run to first 2xx POST /predict: median {med(ready):.2f} s ({span(ready, '{:.2f}')})")
            size = int(engine.docker("image", "inspect", "-f", "{{.Size}}", f"{tag}:code").stdout.strip())
            base_size = engine.docker("image", "inspect", "-f", "{{.Size}}", base, check=False).stdout.strip()
            found["image_mb"] = size / 1e6
            if base_size.isdigit():
                found["base_mb"] = int(base_size) / 1e6
                say(f"  image {size / 1e6:.0f} MB, base {base} {int(base_size) / 1e6:.0f} MB: "
                    f"the template adds {(size - int(base_size)) / 1e6:.0f} MB")  # fmt: skip
            else:
                say(f"  image {size / 1e6:.0f} MB (base {base} not found locally)")
            found["engine"] = engine.kind
        except Exception as error:
            say(f"  container part failed: {str(error)[:2000]}")
        finally:
            engine.docker("rm", "-f", name, check=False, timeout=120)
            engine.docker("rmi", "-f", f"{tag}:code", f"{tag}:cold", check=False, timeout=300)
        return found


# --- the report -----------------------------------------------------------------------------------


def report(args, machine: dict, tp: dict, batches: dict, cold: list, memory: dict, box: dict | None) -> str:
    lines = []
    gen = tp["generated"]
    rps = {k: [r.rps for r in v] for k, v in tp.items()}
    lines.append(
        f"{machine['date']}, {machine['nproc']} CPUs ({machine['cpu']}), Python {machine['python']}, "
        f"wrk {args.connections} keep-alive connections, {args.duration:g} s x {args.rounds} rounds interleaved, "
        f"{args.workers} gunicorn workers; medians [ranges]"
    )
    lines.append("")
    lines.append(
        "| POST /predict, 1 instance | requests/s | p50 ms | p99 ms | errors | wrk CPU | server CPU | server CPU/request |"
    )
    lines.append("|---|---|---|---|---|---|---|---|")
    labels = {
        "generated": "generated service (gunicorn, Flask)",
        "limit": "limit: bare WSGI + same model, same gunicorn",
        "naive": "naive: Flask dev server, threaded",
    }
    for kind, results in tp.items():
        lines.append(
            f"| {labels[kind]} | {med(rps[kind]):.0f} [{span(rps[kind])}] "
            f"| {med([r.p50_ms for r in results]):.2f} | {med([r.p99_ms for r in results]):.2f} "
            f"| {sum(r.errors for r in results)} | {med([r.wrk_cpu for r in results]):.0%} "
            f"| {med([r.server_cpu for r in results]):.0%} | {med([r.server_cpu / r.rps * 1e6 for r in results]):.0f} µs |"
        )
    lines.append("")
    vs_limit = [g / max(lim_, 1e-9) for g, lim_ in zip(rps["generated"], rps["limit"], strict=True)]
    vs_naive = [g / max(n, 1e-9) for g, n in zip(rps["generated"], rps["naive"], strict=True)]
    ratio_limit = med(rps["generated"]) / med(rps["limit"])
    ratio_naive = med(rps["generated"]) / med(rps["naive"])
    limit_naive = med(rps["limit"]) / med(rps["naive"])
    cpu = {k: med([r.server_cpu / r.rps for r in v]) for k, v in tp.items()}
    cpu_limit = cpu["limit"] / cpu["generated"]
    p99 = {k: med([r.p99_ms for r in v]) for k, v in tp.items()}
    p99_limit = p99["generated"] / p99["limit"]
    errors = sum(r.errors for r in gen)
    single = med([r.instances_per_s for r in batches[1]])
    lines.append("| batch size | instances/s | requests/s | p99 ms |")
    lines.append("|---|---|---|---|")
    for size, results in batches.items():
        lines.append(
            f"| {size} | {med([r.instances_per_s for r in results]):.0f} "
            f"[{span([r.instances_per_s for r in results])}] | {med([r.rps for r in results]):.0f} "
            f"| {med([r.p99_ms for r in results]):.1f} |"
        )
    batch64 = med([r.instances_per_s for r in batches[64]]) / single
    lines.append("")
    one, many = memory.get(("true", 1)), memory.get(("true", args.workers))
    share = (many - one) / one / max(args.workers - 1, 1) if one and many else None
    lines.append(f"| memory (PSS, master + workers, after load) | 1 worker | {args.workers} workers |")
    lines.append("|---|---|---|")
    for preload in ("true", "false"):
        a, b = memory.get((preload, 1)), memory.get((preload, args.workers))
        lines.append(f"| PRELOAD={preload} | {a:.0f} MiB | {b:.0f} MiB |")
    lines.append("")

    def verdict(ok: bool, text: str) -> str:
        return f"| {text} | {'met' if ok else 'MISSED'} |"

    lines.append("| target | measured | |")
    lines.append("|---|---|---|")
    rows = [
        (ratio_limit >= TARGET_VS_LIMIT, f"generated >= {TARGET_VS_LIMIT} x limit req/s",
         f"{ratio_limit:.2f} x (per round {span(vs_limit, '{:.2f}')})"),
        (cpu_limit >= TARGET_VS_LIMIT, f"generated >= {TARGET_VS_LIMIT} x limit by CPU per request",
         f"{cpu_limit:.2f} x ({cpu['generated'] * 1e6:.0f} vs {cpu['limit'] * 1e6:.0f} µs)"),
        (p99_limit <= TARGET_P99_OVER_LIMIT, f"p99 <= {TARGET_P99_OVER_LIMIT:g} x limit's p99 at {args.connections} connections",
         f"{p99_limit:.2f} x ({p99['generated']:.1f} vs {p99['limit']:.1f} ms)"),
        (None, "generated vs naive req/s (reported)",
         f"{ratio_naive:.1f} x (per round {span(vs_naive, '{:.1f}')}); limit vs naive {limit_naive:.1f} x"),
        (errors == 0, "zero errors", f"{errors} errors"),
        (batch64 >= TARGET_BATCH64_OVER_SINGLE, f"batch 64 >= {TARGET_BATCH64_OVER_SINGLE:g} x single instances/s",
         f"{batch64:.1f} x"),
        (share is not None and share <= TARGET_EXTRA_WORKER_SHARE,
         f"each extra worker <= {TARGET_EXTRA_WORKER_SHARE:.0%} of a 1-worker service",
         f"{share:.0%} ({one:.0f} -> {many:.0f} MiB)" if share is not None else "n/a"),
        (med(cold) <= TARGET_COLD_START_S, f"cold start <= {TARGET_COLD_START_S:g} s", f"{med(cold):.2f} s"),
    ]  # fmt: skip
    if box and "container_ready_s" in box:
        ready = med(box["container_ready_s"])
        rows.append((ready <= TARGET_CONTAINER_READY_S, f"container start to ready <= {TARGET_CONTAINER_READY_S:g} s",
                     f"{ready:.2f} s ({box['engine']})"))  # fmt: skip
    if box and "rebuild_s" in box:
        share_build = box["rebuild_s"] / box["cold_build_s"]
        rows.append((share_build <= TARGET_REBUILD_SHARE, f"code-only rebuild <= {TARGET_REBUILD_SHARE:.0%} of cold build",
                     f"{box['rebuild_s']:.1f} s / {box['cold_build_s']:.1f} s = {share_build:.0%}"))  # fmt: skip
    if box and "image_mb" in box:
        added = f"{box['image_mb'] - box['base_mb']:.0f} MB above the base" if "base_mb" in box else "base unknown"
        rows.append((None, "image size (informational)", f"{box['image_mb']:.0f} MB, {added}"))
    for ok, text, value in rows:
        lines.append(f"| {text} | {value} | {'' if ok is None else 'met' if ok else 'MISSED'} |")
    if box is None:
        lines.append("")
        lines.append("Container measurements skipped (no engine, or --no-container; see tests/engine/README.md).")
    return "\n".join(lines)


def load_options(parser: argparse.ArgumentParser) -> None:
    """The options of the load itself, shared with frameworks.py."""
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="gunicorn workers (nproc)")
    parser.add_argument("--connections", type=int, default=16, help="wrk keep-alive connections (16)")
    parser.add_argument("--duration", type=float, default=6, help="seconds of load per measurement (6)")
    parser.add_argument("--warmup", type=float, default=1.5, help="seconds of load before each measurement (1.5)")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions, interleaved (3)")


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit(
            "bench: wrk is not installed (Debian/Ubuntu: sudo apt-get install wrk; macOS: brew install wrk)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark the generated service (see benchmarks/README.md).")
    load_options(parser)
    parser.add_argument("--batch-duration", type=float, default=3, help="seconds per batch-size measurement (3)")
    parser.add_argument("--max-batch", type=int, default=256, help="MAX_BATCH_SIZE of the service (256)")
    parser.add_argument("--no-container", action="store_true", help="skip the image build and container start")
    parser.add_argument("--build-timeout", type=float, default=600, help="seconds allowed per image build (600)")
    frameworks = list(json.loads((ROOT / "cookiecutter.json").read_text())["_frameworks"])
    parser.add_argument("--framework", choices=frameworks, default=frameworks[0], help="model_framework to bake (onnx)")
    args = parser.parse_args()
    require_wrk()

    started = time.perf_counter()
    WORK.mkdir(exist_ok=True)
    project = bake(args.framework)
    python = service_venv(project)
    machine = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu_model(),
        "python": run([python, "-c", "import platform; print(platform.python_version())"]).stdout.strip(),
        "load": os.getloadavg(),
    }
    say(
        f"bench: {project.relative_to(ROOT)}, {machine['nproc']} CPUs ({machine['cpu']}), load {machine['load'][0]:.1f}"
    )
    bench = Bench(args, project, python)

    say("\n1. POST /predict, 1 instance per request")
    tp = bench.throughput()
    say("\n2. batch throughput (generated service)")
    batches = bench.batches()
    say("\n3. cold start")
    cold = bench.cold_start()
    say("\n4. memory")
    memory = bench.memory()
    say("\n5. container")
    box = None if args.no_container else bench.container()
    if args.no_container:
        say("  skipped (--no-container)")

    table = report(args, machine, tp, batches, cold, memory, box)
    given = shlex.join(sys.argv[1:])
    command = "make bench" + (f' BENCH_ARGS="{given}"' if given else "")
    text = f"{table}\n\nCommand: `{command}` ({time.perf_counter() - started:.0f} s; load average at start {machine['load'][0]:.1f})\n"
    (WORK / "latest.md").write_text(text)
    say("\n" + text)
    say(f"(also in {(WORK / 'latest.md').relative_to(ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
