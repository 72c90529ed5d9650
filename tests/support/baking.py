"""Baking the template with pytest-cookies' ``cookies`` fixture, failing on any error."""

from pathlib import Path


def bake_ok(cookies, **answers) -> Path:
    result = cookies.bake(extra_context=answers)
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    return result.project_path
