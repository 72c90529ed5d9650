"""Load-test the service as it runs in production: `make bench` (or `python -m tools.bench --help`).

Starts gunicorn with gunicorn.conf.py on 127.0.0.1 (a free port), waits for
/readyz, warms up, then drives ``POST /predict`` with wrk (keep-alive, a fixed
number of connections, a fixed duration) and prints requests/s, instances/s,
p50/p99 latency, errors, the CPU wrk itself used (so a saturated load
generator shows) and the service's memory (PSS summed over the gunicorn
master and its workers).  Loopback only, bounded in time.

Needs wrk on PATH (Debian/Ubuntu: ``apt-get install wrk``; macOS: ``brew
install wrk``).  The payload is the model's example (model/example.json,
cycled to fill a batch; MODEL_PATH's, if set).  Standard library only; the
template's own benchmark (benchmarks/ in the template repository)
imports these helpers.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from service.inference.example import read_example
from service.project import MODEL_ARTIFACT

HERE = Path(__file__).resolve().parents[1]  # the project's root
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# A round this far below the median of its rounds is flagged: a worker idle or
# recycling, or a noisy machine; either way not a figure to quote alone.
ROUND_SPREAD = 0.15
# wrk calls done() at the end; one machine-readable line, latencies in microseconds.
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[%s]==]
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK-RESULT %%d %%d %%d %%d %%d %%d %%d %%d %%d %%d\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


class BenchError(SystemExit):
    """Stops the benchmark with one readable line."""


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError(
            "bench: wrk is not installed; it is the HTTP load generator this benchmark uses.\n"
            "  Debian/Ubuntu: sudo apt-get install wrk    macOS: brew install wrk"
        )
    return wrk


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def predict_body(batch: int) -> bytes:
    """``batch`` instances of the served model's example, cycled."""
    instances = read_example(Path(os.environ.get("MODEL_PATH", HERE / "model" / MODEL_ARTIFACT))).instances
    rows = [instances[i % len(instances)] for i in range(batch)]
    return json.dumps({"instances": rows}).encode()


def http(method: str, url: str, body: bytes | None = None, timeout: float = 2.0) -> int:
    """The status of one request (0 if the connection failed)."""
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    try:
        # The benchmarked loopback URL, built here: no user-supplied scheme.
        with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec B310
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


# --- processes: CPU time and memory, from /proc -------------------------------------------------


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    pids = [pid]
    for child in children(pid):
        pids.extend(tree(child))
    return pids


def cpu_seconds(pid: int, with_reaped_children: bool = False) -> float:
    """User + system CPU of a process (plus its reaped children's, e.g. recycled workers)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()  # fields[0] is field 3 (state)
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / CLOCK_TICKS


def tree_cpu_seconds(pid: int) -> float:
    return cpu_seconds(pid, with_reaped_children=True) + sum(cpu_seconds(child) for child in tree(pid)[1:])


def pss_mib(pids: list[int]) -> float:
    """Proportional set size summed over ``pids``: shared pages are counted once in total."""
    total_kib = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kib += int(line.split()[1])
                    break
        except OSError:
            pass
    return total_kib / 1024


# --- the server -----------------------------------------------------------------------------------


class Server:
    """A server process on 127.0.0.1, started now, stopped with SIGTERM (then SIGKILL)."""

    def __init__(self, argv: list[str], port: int, env: dict[str, str] | None = None, cwd: Path = HERE) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)  # noqa: SIM115
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 10, width: int = 300) -> str:
        text = Path(self.log.name).read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(line if len(line) <= width else line[:width] + " ..." for line in text)

    def wait_until(self, ok, timeout: float = 60.0, what: str = "ready") -> float:
        """Poll ``ok()`` every few ms; return the seconds since the process started."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"bench: the server exited with {self.process.returncode}:\n{self.log_tail()}")
            if ok():
                return time.perf_counter() - self.started
            time.sleep(0.005)
        raise BenchError(f"bench: the server was not {what} within {timeout:.0f} s:\n{self.log_tail()}")

    def wait_ready(self, timeout: float = 60.0) -> float:
        return self.wait_until(lambda: http("GET", f"{self.base}/readyz", timeout=1) == 200, timeout)

    def wait_first_prediction(self, timeout: float = 60.0) -> float:
        """Seconds from process start to the first 2xx answer to POST /predict."""
        body = predict_body(1)
        return self.wait_until(
            lambda: 200 <= http("POST", f"{self.base}/predict", body, timeout=1) < 300, timeout, "predicting"
        )

    def pids(self) -> list[int]:
        return tree(self.pid)

    def wait_workers(self, count: int, timeout: float = 30.0) -> None:
        """Wait until the master has ``count`` workers (they fork after the first is ready)."""
        self.wait_until(lambda: len(children(self.pid)) >= count, timeout, f"running {count} workers")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
        os.unlink(self.log.name)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def gunicorn_server(
    port: int,
    workers: int | None = None,
    app: str = "serve_http:app",
    env=None,
    extra=(),
    cwd: Path = HERE,
    python: str = sys.executable,
) -> Server:
    """The service as in production: gunicorn with gunicorn.conf.py, bound to 127.0.0.1."""
    gunicorn = Path(python).with_name("gunicorn")
    if not gunicorn.exists():
        raise BenchError(f"bench: {gunicorn} not found; run `make install` first")
    settings = {"HOST": "127.0.0.1", "PORT": str(port), **(env or {})}
    if workers:
        settings["WORKERS"] = str(workers)
    return Server([str(gunicorn), "--config", "gunicorn.conf.py", *extra, app], port, settings, cwd)


# --- the load -------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    connections: int
    batch: int
    seconds: float
    requests: int
    rps: float
    instances_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    wrk_cpu: float  # CPU-seconds per second wrk used (1.0 = one core)
    server_cpu: float  # the same for the server's processes
    # The same for each worker running at the end (in PID order), and how many were replaced meanwhile.
    worker_cpu: list[float]
    recycled: int


def run_wrk(server: Server, batch: int = 1, connections: int = 16, seconds: float = 10, threads: int = 1) -> LoadResult:
    """Drive POST /predict with wrk for ``seconds``; return what it measured."""
    wrk = require_wrk()
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / "predict.lua"
        script.write_text(WRK_SCRIPT % predict_body(batch).decode())
        out = Path(tmp) / "wrk.out"
        argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s"]
        argv += ["-s", str(script), f"{server.base}/predict"]
        server_cpu_before = tree_cpu_seconds(server.pid)
        workers_before = {pid: cpu_seconds(pid) for pid in children(server.pid)}
        started = time.perf_counter()
        with out.open("w") as stdout:
            process = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        # wait4 gives the CPU time of wrk itself (all its threads).
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        server_cpu = (tree_cpu_seconds(server.pid) - server_cpu_before) / elapsed
        # A worker started during the round counts from 0; a replaced one's CPU is only in server_cpu.
        workers_after = {pid: cpu_seconds(pid) for pid in children(server.pid)}
        text = out.read_text()
    line = next((line for line in text.splitlines() if line.startswith("WRK-RESULT ")), None)
    if process.returncode != 0 or line is None:
        raise BenchError(f"bench: wrk failed (exit {process.returncode}):\n{text}")
    requests, micros, connect, read, write, status_errors, timeouts, p50, p99, worst = map(int, line.split()[1:])
    return LoadResult(
        connections=connections,
        batch=batch,
        seconds=micros / 1e6,
        requests=requests,
        rps=requests / (micros / 1e6),
        instances_per_s=requests * batch / (micros / 1e6),
        p50_ms=p50 / 1000,
        p99_ms=p99 / 1000,
        max_ms=worst / 1000,
        errors=connect + read + write + status_errors + timeouts,
        wrk_cpu=(usage.ru_utime + usage.ru_stime) / elapsed,
        server_cpu=server_cpu,
        worker_cpu=[(cpu - workers_before.get(pid, 0.0)) / elapsed for pid, cpu in sorted(workers_after.items())],
        recycled=len(workers_before.keys() - workers_after.keys()),
    )


def slow_rounds(rates: list[float], spread: float = ROUND_SPREAD) -> list[int]:
    """The rounds (from 1) whose requests/s is more than ``spread`` below the median of all rounds."""
    median = statistics.median(rates)
    return [number for number, rate in enumerate(rates, 1) if rate < (1 - spread) * median]


def shares(result: LoadResult) -> str:
    """Each worker's CPU as a share of one core, e.g. "94% 91%", and the recycles."""
    text = " ".join(f"{cpu:.0%}" for cpu in result.worker_cpu)
    return text + (f" ({result.recycled} recycled)" if result.recycled else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="python -m tools.bench")
    parser.add_argument("--workers", type=int, default=None, help="WORKERS (default: the service's, 1 per CPU)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections (16)")
    parser.add_argument("--rounds", type=int, default=6, help="rounds of single-instance load, back to back (6)")
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per round and batch size (10)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of load before measuring (2)")
    parser.add_argument("--batch", type=int, nargs="*", default=[64], help="larger batches, one measurement each (64)")
    parser.add_argument("--json", action="store_true", help="also print the results as one JSON line")
    args = parser.parse_args(argv)
    require_wrk()

    port = free_port()
    print(f"bench: gunicorn --config gunicorn.conf.py serve_http:app on 127.0.0.1:{port}", flush=True)
    with gunicorn_server(port, args.workers, env={"LOG_FORMAT": "json"}) as server:
        ready = server.wait_ready()
        workers = args.workers or len(os.sched_getaffinity(0))
        server.wait_workers(workers)
        print(f"bench: ready in {ready:.2f} s with {workers} worker(s); {os.cpu_count()} CPUs", flush=True)
        if args.warmup > 0:
            run_wrk(server, 1, args.connections, args.warmup)
        # Long enough in all to span worker recycles (MAX_REQUESTS): a round
        # after one shows whether the load spread over the workers again.
        rounds = []
        for number in range(1, args.rounds + 1):
            result = run_wrk(server, 1, args.connections, args.duration)
            rounds.append(result)
            print(f"  round {number}: {result.rps:7.0f} requests/s, workers' CPU {shares(result)}", flush=True)
        batches = [run_wrk(server, batch, args.connections, args.duration) for batch in args.batch]
        server.wait_workers(workers)  # a worker being recycled would be missing
        memory = pss_mib(server.pids())

    rates = [r.rps for r in rounds]
    results = [*rounds, *batches]
    print(
        f"\nPOST /predict, wrk: {args.connections} keep-alive connections, {args.duration:g} s per row, 1 thread\n"
        f"{'batch':>5} {'requests/s':>11} {'instances/s':>12} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
        f"{'errors':>6} {'wrk CPU':>8} {'server CPU':>10}  workers' CPU"
    )
    for r in results:
        print(
            f"{r.batch:>5} {r.rps:>11.0f} {r.instances_per_s:>12.0f} {r.p50_ms:>7.2f} {r.p99_ms:>7.2f} "
            f"{r.max_ms:>7.1f} {r.errors:>6} {r.wrk_cpu:>7.0%} {r.server_cpu:>10.0%}  {shares(r)}"
        )
    print(f"single instance: median {statistics.median(rates):.0f} requests/s over {len(rounds)} rounds")
    slow = slow_rounds(rates)
    if slow:
        print(f"SLOW: round(s) {', '.join(map(str, slow))} more than {ROUND_SPREAD:.0%} below the median")
    print(f"memory (PSS, master + {workers} workers): {memory:.0f} MiB")
    print("(CPU: 100% = one core; wrk near 100% of a core would make it the bottleneck)")
    if args.json:
        found = [asdict(r) for r in results]
        print(json.dumps({"workers": workers, "pss_mib": memory, "slow_rounds": slow, "results": found}))
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
