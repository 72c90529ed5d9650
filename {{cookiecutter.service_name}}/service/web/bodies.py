"""Request bodies, read once and within MAX_BODY_BYTES, and their Content-Type, for both APIs."""

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from service.web.errors import ApiError

JSON = "application/json"
# Content-Type values that are UTF-8 JSON as they stand: what nearly every client sends.
PLAIN_JSON = frozenset((JSON, "application/json; charset=utf-8", "application/json; charset=UTF-8"))


def read_body(limit: int) -> bytes:
    """The request body; 413 if it is over ``limit`` bytes."""
    if request.content_length is not None:
        return request.get_data(cache=False)  # a Content-Length over the limit got 413 unread
    # Chunked: no length up front, and werkzeug would silently cut the body at
    # the limit (then "invalid JSON"); read one byte more to tell.
    body = request.environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge()
    return body


def check_content_type(accepted: tuple[str | None, ...] = (JSON,)) -> None:
    """415 unless the body is one of the ``accepted`` media types (None: no Content-Type), unencoded, JSON in UTF-8."""
    if request.content_type in PLAIN_JSON and JSON in accepted and request.content_encoding is None:
        return
    mimetype = request.mimetype or None
    if mimetype not in accepted:
        raise ApiError(415, "unsupported_media_type", f"Content-Type must be {JSON}, got {mimetype or 'none'!r}")
    if mimetype == JSON:
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise ApiError(415, "unsupported_media_type", f"JSON must be UTF-8, got charset={charset!r}")
    if request.content_encoding not in (None, "identity"):
        raise ApiError(415, "unsupported_media_type", f"Content-Encoding {request.content_encoding!r} is not supported")
