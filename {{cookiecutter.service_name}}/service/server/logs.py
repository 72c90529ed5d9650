"""Logging to stdout: one JSON object per line, or plain text (LOG_FORMAT=text).

The same dictConfig drives gunicorn's own loggers (gunicorn.conf.py passes it
as ``logconfig_dict``) and the app's, so every line on stdout has one format.
"""

import logging
import logging.config

from gunicorn.glogging import Logger

# JSON: these fields, then whatever the call passed as ``extra=``, then the time.
JSON_FIELDS = "%(levelname)s %(name)s %(process)d %(message)s"
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(name)s:%(process)d] %(message)s"

# Neither format shows the source line, thread or process name of a call:
# skip looking them up on every record (the logging HOWTO's "Optimization").
# An access line per request makes this measurable; put them back if you add
# %(lineno)d, %(funcName)s, %(threadName)s or %(processName)s to a format.
logging._srcfile = None
logging.logThreads = False
logging.logMultiprocessing = False


# Attributes every LogRecord has; anything else on a record came from ``extra=``.
STANDARD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class TextFormatter(logging.Formatter):
    """TEXT_FORMAT, then the call's ``extra=`` fields as ``key=value`` pairs.

    The same fields as the JSON lines, so LOG_FORMAT=text (make dev) loses
    nothing: the effective configuration, a request's ID, status and duration.
    """

    def format(self, record: logging.LogRecord) -> str:
        fields = [super().format(record)]
        for name, value in record.__dict__.items():
            if name in STANDARD_ATTRIBUTES:
                continue
            # A dict (the effective configuration) shows as its own pairs.
            pairs = value.items() if isinstance(value, dict) else [(name, value)]
            fields += [f"{key}={item}" for key, item in pairs]
        return " ".join(fields)


def logging_config(level: str, log_format: str) -> dict:
    formatter = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "timestamp": "time",
            "rename_fields": {"levelname": "level", "name": "logger", "process": "pid"},
        }
        if log_format == "json"
        else {"()": "service.server.logs.TextFormatter", "format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "default"}
        },
        "root": {"level": level.upper(), "handlers": ["stdout"]},
        "loggers": {
            # gunicorn's messages go through our handler; its access log is
            # off because the app writes a richer one (with the request ID).
            "gunicorn.error": {"level": level.upper(), "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
    }


def configure_logging(level: str, log_format: str) -> None:
    logging.config.dictConfig(logging_config(level, log_format))


class GunicornLogger(Logger):
    """gunicorn's logger minus its access log, which the app writes instead.

    Skipping it here (rather than only silencing the logger) also skips the
    per-request work of formatting a line nobody reads.
    """

    def access(self, resp, req, environ, request_time) -> None:
        return None
