"""The option matrix: every question that changes which files a bake has or
what they say, and every supported combination of their answers.

One table for every test that goes through the combinations
(test_generation.py bakes and checks each; test_matrix_images.py builds each
one's CPU image).  Adding a question is one line in MATRIX_ANSWERS, plus a
rule in `supported` if some of its combinations make no sense.
"""

import itertools

import pytest

from support.template import DEFAULTS

# Question -> the answers the matrix goes through (choice lists come from cookiecutter.json).
MATRIX_ANSWERS: dict[str, tuple[str, ...]] = {
    "model_framework": tuple(DEFAULTS["model_framework"]),
    "task": tuple(DEFAULTS["task"]),
    "python_version": tuple(DEFAULTS["python_version"]),
    "include_gpu": ("yes", "no"),
    "cuda_version": tuple(DEFAULTS["cuda_version"]),
    "ci": tuple(DEFAULTS["ci"]),
}


def supported(answers: dict[str, str]) -> bool:
    """What the pre-gen hook accepts: the framework's Pythons and CUDA builds (cookiecutter.json's _frameworks)."""
    framework = DEFAULTS["_frameworks"][answers["model_framework"]]
    if answers["python_version"] not in framework["python"]:
        return False
    if answers["include_gpu"] == "yes":
        return answers["cuda_version"] in framework["cuda"]
    # Without GPU the CUDA answer is unused: one row, not one per CUDA version.
    return answers["cuda_version"] == MATRIX_ANSWERS["cuda_version"][0]


def matrix_id(answers: dict[str, str]) -> str:
    """E.g. onnx-classification-py3.13-gpu-cuda13.0.1-ci-github; a new question adds -question-answer."""
    gpu = f"gpu-cuda{answers['cuda_version']}" if answers["include_gpu"] == "yes" else "cpu"
    named = ("model_framework", "task", "python_version", "include_gpu", "cuda_version")
    others = [f"{question}-{value}" for question, value in answers.items() if question not in named]
    return "-".join([answers["model_framework"], answers["task"], f"py{answers['python_version']}", gpu, *others])


def _rows() -> list[dict[str, str]]:
    questions = list(MATRIX_ANSWERS)
    every = (dict(zip(questions, values, strict=True)) for values in itertools.product(*MATRIX_ANSWERS.values()))
    return [answers for answers in every if supported(answers)]


MATRIX = [pytest.param(answers, id=matrix_id(answers)) for answers in _rows()]
