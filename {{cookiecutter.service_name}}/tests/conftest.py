"""Shared fixtures: a test client and a writable copy of the served model (helpers are in support/)."""

import shutil
from pathlib import Path

import pytest

from support.app import make_client
from support.model import MODEL, MODEL_FILES, TABLE

# The V2 form of the served model's inputs: one FP32 tensor of rows of numbers, or one input per
# column of a table of several types (a swapped-in model may take either); test the one it takes.
collect_ignore = ["test_v2_tensors.py"] if TABLE else ["test_v2_tables.py"]


@pytest.fixture
def client():
    return make_client()


@pytest.fixture
def model_copy(tmp_path) -> Path:
    """A writable copy of the served model and the files beside it."""
    for name in MODEL_FILES:
        if (MODEL.parent / name).exists():
            shutil.copy(MODEL.parent / name, tmp_path / name)
    return tmp_path / MODEL.name
