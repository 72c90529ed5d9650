"""Validate every answer before cookiecutter writes a single file.

Cookiecutter renders this file with the answers, runs it inside the new (still
empty) project directory, and deletes that directory when the script exits
non-zero, so a rejected answer leaves nothing behind.  Each rule is checked
here rather than left to fail later inside `docker build`, where the message
would name neither the question nor the value.
"""

import json
import os
import re
import sys
from pathlib import Path

# Every answer, as cookiecutter rendered this script with them.
ANSWERS = json.loads({{ cookiecutter | jsonify | jsonify }})
# cookiecutter.json's _frameworks: per framework, the Pythons it has wheels
# for and the CUDA versions of its GPU build (none: no GPU image).
FRAMEWORKS = ANSWERS["_frameworks"]

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


def check_choice(question: str, value: str, allowed: list[str]) -> None:
    if value not in allowed:
        raise InvalidAnswer(question, value, f"it must be one of {', '.join(allowed)}")


# The spellings cookiecutter's own yes/no questions take (YesNoPrompt); hooks/answers.py reads them the same way.
YES = ("1", "true", "t", "yes", "y", "on")
NO = ("0", "false", "f", "no", "n", "off")


def check_boolean(question: str, value: object) -> bool:
    """A yes/no answer: a boolean (a yes/no question, or a .cruft.json) or one of its spellings."""
    if isinstance(value, bool):
        return value
    spelled = str(value).strip().lower()
    if spelled not in YES + NO:
        raise InvalidAnswer(question, str(value), "answer yes or no")
    return spelled in YES


def check_questions(answers: dict, questions: dict) -> None:
    """Every choice and yes/no question of cookiecutter.json, whatever it is."""
    for question, default in questions.items():
        if question.startswith("_"):
            continue
        if isinstance(default, list):
            check_choice(question, str(answers.get(question)), [str(choice) for choice in default])
        elif isinstance(default, bool):
            check_boolean(question, answers.get(question))


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
    if framework not in FRAMEWORKS:
        raise InvalidAnswer("model_framework", framework, f"it must be one of {', '.join(FRAMEWORKS)}")
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


def template_questions() -> dict:
    """The questions as the template asks them: a list is a choice question (its
    allowed answers), a boolean a yes/no one.

    Read from the template's own cookiecutter.json, so a question added there is
    checked with no edit here.  `--no-input key=value` never gets this far with
    a bad choice (cookiecutter itself rejects it), but a replay file
    (`--replay`, `--replay-file`) is not checked by cookiecutter, and reaches
    this hook as is.  Cookiecutter names the template in `_repo_dir`; a relative
    path (`cookiecutter .`) is relative to where it was started, the shell's
    PWD, as this hook runs inside the new project's directory.  cruft renders
    without `_repo_dir`, and has no replay: like cookiecutter's prompts, it
    only ever accepts a listed choice, so there is nothing left to check.
    """
    repo_dir = ANSWERS.get("_repo_dir")
    if repo_dir is None:
        return {}
    return json.loads((Path(os.environ.get("PWD", "."), repo_dir) / "cookiecutter.json").read_text())


def validate(answers: dict, questions: dict) -> None:
    check_single_line("project_name", str(answers["project_name"]), 100)
    check_service_name(str(answers["service_name"]))
    check_single_line("description", str(answers["description"]), 200)
    check_questions(answers, questions)
    gpu = check_boolean("include_gpu", answers["include_gpu"])
    check_port(str(answers["port"]), gpu)
    check_system_packages(str(answers["system_packages"]))
    check_framework_support(
        str(answers["model_framework"]), str(answers["python_version"]), gpu, str(answers["cuda_version"])
    )


def main() -> int:
    try:
        validate(ANSWERS, template_questions())
    except InvalidAnswer as error:
        print(f"ERROR: {error}. Nothing was generated.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
