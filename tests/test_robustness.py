"""The generated service survives bad input, load, faults and shutdown.

Every test runs the default bake under a real gunicorn on 127.0.0.1, started
from a fresh venv of the bake's own requirements (the session's service_venv),
and every load is bounded in requests and in time.  The hang and SIGTERM tests
serve a test-only app module (support/service.py's STALLING_APP, written to the test's temp
dir, never into the project) whose model stalls on magic inputs.
"""

import http.client
import json
import os
import re
import shutil
import signal
import threading
import time
from collections import Counter

import pytest

from support.bad_requests import CATALOGUE
from support.examples import assert_serves_example
from support.fuzzing import schemathesis
from support.http import free_port, wait_ready
from support.processes import run, system_tool
from support.service import (
    HANG,
    NOT_FINITE,
    SETOSA,
    SLOW,
    Gunicorn,
    Load,
    assert_no_leak,
    leak_patterns,
    memory_kb,
    post_json,
    predictions_total,
    request_bytes,
    send_raw,
)

ROUTES = {"/predict", "/metadata", "/healthz", "/readyz", "/metrics", "/openapi.json"}
THREADS = 2  # gthread threads per worker: the settings' default, used by every server here
# The robustness tests that involve the model run with micro-batching off (the default) and on.
MICROBATCH = {"off": {}, "on": {"microbatch_max_size": 8, "microbatch_max_delay_ms": 5}}


@pytest.fixture(scope="module", params=list(MICROBATCH), ids=lambda mode: f"microbatch-{mode}")
def server(service_venv, tmp_path_factory, request):
    """One default server (2 workers) for the schemathesis run and the catalogue."""
    project, python = service_venv
    with Gunicorn(project, python, tmp_path_factory.mktemp("server"), **MICROBATCH[request.param]) as server:
        server.wait_ready()
        server.first_workers = server.wait_workers(2)
        yield server
        code, _ = server.terminate()
        assert code == 0, server.output()[-3000:]


@pytest.fixture(scope="module")
def leaks(service_venv):
    return leak_patterns(*service_venv)


# --- 1. schemathesis against the service's own /openapi.json --------------------------

# The two documented answers schemathesis's defaults do not expect.
SCHEMATHESIS_CONFIG = """\
# 422: a schema-valid request on which the model gives no finite prediction.
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "422"]
# 413: a batch over MAX_BATCH_SIZE.
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "404", "405", "413", "415", "422"]
"""


def test_schemathesis_finds_no_server_error_and_no_schema_violation(server, tmp_path):
    # The V2 routes have their own run and statuses (test_v2_protocol.py).
    statuses, routes = schemathesis(
        server,
        tmp_path,
        SCHEMATHESIS_CONFIG,
        "--exclude-path-regex",
        "^/v2",
        "--max-examples",
        "1100",
        "--seed",
        "20261127",
    )
    print(f"\nschemathesis: {statuses.total()} requests, statuses {dict(statuses)}, routes {dict(routes)}")
    assert statuses.total() >= 1000
    assert set(routes) >= ROUTES, routes
    assert not [status for status in statuses if status >= 500], statuses


# --- 2. a catalogue of bad requests ----------------------------------------------------


@pytest.mark.parametrize("bad", CATALOGUE, ids=lambda bad: bad.id)
def test_bad_request_gets_its_4xx_naming_the_problem_and_never_reaches_the_model(server, leaks, bad):
    before = predictions_total(server.port)
    answer = send_raw(server.port, bad.data, method=bad.method)
    assert answer.status == bad.status, answer
    if bad.code is None:
        # Refused by gunicorn's HTTP parser before any app code runs: its own
        # small text/html page (no traceback, no version), connection closed.
        assert answer.headers.get_content_type() == "text/html", answer
        assert bad.message in answer.body.decode(), answer
        assert answer.headers["Connection"] == "close", answer
    else:
        assert answer.headers.get_content_type() == "application/json", answer
        error = answer.json["error"]
        assert error["code"] == bad.code, answer
        assert bad.message in error["message"], answer
        assert error["request_id"] == answer.headers["X-Request-ID"], answer
    if bad.id == "huge-content-length":
        # Only the head and 6 bytes of a 100 MB body were sent: the 413 came first.
        assert answer.seconds < 2, answer.seconds
    assert_no_leak(answer, leaks)
    assert predictions_total(server.port) == before, "a bad request reached the model"


def test_the_catalogue_crashed_nothing(server):
    assert server.workers() == server.first_workers
    output = server.output()
    assert "Traceback" not in output and "unhandled error" not in output, output[-5000:]
    assert_serves_example(server.base)


# --- 3. soak ---------------------------------------------------------------------------

SOAK_LUA = """\
-- The soak's requests: valid ones only, in turn on every connection.
local index = 0
local requests = {}

function init(args)
  local json = { ["Content-Type"] = "application/json" }
  requests = {
    wrk.format("POST", "/predict", json, '{"instance": [5.1, 3.5, 1.4, 0.2]}'),
    wrk.format("POST", "/predict", json, '{"instances": [[5.1, 3.5, 1.4, 0.2], [6.4, 3.2, 4.5, 1.5], [6.7, 3.0, 5.2, 2.3]]}'),
    wrk.format("GET", "/healthz"),
    wrk.format("POST", "/predict", json, '{"instance": [6.4, 3.2, 4.5, 1.5]}'),
    wrk.format("GET", "/metadata"),
  }
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, "p99_ms": %.1f}\\n',
    summary.requests, e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(99) / 1000))
end
"""
SOAK_REQUESTS = 50_000
SOAK_SECONDS = 75  # the bound; about 25 s on an idle 2-core machine
MEMORY_BOUND_MB = 20


def wrk_for(wrk: str, server: Gunicorn, script, seconds: int) -> dict:
    result = run(
        [wrk, "-t2", "-c16", f"-d{seconds}s", "--timeout", "5s", "-s", script, server.base], timeout=seconds + 60
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def soak(wrk: str, server: Gunicorn, script, requests: int, seconds: float) -> dict:
    """wrk in 5-second rounds until ``requests`` answers or ``seconds`` pass."""
    total = Counter()
    deadline = time.monotonic() + seconds
    while total["requests"] < requests and time.monotonic() < deadline:
        total.update(wrk_for(wrk, server, script, 5))
    return dict(total)


@pytest.fixture(scope="module")
def wrk():
    return system_tool("wrk")


def test_soak_50k_requests_without_errors_or_worker_memory_growth(service_venv, wrk, tmp_path):
    project, python = service_venv
    script = tmp_path / "soak.lua"
    script.write_text(SOAK_LUA)
    # MAX_REQUESTS=0: no recycling, so a leak would show (and the pids stay).
    with Gunicorn(project, python, tmp_path, max_requests=0) as server:
        server.wait_ready()
        workers = server.wait_workers(2)
        warm_up = wrk_for(wrk, server, script, 3)  # imports, allocator arenas, caches
        before = {pid: memory_kb(pid) for pid in workers}
        started = time.monotonic()
        total = soak(wrk, server, script, SOAK_REQUESTS, SOAK_SECONDS)
        seconds = time.monotonic() - started
        after = {pid: memory_kb(pid) for pid in workers}
        assert server.workers() == workers, "a worker died or was replaced during the soak"
        code, _ = server.terminate()
    errors = {kind: total[kind] for kind in ("connect", "read", "write", "status", "timeout")}
    growth = {pid: (after[pid]["Rss"] - before[pid]["Rss"]) / 1024 for pid in workers}
    print(
        f"\nsoak: {total['requests']} requests in {seconds:.1f} s ({total['requests'] / seconds:.0f}/s) after "
        f"{warm_up['requests']} warm-up; errors {errors}; worker RSS/PSS before {before}, after {after}; "
        f"RSS growth MB {growth} (bound {MEMORY_BOUND_MB})"
    )
    assert total["requests"] >= SOAK_REQUESTS, f"only {total['requests']} requests in {SOAK_SECONDS} s"
    assert not any(errors.values()), errors
    assert all(mb < MEMORY_BOUND_MB for mb in growth.values()), growth
    assert code == 0


# --- 4. kill -9 a worker under load ----------------------------------------------------


def test_kill_9_of_a_worker_under_load_loses_at_most_its_requests(service_venv, tmp_path):
    project, python = service_venv
    with Gunicorn(project, python, tmp_path, max_requests=0) as server:
        server.wait_ready()
        workers = server.wait_workers(2)
        # THREADS clients: at most THREADS requests can be in flight on the victim.
        load = Load(server.port, clients=THREADS, seconds=20).start()
        time.sleep(1.5)
        victim = workers[0]
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        replacement = server.wait_workers(2, timeout=10, exclude=(victim,))
        replaced_seconds = time.monotonic() - killed_at
        time.sleep(2.5)
        load.stop()
        assert_serves_example(server.base)
        output = server.output()
        code, _ = server.terminate()
    failures = load.failures()
    after_kill = [result for result in load.results if result[0] >= killed_at]
    # Answering again: the first success after the last failure.
    last_failure = max((ended for _, ended, _, _ in failures), default=killed_at)
    recovered = min(ended for _, ended, status, _ in after_kill if status == 200 and ended >= last_failure)
    print(
        f"\nkill -9: {len(load.results)} requests, {len(failures)} failed ({[error for *_, error in failures]}), "
        f"replacement worker after {replaced_seconds:.2f} s, answering again after {recovered - killed_at:.2f} s"
    )
    assert replaced_seconds < 2
    assert recovered - killed_at < 2
    assert len(failures) <= THREADS
    assert all(status is None for _, _, status, _ in failures), failures  # connection errors, never a 5xx
    assert all(killed_at - 0.1 <= ended <= killed_at + 2 for _, ended, _, _ in failures), failures
    assert len([r for r in after_kill if r[2] == 200]) > 100
    assert f"Worker (pid:{victim}) was sent SIGKILL" in output
    assert set(replacement) - set(workers)
    assert code == 0


# --- 5. a prediction that hangs --------------------------------------------------------


@pytest.mark.parametrize("microbatch", MICROBATCH)
def test_hung_prediction_is_cut_off_and_its_worker_replaced_while_others_serve(service_venv, tmp_path, microbatch):
    project, python = service_venv
    timeout = 3
    settings = {"timeout": timeout, "slow_seconds": 1, **MICROBATCH[microbatch]}
    with Gunicorn(project, python, tmp_path, app="stalling_app:app", **settings) as server:
        server.wait_ready()
        workers = server.wait_workers(2)
        outcome = {}

        def hang() -> None:
            started = time.monotonic()
            try:
                outcome["answer"] = post_json(server.port, {"instance": HANG}, timeout=30)
            except (OSError, http.client.HTTPException) as error:
                outcome["error"] = error
            outcome["seconds"] = time.monotonic() - started

        hanging = threading.Thread(target=hang)
        hanging.start()
        # Let it reach the model first: with micro-batching, requests that join
        # its batch share its fate (they end with the worker).
        time.sleep(0.5)
        served, failed, deadline = 0, [], time.monotonic() + 20
        while hanging.is_alive() and time.monotonic() < deadline:
            try:
                answer = post_json(server.port, {"instance": SETOSA}, timeout=10)
                assert answer.status == 200, answer
                served += 1
            except (OSError, http.client.HTTPException) as error:
                failed.append(error)
        hanging.join(timeout=30)
        cut = re.findall(r"a prediction ran over TIMEOUT=3 s: ending worker (\d+)", server.output())
        assert len(cut) == 1, server.output()[-5000:]
        victim = int(cut[0])
        replacement = server.wait_workers(2, timeout=5, exclude=(victim,))
        assert_serves_example(server.base)
        output = server.output()
        code, _ = server.terminate()
    print(
        f"\nhang: caller got {outcome.get('error')!r} after {outcome['seconds']:.2f} s (TIMEOUT={timeout}); "
        f"meanwhile {served} requests served, {len(failed)} failed; worker {victim} replaced by "
        f"{set(replacement) - set(workers)}"
    )
    # The connection closes without an answer, as for a timed-out sync worker.
    assert isinstance(outcome.get("error"), http.client.RemoteDisconnected | ConnectionResetError), outcome
    assert timeout <= outcome["seconds"] < timeout + 5
    assert victim in workers and set(replacement) - set(workers)
    assert f"Worker (pid:{victim}) exited with code 1" in output
    assert served >= 10
    assert len(failed) <= 1, failed  # only a request in flight on the victim when it ended
    assert code == 0


def test_micro_batching_answers_each_request_with_its_own_rows_and_errors(service_venv, tmp_path):
    """Concurrent requests gathered into shared predict calls: a row without a finite
    prediction is a 422 for its own request only; every other gets its own answer."""
    project, python = service_venv
    settings = {"workers": 1, "threads": 8, "microbatch_max_size": 8, "microbatch_max_delay_ms": 50}
    rows = [[5.1, 3.5, 1.4, 0.2], [6.4, 3.2, 4.5, 1.5], [6.7, 3.0, 5.2, 2.3]]
    with Gunicorn(project, python, tmp_path, app="stalling_app:app", **settings) as server:
        server.wait_ready()
        alone = [post_json(server.port, {"instance": row}).json["predictions"] for row in rows]
        payloads = [NOT_FINITE if i % 4 == 1 else rows[i % 3] for i in range(8)]
        answers = [None] * len(payloads)
        barrier = threading.Barrier(len(payloads))

        def call(index: int) -> None:
            barrier.wait()
            answers[index] = post_json(server.port, {"instance": payloads[index]}, timeout=30)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(len(payloads))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        output = server.output()
        code, _ = server.terminate()
    for index, answer in enumerate(answers):
        if payloads[index] is NOT_FINITE:
            assert answer.status == 422, answer
            assert answer.json["error"]["code"] == "prediction_not_finite", answer
        else:
            assert answer.status == 200, answer
            (got,), (expected,) = answer.json["predictions"], alone[index % 3]
            # Its own row's answer (a batch's arithmetic may differ from one row's in the last bits).
            assert got["label"] == expected["label"], (index, answer)
            assert got["probabilities"] == pytest.approx(expected["probabilities"], abs=1e-5), (index, answer)
    assert "Traceback" not in output, output[-5000:]
    assert code == 0


# --- 6. SIGTERM during load ------------------------------------------------------------


@pytest.mark.parametrize("microbatch", MICROBATCH)
def test_sigterm_finishes_accepted_requests_refuses_new_ones_and_exits_0(service_venv, tmp_path, microbatch):
    project, python = service_venv
    graceful, slow = 10, 1.5
    settings = {"graceful_timeout": graceful, "slow_seconds": slow, **MICROBATCH[microbatch]}
    with Gunicorn(project, python, tmp_path, app="stalling_app:app", **settings) as server:
        server.wait_ready()
        server.wait_workers(2)
        load = Load(server.port, clients=3, seconds=20).start()
        slow_answers = []

        def slow_request() -> None:
            try:
                slow_answers.append(post_json(server.port, {"instance": SLOW}, timeout=30).status)
            except (OSError, http.client.HTTPException) as error:
                slow_answers.append(repr(error))

        slow_clients = [threading.Thread(target=slow_request) for _ in range(4)]
        for thread in slow_clients:
            thread.start()
        time.sleep(0.5)  # the slow requests are accepted and mid-prediction
        terminated_at = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        new_connections = []
        for _ in range(10):
            try:
                new_connections.append(send_raw(server.port, request_bytes("GET", "/healthz", content_type=None)))
            except ConnectionRefusedError:
                new_connections.append("refused")
            except (OSError, http.client.HTTPException) as error:
                new_connections.append(repr(error))
            time.sleep(0.1)
        for thread in slow_clients:
            thread.join(timeout=30)
        try:
            code = server.process.wait(timeout=graceful + 10)
        finally:
            load.stop()
        exit_seconds = time.monotonic() - terminated_at
        output = server.output()
    before = [result for result in load.results if result[0] < terminated_at]
    later = Counter(result[2] or "connection error" for result in load.results if result[0] >= terminated_at)
    print(
        f"\nSIGTERM: slow requests in flight {slow_answers}; {len(before)} load requests before it, all "
        f"{Counter(r[2] for r in before)}, after it {dict(later)}; new connections {Counter(map(str, new_connections))}; "
        f"exit {code} after {exit_seconds:.2f} s (GRACEFUL_TIMEOUT={graceful})"
    )
    assert slow_answers == [200] * 4
    assert all(status == 200 for _, _, status, _ in before), before
    assert new_connections == ["refused"] * 10
    assert set(later) <= {200, "connection error"}, later  # no error status, ever
    assert code == 0 and exit_seconds < graceful  # the slow requests (200 above) were drained
    assert "Handling signal: term" in output and "Shutting down: Master" in output
    assert "Traceback" not in output and "exited with code" not in output, output[-5000:]


@pytest.mark.container
def test_docker_stop_drains_and_exits_0(engine, default_image):
    name = f"tmpl-robust-stop-{os.getpid()}"
    port = free_port()
    engine.docker("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:5000", default_image)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, timeout=120)
        assert_serves_example(base)
        load = Load(port, clients=THREADS, seconds=30).start()
        time.sleep(1)
        started = time.monotonic()
        # SIGTERM, then SIGKILL after Docker's default 10 s, given explicitly:
        # podman 4.3's compat API creates containers with a StopTimeout of 0.
        engine.docker("stop", "-t", "10", name, timeout=60)
        seconds = time.monotonic() - started
        load.stop()
        state = engine.inspect(name)["State"]
        logs = engine.docker("logs", name)
        output = logs.stdout + logs.stderr
    finally:
        engine.docker("rm", "-f", name, check=False)
    before = Counter(result[2] for result in load.results if result[0] < started)
    print(f"\ndocker stop under load: exit code {state['ExitCode']} after {seconds:.2f} s; requests before it {before}")
    assert state["ExitCode"] == 0, output[-3000:]
    assert set(before) == {200}, before
    assert seconds < 10
    assert "Handling signal: term" in output and "Shutting down: Master" in output, output[-3000:]


# --- 7. a bad model file at start ------------------------------------------------------


@pytest.mark.parametrize("fault", ["missing", "truncated", "truncated-with-checksum", "checksum-mismatch"])
def test_bad_model_file_never_gets_ready_and_says_why_once(service_venv, tmp_path, fault):
    project, python = service_venv
    model = tmp_path / "model" / "model.onnx"
    model.parent.mkdir()
    shutil.copy(project / "model" / "model.onnx", model)
    shutil.copy(project / "model" / "model.onnx.sha256", model.parent / "model.onnx.sha256")
    data = model.read_bytes()
    if fault == "missing":
        model.unlink()
        reason = short = "model file not found"
    elif fault == "truncated":
        model.write_bytes(data[: len(data) // 2])
        (model.parent / "model.onnx.sha256").unlink()
        reason = short = "not a loadable ONNX model"
    elif fault == "truncated-with-checksum":
        model.write_bytes(data[: len(data) // 2])
        reason = short = "does not match"
    else:
        (model.parent / "model.onnx.sha256").write_text("0" * 64 + "  model.onnx\n")
        reason = f"does not match {'0' * 64} recorded in model.onnx.sha256"
        short = "does not match"
    with Gunicorn(project, python, tmp_path, model_path=model) as server:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                send_raw(server.port, request_bytes("GET", "/healthz", content_type=None), timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        for _ in range(10):  # throughout: alive, never ready
            assert send_raw(server.port, request_bytes("GET", "/healthz", content_type=None)).status == 200
            ready = send_raw(server.port, request_bytes("GET", "/readyz", content_type=None))
            assert ready.status == 503 and ready.json["status"] == "not_ready", ready
            assert short in ready.json["reason"], ready
            time.sleep(0.2)
        predict = post_json(server.port, {"instance": SETOSA})
        assert predict.status == 503 and predict.json["error"]["code"] == "model_not_ready", predict
        assert str(tmp_path) not in ready.body.decode() + predict.body.decode()
        code, _ = server.terminate()
    lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    said = [line for line in lines if "model not loaded" in line["message"]]
    print(f"\n{fault}: /readyz {ready.json}; log: {[line['message'] for line in said]}")
    assert len(said) == 1, said
    assert said[0]["level"] == "ERROR" and str(model) in said[0]["message"] and reason in said[0]["message"], said
    assert "Traceback" not in server.output()
    assert code == 0
