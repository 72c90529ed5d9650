"""Every setting of the service, read from the environment in one place.

Both gunicorn.conf.py and the Flask app read these, so the server and the app
can never disagree; views read them as ``current_app.config["SETTINGS"]``.
A new setting is one field below (its environment variable is its name in
upper case); gunicorn.conf.py logs every field at start-up.  Values are typed and range-checked at start-up: a bad
value stops the service with one line naming the variable, e.g.

    invalid configuration: WORKERS='many': Input should be a valid integer
"""

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.project import MODEL_ARTIFACT
from service.validation import one_line

# The model the project ships (tools/train.py's output): MODEL_PATH's default.
SHIPPED_MODEL = Path(__file__).resolve().parents[1] / "model" / MODEL_ARTIFACT


# Requests a worker serves before it is replaced, with two or more workers.
RECYCLE_AFTER = 10_000


def default_workers() -> int:
    """One worker per usable CPU: inference is CPU-bound, so more only queue."""
    return max(1, len(os.sched_getaffinity(0)))


class Settings(BaseSettings):
    """Environment variables (case-insensitive) and their defaults."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True, protected_namespaces=())

    host: str = Field("0.0.0.0", description="Address to bind.")
    port: int = Field({{ cookiecutter.port }}, ge=1, le=65535, description="Port to listen on.")
    # WORKERS, or the ecosystem's WEB_CONCURRENCY (which gunicorn itself also
    # reads when imported: start.py checks it first).
    workers: int = Field(
        default_factory=default_workers,
        ge=1,
        le=64,
        validation_alias=AliasChoices("workers", "web_concurrency"),
        description="Gunicorn worker processes.",
    )
    threads: int = Field(2, ge=1, le=64, description="Threads per worker (gthread worker class).")
    timeout: int = Field(30, ge=1, le=3600, description="Seconds a prediction may run before its worker is replaced.")
    # Below docker stop's 10 s default, so the drain ends before SIGKILL would.
    graceful_timeout: int = Field(8, ge=1, le=3600, description="Seconds to finish in-flight requests on SIGTERM.")
    keepalive: int = Field(5, ge=0, le=300, description="Seconds to hold an idle keep-alive connection.")
    # Recycling bounds a slow leak in a worker; a recycled worker's connections
    # then spread over the others again (service/server/rebalance.py).  One
    # worker alone would leave no worker for the length of its restart (the
    # model reload included without PRELOAD), so it is never recycled by default.
    max_requests: int = Field(
        default_factory=lambda data: RECYCLE_AFTER if data.get("workers", 1) > 1 else 0,
        ge=0,
        description="Recycle a worker after this many requests (0: never; default 10000, 0 with one worker).",
    )
    max_requests_jitter: int = Field(
        default_factory=lambda data: data.get("max_requests", 0) // 2,
        ge=0,
        description="Up to this many more requests, at random per worker, so workers do not recycle together "
        "(default half of MAX_REQUESTS).",
    )
    preload: bool = Field(True, description="Load the model in the master before forking, shared by workers.")
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    log_format: Literal["json", "text"] = "json"
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Largest request body accepted (413 above).")
    max_batch_size: int = Field(256, ge=1, le=100_000, description="Most instances in one request (413 above).")
    # Opt-in micro-batching (service/inference/batching.py): not MAX_BATCH_SIZE, the per-request limit above.
    microbatch_max_size: int = Field(
        0, ge=0, le=100_000, description="Most rows gathered from concurrent requests into one predict call (0: off)."
    )
    microbatch_max_delay_ms: float = Field(
        2.0, ge=0, le=1000, description="Milliseconds a request may wait for others to share its predict call."
    )
{%- set framework = cookiecutter._frameworks[cookiecutter.model_framework] %}
    model_path: Path = Field(SHIPPED_MODEL, description="Model file to serve ({{ framework.runtime }}).")
    model_threads: int = Field(1, ge=0, le=64, description="{{ framework.runtime }} threads per worker (0: one per core).")
{%- if cookiecutter.model_framework == "sklearn" %}
    model_trusted_types: str = Field(
        "", description="Comma-separated types a skops file may hold beyond skops' defaults (checked by you)."
    )
    model_allow_pickle: bool = Field(
        False, description="Load joblib/pickle files, which run any code they contain (trusted files only)."
    )
{%- endif %}
    api_key: str = Field("", description="When set, required by every route but health, readiness and metrics.")
    # Your settings go here: one typed field each, e.g.
    #   score_threshold: float = Field(0.5, ge=0, le=1, description="...")

{%- if cookiecutter.model_framework == "sklearn" %}

    @property
    def trusted_types(self) -> tuple[str, ...]:
        return tuple(name.strip() for name in self.model_trusted_types.split(",") if name.strip())
{%- endif %}

    @property
    def bind(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def effective(self) -> dict:
        """Every setting as logged at start-up; secrets only as set or unset."""
        values = self.model_dump(mode="json")
        for name in SECRETS:
            values[name] = "set" if values[name] else "unset"
        return values


# Settings whose values never reach a log line.
SECRETS = ("api_key",)


class ConfigurationError(SystemExit):
    """Raised instead of a traceback so start-up fails with one readable line."""


def variable_name(field: str) -> str:
    """The environment variable that set ``field``: an alias such as WEB_CONCURRENCY if that is the one set."""
    alias = Settings.model_fields[field].validation_alias if field in Settings.model_fields else None
    names = [str(choice) for choice in alias.choices] if isinstance(alias, AliasChoices) else [field]
    present = {name.lower() for name in os.environ}
    return next((name for name in names if name.lower() in present), field).upper()


def setting_and_value(problem: dict) -> str:
    """How a problem names what was wrong: the variable and the value it had, e.g. WORKERS='many'."""
    return f"{variable_name('.'.join(map(str, problem['loc'])))}={problem.get('input')!r}"


def load_settings(**overrides) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigurationError(f"invalid configuration: {one_line(error, setting_and_value, every=True)}") from None
