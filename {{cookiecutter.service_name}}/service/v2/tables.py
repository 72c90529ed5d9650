"""V2 inputs of a model of named columns of several types: one input per column.

This is how MLServer's and KServe's ``pd`` content type send a pandas table:
each column is an input named as the column, of shape ``[n]`` or ``[n, 1]``,
in a datatype that fits the column's type (``GET /v2/models/{name}`` lists
each input's):

* string: ``BYTES``. In JSON, strings (``content_type`` ``str``, the default)
  or their base64 (``content_type`` ``base64``); in the binary extension,
  each element's 4-byte little-endian length, then its UTF-8 bytes.
* boolean: ``BOOL``. In JSON, ``true``/``false``; in binary, one byte each (0 or 1).
* number, integer: any numeric datatype (integers must be whole).  In
  binary, a NaN stands for a missing value where the column may be null.

The request's ``parameters.content_type`` may say ``pd``; it need not.  The
protocol has no null of its own: a ``null`` in ``data`` is a missing value,
allowed only where the column is nullable.  The values then pass the same
checks as rows sent to ``/predict`` (service/inference/columns.py), so one
rule answers both APIs, e.g. ``input 'island': element 2: 'Atlantis' is not
one of Biscoe, Dream, Torgersen``.
"""

import base64
import binascii
import math

import numpy as np

from service.inference.columns import RowError, decode_columns
from service.inference.contract import Column
from service.v2.schemas import V2InferInput, V2InferRequest
from service.v2.tensors import JSON_NUMBERS, NUMERIC, bad_input, binary_part, binary_values, bytes_elements, flatten
from service.web.errors import ApiError

# The datatypes a client may send for a column of each type.
ACCEPTED = {"string": ("BYTES",), "boolean": ("BOOL",), "number": tuple(NUMERIC), "integer": tuple(NUMERIC)}
# How a BYTES input's JSON strings carry the text (MLServer's content types).
TEXT_ENCODINGS = ("str", "base64")


def read_table(infer_request: V2InferRequest, columns: tuple[Column, ...], binary: memoryview) -> np.ndarray:
    """The model's object array ``(n, n_columns)`` from one input per column (binary ones consumed in order)."""
    content_type = (infer_request.parameters or {}).get("content_type", "pd")
    if content_type != "pd":
        raise ApiError(
            400,
            "invalid_request",
            f"parameter content_type {content_type!r}: this model takes a table, one input per column ('pd')",
        )
    by_name = {column.name: column for column in columns}
    values: dict[str, list] = {}
    offset = 0
    for tensor in infer_request.inputs:
        column = by_name.get(tensor.name)
        if column is None:
            raise ApiError(
                400,
                "unknown_input",
                f"unknown input {tensor.name!r}; the model takes one input per column: {', '.join(by_name)}",
            )
        if tensor.name in values:
            raise ApiError(400, "duplicate_input", f"input {tensor.name!r} is given twice")
        values[tensor.name], offset = column_values(tensor, column, binary, offset)
    missing = [name for name in by_name if name not in values]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise ApiError(
            400, "missing_input", f"missing input {missing[0]!r}{more}: the model takes one input per column"
        )
    if offset != len(binary):
        raise bad_input(f"{len(binary) - offset} bytes of binary data belong to no input")
    lengths = {name: len(column) for name, column in values.items()}
    if len(set(lengths.values())) > 1:
        sizes = ", ".join(f"{name!r} has {length}" for name, length in lengths.items())
        raise bad_input(f"the inputs are the columns of one table, so of one length: {sizes}")
    try:
        return decode_columns(values, columns, {name: f"input {name!r}" for name in by_name})
    except RowError as error:
        raise bad_input(str(error)) from None


def column_values(tensor: V2InferInput, column: Column, binary: memoryview, offset: int) -> tuple[list, int]:
    """One column's values as JSON would spell them (None for null), and the offset of the next binary input."""
    name, datatype = tensor.name, tensor.datatype
    if datatype not in ACCEPTED[column.type]:
        wanted = column.v2_datatype if column.type in ("string", "boolean") else f"a numeric one ({column.v2_datatype})"
        raise bad_input(
            f"input {name!r}: datatype {datatype} is not accepted for a {column.type} column; send {wanted}"
        )
    if not (len(tensor.shape) == 1 or (len(tensor.shape) == 2 and tensor.shape[1] == 1)):
        raise bad_input(f"input {name!r}: shape {tensor.shape} is not a column: give [n] or [n, 1]")
    count = tensor.shape[0]
    parameters = tensor.parameters or {}
    encoding = parameters.get("content_type", "str")
    if datatype == "BYTES" and encoding not in TEXT_ENCODINGS:
        raise bad_input(f"input {name!r}: content_type {encoding!r} is not one of {', '.join(TEXT_ENCODINGS)}")
    size = parameters.get("binary_data_size")
    if size is not None:
        return _binary(tensor, column, count, size, binary, offset), offset + size
    if tensor.data is None:
        raise bad_input(f"input {name!r}: no data (give data, or binary_data_size and the bytes)")
    flat = flatten(tensor.data)
    if len(flat) != count:
        raise bad_input(f"input {name!r}: {len(flat)} elements in data, shape {tensor.shape} needs {count}")
    if datatype == "BYTES":
        allowed: tuple[type, ...] = (str,)
    elif datatype == "BOOL":
        allowed = (bool,)
    else:
        allowed = JSON_NUMBERS[np.dtype(NUMERIC[datatype]).kind]
    for index, value in enumerate(flat):
        if value is not None and type(value) not in allowed:  # exact types: true is no INT64
            raise bad_input(f"input {name!r}: element {index} ({value!r}) is not a {datatype} value")
    if datatype == "BYTES" and encoding == "base64":
        return [
            None if value is None else _text(_unbase64(value, name, index), name, index)
            for index, value in enumerate(flat)
        ], offset
    return flat, offset


def _binary(tensor: V2InferInput, column: Column, count: int, size, binary: memoryview, offset: int) -> list:
    name = tensor.name
    if tensor.datatype == "BYTES":
        elements = bytes_elements(binary_part(tensor, size, binary, offset), count, name)
        return [_text(element, name, index) for index, element in enumerate(elements)]
    if tensor.datatype == "BOOL":
        raw = np.frombuffer(binary_part(tensor, size, binary, offset), dtype=np.uint8)
        if len(raw) != count:
            raise bad_input(f"input {name!r}: binary_data_size is {size} bytes, but {count} BOOL elements take {count}")
        if (raw > 1).any():
            raise bad_input(f"input {name!r}: element {int((raw > 1).argmax())} is not a BOOL (0 or 1)")
        return raw.astype(bool).tolist()
    values = binary_values(tensor, count, size, binary, offset).tolist()
    if column.nullable:  # the binary form's missing value
        return [None if isinstance(value, float) and math.isnan(value) else value for value in values]
    return values


def _unbase64(value: str, name: str, index: int) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise bad_input(f"input {name!r}: element {index} is not valid base64") from None


def _text(raw: bytes, name: str, index: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_input(f"input {name!r}: element {index} is not UTF-8 text") from None
