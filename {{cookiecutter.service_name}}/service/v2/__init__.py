"""The Open Inference Protocol (KServe V2) under /v2: self-contained, it imports nothing from service.api."""

from service.v2.routes import PREFIX, blueprint, error_shape

__all__ = ["PREFIX", "blueprint", "error_shape"]
