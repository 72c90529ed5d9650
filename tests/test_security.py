"""The generated service's security: no debug mode, no leaks, the API key,
bandit, and a locked-down container (non-root, read-only, no capabilities).

The served tests run the default bake under a real gunicorn on 127.0.0.1 from
the session's service_venv; the container tests use the engine (they skip
without one, and fail under CI=true).
"""

import os
import re

import pytest

from support.bad_requests import CATALOGUE
from support.examples import assert_serves_example
from support.http import free_port, wait_ready
from support.processes import run
from support.service import SETOSA, Answer, Gunicorn, assert_no_leak, leak_patterns, post_json, request_bytes, send_raw

KEY = "k3y-for-the-tests-only"


def get(port: int, path: str, headers=()) -> Answer:
    return send_raw(port, request_bytes("GET", path, content_type=None, headers=headers))


# --- Flask debug mode: off in every served mode, whatever the environment or a request says


@pytest.mark.parametrize("preload", ["true", "false"], ids=["preloaded", "make-dev-style"])
def test_debug_mode_stays_off_and_nothing_leaks_even_with_flask_debug_set(service_venv, tmp_path, preload):
    project, python = service_venv
    leaks = leak_patterns(project, python)
    environment = {"flask_debug": "1", "flask_env": "development", "preload": preload}
    with Gunicorn(project, python, tmp_path, **environment) as server:
        server.wait_ready()
        # Debug mode would pretty-print JSON (Flask indents it then): compact means off.
        assert get(server.port, "/healthz").body == b'{"status":"alive"}\n'
        # No request can turn it on, or reach werkzeug's debugger or console.
        for path in ("/healthz?debug=1", "/?__debugger__=yes&cmd=resource&f=debugger.js", "/console"):
            answer = get(server.port, path, headers=[("X-Debug", "1"), ("X-Flask-Debug", "true")])
            assert answer.status in (200, 404) and b"\n  " not in answer.body, answer
            assert answer.headers.get_content_type() == "application/json", answer
            assert_no_leak(answer, leaks)
        # Every catalogue answer stays as terse as without FLASK_DEBUG.
        for bad in CATALOGUE:
            answer = send_raw(server.port, bad.data, method=bad.method)
            assert answer.status == bad.status and answer.status < 500, (bad.id, answer)
            assert_no_leak(answer, leaks)
        code, _ = server.terminate()
    assert code == 0


def test_app_debug_is_false_even_with_flask_debug_in_the_environment(service_venv):
    project, python = service_venv
    env = {**os.environ, "FLASK_DEBUG": "1", "FLASK_ENV": "development"}
    result = run([python, "-c", "import serve_http; print(serve_http.app.debug)"], cwd=project, env=env)
    assert result.stdout.strip().splitlines()[-1] == "False"


# --- the optional API key -------------------------------------------------------------


def test_api_key_guards_every_route_but_probes_and_metrics(service_venv, tmp_path):
    project, python = service_venv
    with Gunicorn(project, python, tmp_path, api_key=KEY) as server:
        server.wait_ready()
        predict = request_bytes("POST", "/predict", b'{"instance": [5.1, 3.5, 1.4, 0.2]}')
        for name, data in [
            ("predict", predict),
            ("metadata", request_bytes("GET", "/metadata", content_type=None)),
            ("openapi", request_bytes("GET", "/openapi.json", content_type=None)),
            ("unknown route", request_bytes("GET", "/nope", content_type=None)),
        ]:
            for headers in (
                [],
                [("X-API-Key", "wrong")],
                [("X-API-Key", "x" * len(KEY))],
                [("Authorization", "Bearer wrong")],
            ):
                head, _, body = data.partition(b"\r\n\r\n")
                extra = "".join(f"\r\n{k}: {v}" for k, v in headers).encode()
                answer = send_raw(server.port, head + extra + b"\r\n\r\n" + body, method=data.split()[0].decode())
                assert answer.status == 401, (name, headers, answer)
                assert answer.headers.get_content_type() == "application/json", answer
                assert answer.json["error"]["code"] == "unauthorized", answer
                assert answer.headers["WWW-Authenticate"] == "Bearer", answer
        for route in ("/healthz", "/readyz", "/metrics"):
            assert get(server.port, route).status == 200, route
        assert get(server.port, "/metadata", headers=[("X-API-Key", KEY)]).status == 200
        assert get(server.port, "/openapi.json", headers=[("Authorization", f"Bearer {KEY}")]).status == 200
        head, _, body = predict.partition(b"\r\n\r\n")
        answer = send_raw(server.port, head + f"\r\nX-API-Key: {KEY}\r\n\r\n".encode() + body, method="POST")
        assert answer.status == 200 and answer.json["predictions"][0]["label"] == "setosa", answer
        assert post_json(server.port, {"instance": SETOSA}).status == 401
        code, _ = server.terminate()
    assert code == 0


def test_api_key_is_compared_in_constant_time_and_documented(service_venv):
    project, _ = service_venv
    source = (project / "service" / "web" / "requests.py").read_text()
    assert "hmac.compare_digest(supplied.encode(), api_key)" in source
    assert not re.search(r"(supplied|api_key)\s*[!=]=", source), "a plain comparison of the API key"
    readme = (project / "docs" / "configuration.md").read_text()
    assert re.search(r"^\| `API_KEY` \| unset \| .*`/healthz`, `/readyz`, `/metrics`", readme, re.M), readme


# --- static checks --------------------------------------------------------------------


def test_bandit_finds_nothing_of_medium_or_higher_severity(service_venv):
    project, python = service_venv
    # The same command as the generated `make lint` (bandit comes from the bake's requirements-dev.txt).
    command = "$(VENV)/bin/bandit -q -c pyproject.toml --severity-level medium -r ."
    assert command in (project / "Makefile").read_text()
    result = run([python.parent / "bandit", "-c", "pyproject.toml", "--severity-level", "medium", "-r", "."],
                 cwd=project, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No issues identified." in result.stdout, result.stdout


# --- the container: non-root, read-only root filesystem, no capabilities ---------------


@pytest.mark.container
def test_container_serves_as_uid_10001_read_only_without_capabilities(engine, default_image, service_venv):
    project, python = service_venv
    leaks = leak_patterns(project, python)
    name = f"tmpl-security-{os.getpid()}"
    port = free_port()
    engine.docker(
        "run", "-d", "--name", name, "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "-e", "FLASK_DEBUG=1",
        "-p", f"127.0.0.1:{port}:5000", default_image,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, timeout=120)
        assert_serves_example(base)
        assert get(port, "/healthz").body == b'{"status":"alive"}\n'  # compact: no debug mode
        assert "predictions_total" in get(port, "/metrics").body.decode()  # its temp dir is on the tmpfs
        for bad in CATALOGUE[:12]:
            assert_no_leak(send_raw(port, bad.data, method=bad.method), leaks)
        status = engine.docker("exec", name, "cat", "/proc/1/status").stdout
        uids = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
        capabilities = re.search(r"^CapEff:\s+(\w+)$", status, re.M).group(1)
        assert uids == ["10001"] * 4, status
        assert int(capabilities, 16) == 0, status
        assert engine.docker("exec", name, "touch", "/app/x", check=False).returncode != 0  # read-only
        user = engine.inspect(name)["Config"]["User"]
        assert user.split(":")[0] == "10001", user
    finally:
        logs = engine.docker("logs", name, check=False)
        engine.docker("rm", "-f", name, check=False)
    output = logs.stdout + logs.stderr
    assert "Read-only file system" not in output and "Permission denied" not in output, output[-3000:]
