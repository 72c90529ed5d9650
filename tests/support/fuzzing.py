"""schemathesis against a running service's own /openapi.json, for test_robustness.py and test_v2_protocol.py."""

import json
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from support.processes import run, tool
from support.service import Gunicorn, request_bytes, send_raw


def schemathesis(server: Gunicorn, workdir: Path, config: str, *options: str) -> tuple[Counter, Counter]:
    """Run ``st run --checks all`` with ``config`` (TOML) and ``options``; the statuses and routes it hit.

    Fails the test if schemathesis reports a failed check.
    """
    # From a file, with --url: loaded from the URL, schemathesis would skip
    # the operation serving the document itself (GET /openapi.json).
    spec = workdir / "openapi.json"
    spec.write_bytes(send_raw(server.port, request_bytes("GET", "/openapi.json", content_type=None)).body)
    config_file = workdir / "schemathesis.toml"
    config_file.write_text(config)
    har = workdir / "requests.har"
    result = run(
        [tool("st"), "--no-color", "--config-file", config_file, "run", spec, "--url", server.base,
         "--checks", "all", *options, "--workers", "2", "--request-timeout", "10",
         "--report", "har", "--report-har-path", har],
        cwd=workdir, timeout=300, check=False,  # st keeps a cache in .schemathesis/ of its cwd
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    entries = json.loads(har.read_text())["log"]["entries"]
    statuses = Counter(entry["response"]["status"] for entry in entries)
    routes = Counter(urlsplit(entry["request"]["url"]).path for entry in entries)
    return statuses, routes
