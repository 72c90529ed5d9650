"""start.py: every bad setting, and an address that cannot be listened on,
stop the service with one line naming the variable, before gunicorn starts."""

import os
import socket
import subprocess
import sys

import pytest

from support.app import PROJECT


def start(**variables) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("WORKERS", "WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR")}
    env.update({"HOST": "127.0.0.1", **variables})
    return subprocess.run(
        [sys.executable, "start.py"], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    assert len(lines) == 1 and lines[0].startswith("invalid configuration: "), lines
    return lines[0]


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        # gunicorn itself reads WEB_CONCURRENCY on import (a traceback without start.py).
        ({"WEB_CONCURRENCY": "abc"}, "WEB_CONCURRENCY='abc': Input should be a valid integer"),
        ({"WORKERS": "0"}, "WORKERS='0': Input should be greater than or equal to 1"),
        ({"PRELOAD": "maybe"}, "PRELOAD='maybe': Input should be a valid boolean"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT='xml': Input should be 'json' or 'text'"),
        ({"PORT": "http"}, "PORT='http': Input should be a valid integer"),
        ({"HOST": "no-such-host.invalid"}, "HOST='no-such-host.invalid': not a host name or address"),
        ({"HOST": "192.0.2.1"}, "HOST='192.0.2.1': not an address of this machine"),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else None,
)
def test_a_bad_setting_stops_start_up_in_one_line(variables, expected):
    assert expected in one_line_error(start(**variables))


def test_a_port_in_use_is_said_in_one_line_with_the_way_out():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        line = one_line_error(start(PORT=str(port)))
    assert f"PORT={port}: port {port} is already in use on 127.0.0.1" in line
    assert f"choose another, e.g. PORT={port + 1}" in line
