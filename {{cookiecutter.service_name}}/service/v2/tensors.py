"""Open Inference Protocol tensors to and from numpy: JSON ``data`` and Triton's binary extension.

The binary tensor data extension (Triton's, which V2 clients such as
tritonclient use by default): the body is the JSON request, whose length in
bytes is the ``Inference-Header-Content-Length`` header, followed by the raw
bytes of every input whose parameters give ``binary_data_size``, in the
order of ``inputs``; elements are little-endian, row-major.  Responses do the
same for the outputs asked for in binary (``binary_data_output`` on the
request, ``binary_data`` on one output).

Every number is cast to the model's input type, float32, after checking it is
finite and within float32's range: FP64, INT32, INT64 and the other numeric
types are accepted, and large INT64 values lose precision as float32 does.
Any problem is a 400 naming the input.
"""

import math

import numpy as np

from service.inference.contract import FLOAT32_MAX, TensorSpec
from service.v2.schemas import V2InferInput
from service.web.errors import ApiError

HEADER_LENGTH = "Inference-Header-Content-Length"
# V2 datatype -> numpy dtype, little-endian as the binary extension lays them out.
NUMERIC = {
    "FP16": "<f2", "FP32": "<f4", "FP64": "<f8",
    "INT8": "i1", "INT16": "<i2", "INT32": "<i4", "INT64": "<i8",
    "UINT8": "u1", "UINT16": "<u2", "UINT32": "<u4", "UINT64": "<u8",
}  # fmt: skip
JSON_NUMBERS = {"f": (int, float), "i": (int,), "u": (int,)}


def bad_input(message: str) -> ApiError:
    return ApiError(400, "invalid_tensor", message)


def split_body(body: bytes, header_length: str | None) -> tuple[bytes, memoryview]:
    """The JSON part of the body and the binary part after it (empty without the extension)."""
    if header_length is None:
        return body, memoryview(b"")
    if not header_length.isdigit() or int(header_length) > len(body):
        raise bad_input(f"{HEADER_LENGTH}: {header_length!r} is not a byte count within the body ({len(body)} bytes)")
    length = int(header_length)
    return body[:length], memoryview(body)[length:]


def flatten(data: list) -> list:
    """Nested lists, in row-major order, as one flat list (iterative: no recursion limit)."""
    flat: list = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            flat.append(item)
        else:
            stack.pop()
    return flat


def check_fits(tensor: V2InferInput, spec: TensorSpec) -> int:
    """Check the datatype and shape against the model's input; the number of elements."""
    name = tensor.name
    if tensor.datatype not in NUMERIC:
        raise bad_input(
            f"input {name!r}: datatype {tensor.datatype} is not accepted: the model takes numbers "
            f"({spec.datatype}); send FP32, FP64, INT32 or INT64"
        )
    fits = len(tensor.shape) == len(spec.shape) and all(
        want in (-1, got) for want, got in zip(spec.shape, tensor.shape, strict=True)
    )
    if not fits:
        raise bad_input(f"input {name!r}: shape {tensor.shape} does not fit the model's {list(spec.shape)} (-1: any)")
    return math.prod(tensor.shape)


def json_values(tensor: V2InferInput, count: int) -> np.ndarray:
    flat = flatten(tensor.data)
    if len(flat) != count:
        raise bad_input(f"input {tensor.name!r}: {len(flat)} elements in data, shape {tensor.shape} needs {count}")
    dtype = np.dtype(NUMERIC[tensor.datatype])
    allowed = JSON_NUMBERS[dtype.kind]
    for index, value in enumerate(flat):
        if type(value) not in allowed:  # bool is an int subclass: refused by the exact type check
            raise bad_input(f"input {tensor.name!r}: element {index} ({value!r}) is not a {tensor.datatype} value")
    if dtype.kind == "f":
        return np.array(flat, dtype=np.float64)
    bounds = np.iinfo(dtype)
    if not all(bounds.min <= value <= bounds.max for value in flat):
        raise bad_input(f"input {tensor.name!r}: an element is outside {tensor.datatype}'s range")
    return np.array(flat, dtype=dtype)


def binary_values(tensor: V2InferInput, count: int, size, binary: memoryview, offset: int) -> np.ndarray:
    raw = binary_part(tensor, size, binary, offset)
    dtype = np.dtype(NUMERIC[tensor.datatype])
    if size != count * dtype.itemsize:
        raise bad_input(
            f"input {tensor.name!r}: binary_data_size is {size} bytes, but {count} {tensor.datatype} elements "
            f"take {count * dtype.itemsize}"
        )
    return np.frombuffer(raw, dtype=dtype)


def binary_part(tensor: V2InferInput, size, binary: memoryview, offset: int) -> memoryview:
    """The ``size`` bytes of this input in the binary part, after checking the parameter and the body."""
    name = tensor.name
    if type(size) is not int or size < 0:
        raise bad_input(f"input {name!r}: parameter binary_data_size must be a byte count, got {size!r}")
    if tensor.data is not None:
        raise bad_input(f"input {name!r}: give data or binary_data_size, not both")
    if offset + size > len(binary):
        raise bad_input(f"input {name!r}: binary_data_size {size} runs past the end of the body")
    return binary[offset : offset + size]


def bytes_elements(raw: memoryview, count: int, name: str) -> list[bytes]:
    """A BYTES tensor in the binary extension: each element a 4-byte little-endian length, then its bytes."""
    elements, at = [], 0
    while at < len(raw):
        if at + 4 > len(raw):
            raise bad_input(f"input {name!r}: element {len(elements)}'s 4-byte length is cut short")
        length = int.from_bytes(raw[at : at + 4], "little")
        if at + 4 + length > len(raw):
            raise bad_input(f"input {name!r}: element {len(elements)} runs past binary_data_size ({length} bytes)")
        elements.append(bytes(raw[at + 4 : at + 4 + length]))
        at += 4 + length
    if len(elements) != count:
        raise bad_input(f"input {name!r}: {len(elements)} BYTES elements in binary, its shape needs {count}")
    return elements


def read_input(tensor: V2InferInput, spec: TensorSpec, binary: memoryview, offset: int) -> tuple[np.ndarray, int]:
    """The input as the model's float32 array, and the offset of the next binary input."""
    count = check_fits(tensor, spec)
    size = (tensor.parameters or {}).get("binary_data_size")
    if size is not None:
        values = binary_values(tensor, count, size, binary, offset)
        offset += size
    elif tensor.data is None:
        raise bad_input(f"input {tensor.name!r}: no data (give data, or binary_data_size and the bytes)")
    else:
        values = json_values(tensor, count)
    wide = values.astype(np.float64)
    if not np.isfinite(wide).all():
        raise bad_input(f"input {tensor.name!r}: element {int(np.isfinite(wide).argmin())} is NaN or infinite")
    if (np.abs(wide) > FLOAT32_MAX).any():
        raise bad_input(f"input {tensor.name!r}: an element is outside float32's range (±3.4e38), the model's type")
    return wide.astype(np.float32).reshape(tensor.shape), offset


def output_tensor(spec: TensorSpec, values: np.ndarray, binary: bool) -> tuple[dict, bytes]:
    """One response output, and its raw bytes when it travels in binary (else b"")."""
    array = np.ascontiguousarray(values, dtype=NUMERIC[spec.datatype])
    tensor: dict = {"name": spec.name, "datatype": spec.datatype, "shape": list(array.shape)}
    if binary:
        raw = array.tobytes()
        tensor["parameters"] = {"binary_data_size": len(raw)}
        return tensor, raw
    tensor["data"] = array.ravel().tolist()
    return tensor, b""
