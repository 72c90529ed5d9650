"""Configuration from the environment: typed, range-checked, one clear error."""

import pytest

from service.settings import ConfigurationError, load_settings


def test_defaults_make_a_working_service():
    settings = load_settings()
    assert settings.port == {{ cookiecutter.port }}
    assert settings.workers >= 1
    assert settings.model_path.is_file()


def test_web_concurrency_is_an_alias_of_workers(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    assert load_settings().workers == 5


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("WORKERS", "3")
    monkeypatch.setenv("LOG_FORMAT", "text")
    settings = load_settings()
    assert (settings.port, settings.workers, settings.log_format) == (8080, 3, "text")
    assert settings.bind == "0.0.0.0:8080"


@pytest.mark.parametrize(
    ("environment", "recycling"),
    [
        ({"WORKERS": "2"}, (10_000, 5_000)),
        # One worker recycling would leave no worker while it restarts.
        ({"WORKERS": "1"}, (0, 0)),
        ({"WORKERS": "1", "MAX_REQUESTS": "500"}, (500, 250)),
        ({"WORKERS": "4", "MAX_REQUESTS": "0"}, (0, 0)),
        ({"WORKERS": "2", "MAX_REQUESTS": "100", "MAX_REQUESTS_JITTER": "7"}, (100, 7)),
    ],
)
def test_recycling_defaults_follow_the_worker_count(monkeypatch, environment, recycling):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert (settings.max_requests, settings.max_requests_jitter) == recycling


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WORKERS", "many", "WORKERS='many'"),
        ("MAX_REQUESTS", "-1", "MAX_REQUESTS='-1'"),
        ("PORT", "70000", "PORT='70000'"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT='xml'"),
        ("MAX_BATCH_SIZE", "0", "MAX_BATCH_SIZE='0'"),
        ("MICROBATCH_MAX_SIZE", "-1", "MICROBATCH_MAX_SIZE='-1'"),
        ("MICROBATCH_MAX_DELAY_MS", "soon", "MICROBATCH_MAX_DELAY_MS='soon'"),
        ("MICROBATCH_MAX_DELAY_MS", "5000", "MICROBATCH_MAX_DELAY_MS='5000'"),
    ],
)
def test_bad_values_stop_start_up_naming_the_variable(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match="invalid configuration") as error:
        load_settings()
    assert message in str(error.value)
