"""Validate every answer before cookiecutter writes a single file.

Cookiecutter renders this file with the answers, runs it inside the new (still
empty) project directory, and deletes that directory when the script exits
non-zero, so a rejected answer leaves nothing behind.  Each rule is checked
here rather than left to fail later inside `docker build`, where the message
would name neither the question nor the value.
"""

import re
import sys

ANSWERS = {
    "model_framework": {{ cookiecutter.model_framework | string | jsonify }},
    "task": {{ cookiecutter.task | string | jsonify }},
    "project_name": {{ cookiecutter.project_name | string | jsonify }},
    "service_name": {{ cookiecutter.service_name | string | jsonify }},
    "description": {{ cookiecutter.description | string | jsonify }},
    "python_version": {{ cookiecutter.python_version | string | jsonify }},
    "port": {{ cookiecutter.port | string | jsonify }},
    "include_gpu": {{ cookiecutter.include_gpu | string | jsonify }},
    "cuda_version": {{ cookiecutter.cuda_version | string | jsonify }},
    "system_packages": {{ cookiecutter.system_packages | string | jsonify }},
}

# Allow-lists mirror cookiecutter.json; they are checked again because
# `--no-input` with extra_context (or a replay file) bypasses the choice prompt.
TASKS = ("classification", "regression")
PYTHON_VERSIONS = ("3.11", "3.12", "3.13", "3.14")
CUDA_VERSIONS = ("13.0.1", "13.0.2")
BOOLEAN_SPELLINGS = {"true": True, "false": False}
# cookiecutter.json's _frameworks: per framework, the Pythons it has wheels
# for and the CUDA versions of its GPU build (none: no GPU image).
FRAMEWORKS = {{ cookiecutter._frameworks | jsonify }}

# Docker image and container names, and a portable directory name: lowercase
# alphanumerics joined by single separators, at most 63 characters.
SERVICE_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
# Debian Policy 5.6.1: lowercase letters, digits, + - . ; at least two
# characters, starting with an alphanumeric.
DEBIAN_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")


class InvalidAnswer(ValueError):
    def __init__(self, question: str, value: str, rule: str) -> None:
        super().__init__(f"{question}={value!r} is invalid: {rule}")


def check_single_line(question: str, value: str, limit: int) -> None:
    if not value.strip():
        raise InvalidAnswer(question, value, "it must not be empty")
    if any(ch in value for ch in "\r\n\t") or not value.isprintable():
        raise InvalidAnswer(question, value, "it must be one line of printable text")
    if len(value) > limit:
        raise InvalidAnswer(question, value, f"it must be at most {limit} characters")


def check_service_name(value: str) -> None:
    rule = (
        "use lowercase letters and digits joined by single '.', '_' or '-', "
        "starting and ending with a letter or digit, at most 63 characters"
    )
    if len(value) > 63 or not SERVICE_NAME.fullmatch(value):
        raise InvalidAnswer("service_name", value, rule)


def check_port(value: str, gpu: bool) -> None:
    if not re.fullmatch(r"[0-9]{1,5}", value.strip()) or not 1 <= int(value) <= 65535:
        raise InvalidAnswer("port", value, "it must be an integer from 1 to 65535")
    if gpu and int(value) == 65535:
        raise InvalidAnswer(
            "port", value, "with include_gpu the GPU service uses port+1, so at most 65534"
        )


def check_choice(question: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidAnswer(question, value, f"it must be one of {', '.join(allowed)}")


def check_boolean(question: str, value: str) -> bool:
    try:
        return BOOLEAN_SPELLINGS[value.strip().lower()]
    except KeyError:
        raise InvalidAnswer(question, value, "answer yes or no") from None


def check_system_packages(value: str) -> None:
    for name in value.split():
        if not DEBIAN_PACKAGE.fullmatch(name):
            raise InvalidAnswer(
                "system_packages",
                value,
                f"{name!r} is not a Debian package name (lowercase letters, digits, "
                "'+', '-', '.', at least two characters, starting alphanumeric); "
                "separate names with spaces",
            )


def check_framework_support(framework: str, python: str, gpu: bool, cuda: str) -> None:
    """The chosen framework must have wheels for the Python and, with GPU support, a CUDA build."""
    support = FRAMEWORKS[framework]
    if python not in support["python"]:
        raise InvalidAnswer(
            "python_version",
            python,
            f"model_framework={framework} supports Python {', '.join(support['python'])}",
        )
    if gpu and not support["cuda"]:
        raise InvalidAnswer(
            "include_gpu", "yes", f"model_framework={framework} has no GPU build; answer include_gpu=no"
        )
    if gpu and cuda not in support["cuda"]:
        raise InvalidAnswer(
            "cuda_version",
            cuda,
            f"model_framework={framework}'s GPU build supports CUDA {', '.join(support['cuda'])}",
        )


def validate(answers: dict[str, str]) -> None:
    check_choice("model_framework", answers["model_framework"], tuple(FRAMEWORKS))
    check_choice("task", answers["task"], TASKS)
    check_single_line("project_name", answers["project_name"], 100)
    check_service_name(answers["service_name"])
    check_single_line("description", answers["description"], 200)
    check_choice("python_version", answers["python_version"], PYTHON_VERSIONS)
    gpu = check_boolean("include_gpu", answers["include_gpu"])
    check_port(answers["port"], gpu)
    check_choice("cuda_version", answers["cuda_version"], CUDA_VERSIONS)
    check_system_packages(answers["system_packages"])
    check_framework_support(answers["model_framework"], answers["python_version"], gpu, answers["cuda_version"])


def main() -> int:
    try:
        validate(ANSWERS)
    except InvalidAnswer as error:
        print(f"ERROR: {error}. Nothing was generated.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
