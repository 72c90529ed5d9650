"""Talking HTTP to a served bake on loopback: a free port, a JSON request, waiting for /readyz."""

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, body: dict | None = None, timeout: float = 5) -> tuple[int, dict | str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw, status, kind = response.read(), response.status, response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        raw, status, kind = error.read(), error.code, error.headers.get_content_type()
    return status, json.loads(raw) if kind == "application/json" else raw.decode()


def wait_ready(base_url: str, timeout: float = 60, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            pytest.fail(f"server exited {process.returncode} before becoming ready")
        try:
            status, body = http("GET", f"{base_url}/readyz", timeout=2)
            if status == 200:
                return
            last = f"{status} {body}"
        except OSError as error:
            last = str(error)
        time.sleep(0.2)
    pytest.fail(f"{base_url} not ready after {timeout} s: {last}")
