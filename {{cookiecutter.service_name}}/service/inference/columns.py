"""A model's named input columns, and the decoder of rows sent as objects of them.

A model takes either plain rows of numbers (the fast road: a float32 array,
as ``{"instances": [[5.1, 3.5, 1.4, 0.2]]}`` sends them) or a table of named
columns of several types, declared in ``metadata.json`` or inferred by the
adapter::

    "inputs": [{"name": "island", "type": "string", "enum": ["Biscoe", "Dream", "Torgersen"]},
               {"name": "bill_length_mm", "type": "number", "nullable": true, "minimum": 0}]

Rows sent as objects, ``{"instances": [{"island": "Biscoe", "bill_length_mm": 39.1}]}``,
are decoded here in the order of the columns, never in the order of the JSON
keys (MLflow's rule): into the float32 array of a plain numeric model, or
into an object array ``(n, n_columns)`` for a table (numbers as floats, a
``null`` as NaN, as pandas reads a missing value), which the adapter turns
into what its model takes.  Every problem is a ``RowError`` naming the field
and the rule, e.g. ``instances[2].island: 'Atlantis' is not one of Biscoe, Dream, Torgersen``.
The Open Inference Protocol sends a table one column at a time
(service/v2/tables.py): ``decode_columns`` applies the same checks to it.
"""

import math

import numpy as np

from service.inference.contract import FLOAT32_MAX, Column, Value, is_type, numeric


class RowError(ValueError):
    """A row that does not fit the columns; the message names the field and the rule."""


def _shown(value: object) -> str:
    """A value as the client wrote it (JSON's null, true, false), cut short."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _decoded(value: object, column: Column, where: str) -> Value:
    """One JSON value checked against its column; null becomes NaN."""
    if value is None:
        if not column.nullable:
            raise RowError(f"{where}: null is not allowed")
        return math.nan
    article = "an" if column.type == "integer" else "a"
    if not is_type(value, column.type):
        raise RowError(f"{where}: {_shown(value)} is not {article} {column.type}")
    if column.type in ("number", "integer"):
        number = float(value)
        if not math.isfinite(number) or abs(number) > FLOAT32_MAX:
            raise RowError(f"{where}: {_shown(value)} is not a finite number within float32's range (±3.4e38)")
        if column.minimum is not None and number < column.minimum:
            raise RowError(f"{where}: {_shown(value)} is less than the minimum {column.minimum:g}")
        if column.maximum is not None and number > column.maximum:
            raise RowError(f"{where}: {_shown(value)} is more than the maximum {column.maximum:g}")
        value = number
    if column.enum is not None and value not in column.enum:
        raise RowError(f"{where}: {_shown(value)} is not one of {', '.join(str(v) for v in column.enum)}")
    return value


def decode_rows(rows: list[dict], columns: tuple[Column, ...], field: str = "instances") -> np.ndarray:
    """Rows as objects -> the model's input, in the columns' order.

    ``field`` names the rows in errors: ``instances`` (``instances[2].island``)
    or ``instance`` (one row: ``instance.island``).
    """
    names = {column.name for column in columns}
    table = []
    for index, row in enumerate(rows):
        where = f"{field}[{index}]" if field == "instances" else field
        for name in row:
            if name not in names:
                raise RowError(f"{where}: unknown column {_shown(name)}")
        decoded = []
        for column in columns:
            if column.name not in row:
                raise RowError(f"{where}: missing column {column.name!r}")
            decoded.append(_decoded(row[column.name], column, f"{where}.{column.name}"))
        table.append(decoded)
    if numeric(columns):
        return np.asarray(table, dtype=np.float32)
    return np.asarray(table, dtype=object).reshape(len(table), len(columns))


def decode_columns(values: dict[str, list], columns: tuple[Column, ...], where: dict[str, str]) -> np.ndarray:
    """Columns sent one by one (V2's one input per column) -> the model's object array, in the columns' order.

    ``values`` holds each column's values, all of one length; ``where``
    names each column in errors, e.g. ``input 'island'`` (then
    ``input 'island': element 2: 'Atlantis' is not one of ...``).
    """
    table = np.empty((len(values[columns[0].name]), len(columns)), dtype=object)
    for index, column in enumerate(columns):
        name = where[column.name]
        table[:, index] = [
            _decoded(value, column, f"{name}: element {row}") for row, value in enumerate(values[column.name])
        ]
    return table


def sample_row(columns: tuple[Column, ...]) -> np.ndarray:
    """One valid row of the model's input: the warm-up prediction's."""
    if numeric(columns):
        return np.zeros((1, len(columns)), dtype=np.float32)
    return np.asarray(
        [[float(c.sample()) if c.type in ("number", "integer") else c.sample() for c in columns]], dtype=object
    )
