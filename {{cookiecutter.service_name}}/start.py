"""Start the service: check every setting, then hand over to gunicorn.

gunicorn reads WEB_CONCURRENCY itself as soon as it is imported, and a value
that is not an integer stops it with a traceback before gunicorn.conf.py runs;
a port that is taken makes it retry five times, a second apart, and then say
only "Can't connect".  Checking first gives one line naming the setting:

    invalid configuration: WEB_CONCURRENCY='abc': Input should be a valid integer, ...
    invalid configuration: PORT=5000: port 5000 is already in use on 127.0.0.1 (...); choose another, e.g. PORT=5001

Then gunicorn replaces this process (exec), so it keeps this PID (PID 1 in the
image) and receives docker stop's SIGTERM itself.  Arguments are passed on to
gunicorn, e.g. ``python start.py --reload`` (make dev).
"""

import errno
import os
import socket
import sys
from pathlib import Path

from service.settings import ConfigurationError, load_settings

CONFIG = Path(__file__).resolve().with_name("gunicorn.conf.py")


def check_can_listen(host: str, port: int) -> None:
    """Raise ConfigurationError unless ``host:port`` can be listened on now."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise ConfigurationError(
            f"invalid configuration: HOST={host!r}: not a host name or address ({error.strerror})"
        ) from None
    with socket.socket(family, kind, proto) as probe:
        # Bound as gunicorn binds: a port held only by closing connections is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                problem = (
                    f"PORT={port}: port {port} is already in use on {host} (another server, or an earlier run "
                    f"still going); choose another, e.g. PORT={port % 65535 + 1}"
                )
            elif error.errno == errno.EADDRNOTAVAIL:
                problem = f"HOST={host!r}: not an address of this machine"
            else:
                problem = f"PORT={port}: cannot listen on {host}:{port}: {error.strerror}"
            raise ConfigurationError(f"invalid configuration: {problem}") from None


def main() -> None:
    settings = load_settings()  # a bad value: ConfigurationError, one line, exit code 1
    check_can_listen(settings.host, settings.port)
    # No shell: a fixed program and its arguments, replacing this process.
    argv = [sys.executable, "-m", "gunicorn", "--config", str(CONFIG), *sys.argv[1:]]
    os.execv(sys.executable, argv)  # noqa: S606


if __name__ == "__main__":
    main()
