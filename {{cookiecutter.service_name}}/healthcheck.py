"""Container health check: exit 0 if GET /readyz answers 200, else 1.

Standard library only, because slim images have no curl or wget.
"""

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    url = f"http://127.0.0.1:{os.environ.get('PORT', '{{ cookiecutter.port }}')}/readyz"
    try:
        # A fixed http:// URL to this container's own port.
        with urllib.request.urlopen(url, timeout=3) as response:  # nosec B310
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
