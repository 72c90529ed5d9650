"""GET /docs/ renders the API in a real browser: headless Chromium, no network but 127.0.0.1.

The page's Swagger UI assets come from the image itself (flask-swagger-ui's
wheel); Chromium runs with background networking off, so a CDN reference
would leave the page blank.  The rendered DOM must show the predict
operation, and a screenshot is kept as a test artefact.
"""

import pytest

from support.processes import run, system_tool
from support.service import Gunicorn
from support.template import TEMPLATE

ARTEFACTS = TEMPLATE / ".pytest_cache" / "artefacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Time for Swagger UI's JavaScript to fetch /openapi.json and render.
    "--virtual-time-budget=15000",
    "--window-size=1280,1400",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    return system_tool("chromium", "chromium-browser")


def test_docs_page_shows_the_predict_operation(chromium, service_venv, tmp_path):
    project, python = service_venv
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTEFACTS / "docs-page.png"
    screenshot.unlink(missing_ok=True)
    with Gunicorn(project, python, tmp_path) as server:
        server.wait_ready()
        url = f"{server.base}/docs/"
        profile = ["--user-data-dir=" + str(tmp_path / "profile-dom")]
        dom = run([chromium, *CHROMIUM_FLAGS, *profile, "--dump-dom", url], timeout=120).stdout
        profile = ["--user-data-dir=" + str(tmp_path / "profile-shot")]
        run([chromium, *CHROMIUM_FLAGS, *profile, f"--screenshot={screenshot}", url], timeout=120)
        log = server.output()
    assert 'class="swagger-ui' in dom, dom[:2000]
    assert "/predict" in dom and "Predict the class of one instance or a batch" in dom, dom[-3000:]
    assert "/metadata" in dom and "/readyz" in dom
    # The browser fetched the document and every asset from the service itself.
    for path in ("/openapi.json", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"):
        assert f'"path": "{path}", "status": 200' in log, path
    assert screenshot.stat().st_size > 20_000, "a blank page"
    print(f"\nscreenshot of /docs/: {screenshot}")
