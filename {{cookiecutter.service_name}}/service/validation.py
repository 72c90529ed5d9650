"""pydantic's validation errors as the one line a person reads.

Used wherever input is validated: the settings (an environment variable),
metadata.json, and the request bodies of both APIs.
"""

from collections.abc import Callable

from pydantic import ValidationError


def location(loc: tuple) -> str:
    """('instances', 2, 1) -> 'instances[2][1]'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def problems(error: ValidationError, messages: dict[str, str] | None = None) -> list[dict]:
    """Each problem as {loc, msg, type}; ``messages`` replaces pydantic's message for an error type."""
    messages = messages or {}
    return [
        {"loc": location(e["loc"]), "msg": messages.get(e["type"], e["msg"]), "type": e["type"]}
        for e in error.errors(include_url=False, include_input=False, include_context=False)
    ]


def one_line(
    error: ValidationError,
    name: Callable[[dict], str] | None = None,
    every: bool = False,
    messages: dict[str, str] | None = None,
) -> str:
    """The first problem as "<where>: <message>" and how many more there are, or ``every`` one, "; "-joined.

    ``name`` turns pydantic's error dict into the place to show (default: the
    position, e.g. ``instances[2][1]``); ``messages`` as for ``problems``.
    """
    messages = messages or {}
    errors = error.errors(include_url=False)
    shown = [
        f"{name(e) if name else location(e['loc'])}: {messages.get(e['type'], e['msg'])}"
        for e in (errors if every else errors[:1])
    ]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 and not every else ""
    return "; ".join(shown) + more
