"""Rows sent as objects of named columns (service/inference/columns.py): decoded in the columns' order, or refused by name."""

import math

import numpy as np
import pytest
from pydantic import ValidationError

from service.inference.columns import RowError, decode_rows, sample_row
from service.inference.contract import Column

PENGUIN = (
    Column(name="island", type="string", enum=("Biscoe", "Dream", "Torgersen")),
    Column(name="bill_length_mm", type="number", nullable=True, minimum=0),
    Column(name="year", type="integer", maximum=2030),
    Column(name="sex", type="string", nullable=True),
    Column(name="tagged", type="boolean"),
)
GOOD = {"island": "Biscoe", "bill_length_mm": 39.1, "year": 2007, "sex": None, "tagged": True}


def test_rows_follow_the_columns_order_not_the_keys_order():
    shuffled = dict(reversed(list(GOOD.items())))
    table = decode_rows([GOOD, shuffled], PENGUIN)
    assert table.dtype == object and table.shape == (2, 5)
    assert table[0].tolist()[:3] == table[1].tolist()[:3] == ["Biscoe", 39.1, 2007.0]
    assert math.isnan(table[1][3]) and table[1][4] is True  # null -> NaN, as pandas reads a missing value


def test_plain_numbers_decode_to_the_float32_array_positional_rows_give():
    columns = (Column(name="a"), Column(name="b"))
    batch = decode_rows([{"b": 2, "a": 1.5}], columns)
    assert batch.dtype == np.float32
    np.testing.assert_array_equal(batch, [[1.5, 2.0]])


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [GOOD, GOOD, GOOD | {"island": "Atlantis"}],
            "instances[2].island: 'Atlantis' is not one of Biscoe, Dream, Torgersen",
        ),
        ([{k: v for k, v in GOOD.items() if k != "sex"}], "instances[0]: missing column 'sex'"),
        ([GOOD | {"colour": "red"}], "instances[0]: unknown column 'colour'"),
        ([GOOD, GOOD | {"year": None}], "instances[1].year: null is not allowed"),
        ([GOOD | {"island": 3}], "instances[0].island: 3 is not a string"),
        ([GOOD | {"bill_length_mm": "39"}], "instances[0].bill_length_mm: '39' is not a number"),
        ([GOOD | {"bill_length_mm": True}], "instances[0].bill_length_mm: true is not a number"),
        ([GOOD | {"bill_length_mm": [39.1]}], "instances[0].bill_length_mm: [39.1] is not a number"),
        ([GOOD | {"bill_length_mm": -1}], "instances[0].bill_length_mm: -1 is less than the minimum 0"),
        ([GOOD | {"bill_length_mm": float("nan")}], "instances[0].bill_length_mm: nan is not a finite number"),
        (
            [GOOD | {"bill_length_mm": 1e39}],
            "instances[0].bill_length_mm: 1e+39 is not a finite number within float32's",
        ),
        ([GOOD | {"year": 2007.5}], "instances[0].year: 2007.5 is not an integer"),
        ([GOOD | {"year": 2031}], "instances[0].year: 2031 is more than the maximum 2030"),
        ([GOOD | {"tagged": 1}], "instances[0].tagged: 1 is not a boolean"),
    ],
    ids=lambda value: value[:40] if isinstance(value, str) else None,
)
def test_a_row_that_does_not_fit_names_the_field_and_the_rule(rows, message):
    with pytest.raises(RowError) as error:
        decode_rows(rows, PENGUIN)
    assert str(error.value).startswith(message), str(error.value)


def test_one_instance_is_named_instance():
    with pytest.raises(RowError, match=r"^instance: missing column 'island'$"):
        decode_rows([{}], PENGUIN, field="instance")


def test_the_warm_up_row_fits_its_columns():
    assert decode_rows(
        [dict(zip([c.name for c in PENGUIN], sample_row(PENGUIN)[0].tolist(), strict=True))], PENGUIN
    ).shape == (1, 5)
    assert sample_row((Column(name="a"),)).dtype == np.float32


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ({"name": "a", "type": "string", "minimum": 0}, "minimum and maximum are for number and integer columns"),
        ({"name": "a", "type": "integer", "enum": ["x"]}, "enum value 'x' is not an integer"),
        ({"name": "a", "type": "text"}, "Input should be 'number', 'integer', 'string' or 'boolean'"),
        ({"name": ""}, "at least 1 character"),
    ],
)
def test_a_column_that_contradicts_itself_is_refused(column, message):
    with pytest.raises(ValidationError, match=message):
        Column.model_validate(column)
