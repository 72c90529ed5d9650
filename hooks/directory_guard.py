"""Jinja extension: refuse a service_name that is not one plain directory name.

hooks/pre_gen_project.py checks every answer, but cookiecutter creates the
project directory before it runs that hook and deletes only that directory
when the hook fails.  A name such as ``a/b`` or ``../x`` would leave ``a/`` (or
a sibling) behind.  This guard runs while the directory name is rendered,
before anything is created, so such a name leaves nothing at all.
(cookiecutter.json loads it through ``_extensions``; the rest of the answers
are left to the hook, which names the full rule.)
"""

from jinja2.exceptions import UndefinedError
from jinja2.ext import Extension

DIRECTORY_TEMPLATE = "{{cookiecutter.service_name}}"


def single_directory(name: str) -> str:
    if "/" in name or "\\" in name or name.strip() in ("", ".", ".."):
        raise UndefinedError(
            f"service_name={name!r} is invalid: it must be one directory name "
            "(lowercase letters and digits joined by single '.', '_' or '-'). Nothing was generated."
        )
    return name


class ServiceDirectoryGuard(Extension):
    def __init__(self, environment) -> None:
        super().__init__(environment)
        environment.filters["single_directory"] = single_directory

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        # Only the project directory's own name is rewritten.
        if source == DIRECTORY_TEMPLATE:
            return "{{ cookiecutter.service_name | single_directory }}"
        return source
