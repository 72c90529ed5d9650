"""Check a KServe InferenceService against the KServe Python SDK's own models.

KServe publishes its CRD schema only in its source tree and release assets;
no installable package ships it.  The `kserve` package on PyPI does ship the
models generated from the same OpenAPI definitions (kserve.models, with the
Kubernetes core types from the `kubernetes` client), and every generated
model lists its fields and their types (`openapi_types`, `attribute_map`) and
refuses a missing required field in its constructor.  `check` walks a
manifest through them: every key must be a field of its type, every value of
that field's type, and every required field present.  What that does not
cover of the CRD: its enum and pattern constraints, and defaults.
"""

import importlib.metadata
import re

import kserve.models
import kubernetes.client.models

KSERVE_VERSION = importlib.metadata.version("kserve")
MODULES = (kserve.models, kubernetes.client.models)
PRIMITIVES = {"str": (str,), "int": (int,), "bool": (bool,), "float": (int, float), "object": (object,)}
# Quantities ("500m", "2Gi", 1) and int-or-string ports are either type.
QUANTITY = (str, int)


class SchemaError(AssertionError):
    pass


def model_class(type_name: str):
    for module in MODULES:
        if hasattr(module, type_name):
            return getattr(module, type_name)
    raise SchemaError(f"no model {type_name} in kserve {KSERVE_VERSION} or the kubernetes client")


def build(value, type_name: str, path: str):
    """The SDK object for `value` read as `type_name`; SchemaError where it does not fit."""
    if match := re.fullmatch(r"[lL]ist\[(.+)\]", type_name):
        if not isinstance(value, list):
            raise SchemaError(f"{path}: expected a list, got {value!r}")
        return [build(item, match[1], f"{path}[{index}]") for index, item in enumerate(value)]
    if match := re.fullmatch(r"dict\(str, (.+)\)|Dict\[str, (.+)\]", type_name):
        if not isinstance(value, dict):
            raise SchemaError(f"{path}: expected a mapping, got {value!r}")
        item_type = match[1] or match[2]
        return {key: build(item, item_type, f"{path}.{key}") for key, item in value.items()}
    if type_name in PRIMITIVES or type_name == "ResourceQuantity":
        allowed = PRIMITIVES.get(type_name, QUANTITY)
        if not isinstance(value, allowed) or (type_name == "int" and isinstance(value, bool)):
            raise SchemaError(f"{path}: expected {type_name}, got {value!r}")
        return value
    cls = model_class(type_name)
    if not isinstance(value, dict):
        raise SchemaError(f"{path}: expected a {type_name} mapping, got {value!r}")
    fields = {key: attribute for attribute, key in cls.attribute_map.items()}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise SchemaError(f"{path}: {type_name} has no field {', '.join(unknown)}")
    arguments = {
        fields[key]: build(item, cls.openapi_types[fields[key]], f"{path}.{key}") for key, item in value.items()
    }
    try:
        return cls(**arguments)
    except ValueError as error:  # a required field missing, or a value out of its enum
        raise SchemaError(f"{path}: {error}") from None


def check(manifest: dict):
    """The V1beta1InferenceService the manifest describes (SchemaError if it does not fit)."""
    return build(manifest, "V1beta1InferenceService", manifest.get("metadata", {}).get("name", "InferenceService"))
