{%- set gpu = cookiecutter.include_gpu is yes -%}
"""`make run`{% if gpu %} and `make run-gpu`{% endif %} pass every setting they are given to the container.

docker is stood in for by a script that prints what each ``-e`` of its command
line would put in the container, so this needs make but no container engine.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest
from pydantic import AliasChoices

from service.settings import Settings
from support.app import PROJECT

# What each `-e NAME` (docker reads the value from its environment) or `-e NAME=value` sets.
FAKE_DOCKER = """
import json, os, sys
args = sys.argv[1:]
flags = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "-e"]
print(json.dumps(dict(f.split("=", 1) if "=" in f else (f, os.environ.get(f)) for f in flags)))
"""
# Set by the Makefile itself: HOST stays the image's 0.0.0.0, PORT is the published one.
MAKEFILE_OWN = {"HOST", "PORT"}


def setting_names() -> list[str]:
    """Every environment variable Settings reads: each field upper-cased, and its aliases."""
    names = []
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [field]
        names += [str(choice).upper() for choice in choices]
    return sorted(set(names) - MAKEFILE_OWN)


def container_environment(tmp_path, target: str, *assignments: str, environ: dict | None = None) -> dict:
    make = shutil.which("make")
    if make is None:
        pytest.fail("these tests run make: install it (apt-get install make)")
    docker = tmp_path / "docker.py"
    docker.write_text(FAKE_DOCKER)
    # No setting leaks in from the shell running the tests.
    env = {name: value for name, value in os.environ.items() if name not in setting_names() and name != "MAKEFLAGS"}
    result = subprocess.run(
        [make, "-s", target, f"DOCKER={sys.executable} {docker}", *assignments],
        cwd=PROJECT, env={**env, **(environ or {})}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("target", ["run"{% if gpu %}, "run-gpu"{% endif %}])
def test_every_setting_given_on_the_command_line_reaches_the_container(tmp_path, target):
    # A value with a space and quotes: passed by name, it needs no quoting and is never shown.
    given = {name: f"{name.lower()} 'x' \"y\"" for name in setting_names()}
    environment = container_environment(tmp_path, target, *(f"{name}={value}" for name, value in given.items()))
    assert environment == {"PORT": "{{ cookiecutter.port }}", **given}


def test_a_setting_from_the_environment_reaches_the_container_and_unset_ones_do_not(tmp_path):
    assert container_environment(tmp_path, "run", environ={"WORKERS": "4"}) == {"PORT": "{{ cookiecutter.port }}", "WORKERS": "4"}


def test_host_stays_the_images_and_port_is_the_published_one(tmp_path):
    environment = container_environment(tmp_path, "run", "HOST=127.0.0.1", "PORT=8080")
    assert environment == {"PORT": "8080"}
