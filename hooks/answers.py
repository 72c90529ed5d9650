"""Jinja extension: the ``yes`` test, read as ``{% if cookiecutter.include_gpu is yes %}``.

``include_gpu`` is a text question, not a cookiecutter yes/no one, so that its
default can follow the framework (no for a framework without a GPU build);
its answer reaches the templates as a string ("yes", "no", "y", "false"...) or,
from a service's ``.cruft.json`` written while it was a yes/no question, as a
boolean.  A bare ``{% if %}`` would take "no" for true; this test reads every
spelling as cookiecutter's own yes/no questions do, and hooks/pre_gen_project.py
refuses any other answer before anything is written.
"""

from jinja2.ext import Extension

# The answers cookiecutter's yes/no questions take as yes (YesNoPrompt).
YES = frozenset({"1", "true", "t", "yes", "y", "on"})


def is_yes(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in YES)


class YesNoAnswers(Extension):
    def __init__(self, environment) -> None:
        super().__init__(environment)
        environment.tests["yes"] = is_yes
