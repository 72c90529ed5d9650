"""A real gunicorn serving a baked project on loopback, and raw HTTP helpers,
for the robustness and security tests (test_robustness.py, test_security.py).

Every server binds 127.0.0.1 on a free port; every client here talks only to it.
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from support.http import free_port, wait_ready

# A test-only app module, written next to the test's logs (never into the
# project): the baked service, with a model that stalls on magic first
# features. 999 hangs (past any TIMEOUT used here), 998 takes SLOW_SECONDS.
STALLING_APP = '''\
"""Test-only: the service with a model that stalls on magic inputs."""
import os
import time

import serve_http
from service.inference.loader import load_model
from service.inference.state import ModelState
from service.settings import load_settings

HANG, SLOW, NOT_FINITE = 999.0, 998.0, 997.0


class Stalling:
    """Any row may carry the magic value: with micro-batching a batch mixes requests."""

    def __init__(self, model):
        self._model, self.metadata = model, model.metadata

    def predict(self, batch):
        if (batch[:, 0] == HANG).any():
            time.sleep(120)
        elif (batch[:, 0] == SLOW).any():
            time.sleep(float(os.environ["SLOW_SECONDS"]))
        outputs = self._model.predict(batch).copy()
        outputs[batch[:, 0] == NOT_FINITE] = float("nan")
        return outputs


settings = load_settings()
model, digest = load_model(settings.model_path)
app = serve_http.create_app(settings, ModelState(Stalling(model), digest, ""))
'''
HANG = [999.0, 1.0, 1.0, 1.0]
SLOW = [998.0, 1.0, 1.0, 1.0]
NOT_FINITE = [997.0, 1.0, 1.0, 1.0]  # the model gives NaN for it, as a real one far outside its range
SETOSA = [5.1, 3.5, 1.4, 0.2]


class Gunicorn:
    """``python start.py [APP]`` (gunicorn with gunicorn.conf.py) from the project's venv, output to a file."""

    def __init__(self, project: Path, python: Path, workdir: Path, app: str = "serve_http:app", **settings) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"gunicorn-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if k not in ("API_KEY", "FLASK_DEBUG", "PROMETHEUS_MULTIPROC_DIR")}
        env.update({"HOST": "127.0.0.1", "PORT": str(self.port), "WORKERS": "2"})
        env.update({name.upper(): str(value) for name, value in settings.items()})
        argv = [str(python), "start.py"]
        if app != "serve_http:app":
            (workdir / "stalling_app.py").write_text(STALLING_APP)
            argv += ["--pythonpath", str(workdir), app]
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                argv, cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self.pid = self.process.pid

    def __enter__(self) -> "Gunicorn":
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def wait_ready(self, timeout: float = 60) -> "Gunicorn":
        wait_ready(self.base, timeout=timeout, process=self.process)
        return self

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def workers(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        except FileNotFoundError:
            return []
        return sorted(int(pid) for pid in children)

    def wait_workers(self, count: int, timeout: float = 30, exclude: tuple[int, ...] = ()) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            workers = [pid for pid in self.workers() if pid not in exclude]
            if len(workers) >= count:
                return workers
            time.sleep(0.02)
        pytest.fail(f"{count} workers not up after {timeout} s: {self.workers()}\n{self.output()[-3000:]}")

    def terminate(self, timeout: float = 30) -> tuple[int, float]:
        """SIGTERM the master; its exit code and how long it took to exit."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"gunicorn still running {timeout} s after SIGTERM\n{self.output()[-3000:]}")
        return code, time.monotonic() - started


def memory_kb(pid: int) -> dict[str, int]:
    """Rss and Pss of a process in kB, from /proc/PID/smaps_rollup."""
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    return {name: int(re.search(rf"^{name}:\s+(\d+) kB", text, re.M).group(1)) for name in ("Rss", "Pss")}


class Answer:
    """One HTTP response read off a raw socket."""

    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes, seconds: float) -> None:
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<{self.status} {dict(self.headers)} {self.body[:300]!r}>"


def send_raw(port: int, data: bytes, timeout: float = 10, method: str = "GET") -> Answer:
    """Write ``data`` as is to a new connection and read one response (the write side stays open)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        body = response.read()
        return Answer(response.status, response.headers, body, time.monotonic() - started)


def request_bytes(
    method: str, path: str, body: bytes | None = None, content_type: str | None = "application/json", headers=()
) -> bytes:
    """A well-framed HTTP/1.1 request (Content-Length set when there is a body)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def post_json(port: int, payload, timeout: float = 30, path: str = "/predict") -> Answer:
    return send_raw(port, request_bytes("POST", path, json.dumps(payload).encode()), timeout=timeout, method="POST")


def predictions_total(port: int) -> float:
    """The sum of predictions_total over labels and workers, from GET /metrics."""
    text = send_raw(port, request_bytes("GET", "/metrics", content_type=None)).body.decode()
    return sum(float(value) for value in re.findall(r"^predictions_total\{[^}]*\} (\S+)$", text, re.M))


class Load:
    """``clients`` threads POSTing /predict over keep-alive connections until
    ``stop()`` (or ``seconds`` at most); every request's outcome is recorded."""

    def __init__(self, port: int, clients: int, seconds: float = 30) -> None:
        self.port, self.seconds = port, seconds
        self.results: list[tuple[float, float, int | None, str | None]] = []  # started, ended, status, error
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def start(self) -> "Load":
        self._deadline = time.monotonic() + self.seconds
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> "Load":
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        return self

    def _client(self) -> None:
        body = json.dumps({"instance": SETOSA})
        connection = None
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            started = time.monotonic()
            try:
                connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                self.results.append((started, time.monotonic(), response.status, None))
                if response.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as error:
                self.results.append((started, time.monotonic(), None, repr(error)))
                connection.close()
                connection = None
                time.sleep(0.01)
        if connection is not None:
            connection.close()

    def failures(self) -> list[tuple[float, float, int | None, str | None]]:
        return [result for result in self.results if result[2] != 200]


def leak_patterns(project: Path, python: Path) -> list[re.Pattern]:
    """What no response may show: tracebacks, file paths, server and library versions."""
    script = (
        "import importlib.metadata as m, platform; "
        "print(platform.python_version(), *(m.version(p) for p in "
        "('flask', 'werkzeug', 'gunicorn', 'pydantic', 'pydantic-core', 'numpy', 'onnxruntime')))"
    )
    versions = subprocess.run([python, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    words = ["Traceback", 'File "', "/app/", "/tmp/", "/opt/venv", "site-packages", "Werkzeug/", "Python/", "gunicorn/"]
    return [
        *(re.compile(re.escape(word), re.IGNORECASE) for word in [*words, str(project)]),
        *(re.compile(rf"(?<![\d.]){re.escape(version)}(?![\d])") for version in versions),
    ]


def assert_no_leak(answer: Answer, patterns: list[re.Pattern]) -> None:
    text = answer.body.decode("latin-1") + "\n" + "\n".join(f"{k}: {v}" for k, v in answer.headers.items())
    found = [pattern.pattern for pattern in patterns if pattern.search(text)]
    assert not found, f"response shows {found}: {answer}"
    # gunicorn's own error pages carry no Server header; the app's say only "gunicorn".
    assert answer.headers.get("Server") in (None, "gunicorn"), answer
