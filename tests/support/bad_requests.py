"""A catalogue of bad requests for the generated service, as raw bytes.

Each is sent on its own connection to a real gunicorn (test_robustness.py,
test_security.py) and must get ``status`` with a message naming the problem:
the app's JSON error (``code`` and a part of its message), or, for what
gunicorn's HTTP parser refuses before the app runs (``code`` None), gunicorn's
own small text/html page holding ``message``.  None may reach the model.
"""

from dataclasses import dataclass

from support.service import request_bytes

SETOSA = b"[5.1, 3.5, 1.4, 0.2]"


@dataclass(frozen=True)
class Bad:
    id: str
    data: bytes
    status: int
    code: str | None  # None: refused by gunicorn, not the app
    message: str
    method: str = "POST"


def post(body: bytes, content_type: str | None = "application/json", headers=()) -> bytes:
    return request_bytes("POST", "/predict", body, content_type, headers)


def bad_json(id: str, body: bytes, code: str, message: str, status: int = 400) -> Bad:
    return Bad(id, post(body), status, code, message)


def instance(*features: bytes) -> bytes:
    return b'{"instance": [' + b", ".join(features) + b"]}"


NOT_FINITE = "Input should be a finite number"
NOT_JSON = "request body is not valid JSON"
TOO_BIG = "request body exceeds the limit of 1048576 bytes"
INCOMPLETE_HEAD = (
    b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
)

CATALOGUE = [
    # Not JSON, or not the JSON expected.
    bad_json("malformed-json", b'{"instances": [[5.1, 3.5,, 1.4]]}', "malformed_json", NOT_JSON),
    bad_json("truncated-json", b'{"instances": [[5.1, 3.5', "malformed_json", "EOF while parsing"),
    bad_json("empty-body", b"", "malformed_json", NOT_JSON),
    bad_json("json-array", b"[" + SETOSA + b"]", "invalid_request", "body: Input should be an object"),
    bad_json("json-string", b'"5.1, 3.5, 1.4, 0.2"', "invalid_request", "body: Input should be an object"),
    bad_json("json-null", b"null", "invalid_request", "body: Input should be an object"),
    bad_json("json-number", b"42", "invalid_request", "body: Input should be an object"),
    bad_json("invalid-utf8", b'{"instance": ' + SETOSA + b', "\xff\xfe": 1}', "malformed_json", NOT_JSON),
    # Fields.
    bad_json("no-field", b"{}", "invalid_request", "give exactly one of 'instances'"),
    bad_json("both-fields", b'{"instances": [' + SETOSA + b'], "instance": ' + SETOSA + b"}", "invalid_request", "exactly one of"),
    bad_json("extra-field", b'{"instance": ' + SETOSA + b', "debug": true}', "invalid_request", "debug: Extra inputs are not permitted"),
    bad_json("misspelled-field", b'{"instanse": ' + SETOSA + b"}", "invalid_request", "instanse: Extra inputs"),
    # Types.
    bad_json("instance-is-string", b'{"instance": "5.1,3.5,1.4,0.2"}', "invalid_request", "instance: Input should be a valid array"),
    bad_json("strings-for-numbers", instance(b'"5.1"', b'"3.5"', b'"1.4"', b'"0.2"'), "invalid_request", "instance[0]: Input should be a valid number"),
    bad_json("boolean", instance(b"5.1", b"true", b"1.4", b"0.2"), "invalid_request", "instance[1]: Input should be a valid number"),
    bad_json("null-feature", instance(b"5.1", b"3.5", b"null", b"0.2"), "invalid_request", "instance[2]: Input should be a valid number"),
    bad_json("nested-list", b'{"instances": [[[5.1], 3.5, 1.4, 0.2]]}', "invalid_request", "instances[0][0]: Input should be a valid number"),
    bad_json("flat-batch", b'{"instances": ' + SETOSA + b"}", "invalid_request", "instances[0]: Input should be a valid array"),
    bad_json("object-feature", instance(b'{"v": 5.1}', b"3.5", b"1.4", b"0.2"), "invalid_request", "instance[0]: Input should be a valid number"),
    # Shapes.
    bad_json("three-features", instance(b"5.1", b"3.5", b"1.4"), "wrong_feature_count", "instance: expected 4 features, got 3"),
    bad_json("five-features-in-batch", b'{"instances": [' + SETOSA + b", [1, 2, 3, 4, 5]]}", "wrong_feature_count", "instances[1]: expected 4 features, got 5"),
    bad_json("no-features", b'{"instance": []}', "wrong_feature_count", "expected 4 features, got 0"),
    bad_json("empty-batch", b'{"instances": []}', "invalid_request", "instances: List should have at least 1 item"),
    bad_json("batch-over-maximum", b'{"instances": [' + b", ".join([SETOSA] * 257) + b"]}", "batch_too_large", "instances: batch of 257 exceeds the maximum of 256", 413),
    # NaN and Infinity in every spelling, and numbers beyond float32 or float64.
    bad_json("NaN", instance(b"NaN", b"3.5", b"1.4", b"0.2"), "invalid_request", f"instance[0]: {NOT_FINITE}"),
    bad_json("Infinity", instance(b"5.1", b"Infinity", b"1.4", b"0.2"), "invalid_request", f"instance[1]: {NOT_FINITE}"),
    bad_json("-Infinity", instance(b"5.1", b"3.5", b"-Infinity", b"0.2"), "invalid_request", f"instance[2]: {NOT_FINITE}"),
    bad_json("nan", instance(b"nan", b"3.5", b"1.4", b"0.2"), "malformed_json", NOT_JSON),
    bad_json("inf", instance(b"inf", b"3.5", b"1.4", b"0.2"), "malformed_json", NOT_JSON),
    bad_json("-inf", instance(b"-inf", b"3.5", b"1.4", b"0.2"), "malformed_json", NOT_JSON),
    bad_json("+Infinity", instance(b"+Infinity", b"3.5", b"1.4", b"0.2"), "malformed_json", NOT_JSON),
    bad_json("NaN-as-string", instance(b'"NaN"', b"3.5", b"1.4", b"0.2"), "invalid_request", "instance[0]: Input should be a valid number"),
    bad_json("1e400", instance(b"5.1", b"3.5", b"1.4", b"1e400"), "invalid_request", f"instance[3]: {NOT_FINITE}"),
    bad_json("-1E+400", instance(b"-1E+400", b"3.5", b"1.4", b"0.2"), "invalid_request", f"instance[0]: {NOT_FINITE}"),
    bad_json("400-digit-integer", instance(b"1" + b"0" * 400, b"3.5", b"1.4", b"0.2"), "invalid_request", f"instance[0]: {NOT_FINITE}"),
    bad_json("over-float32", b'{"instances": [' + SETOSA + b", [1, 1e39, 1, 1]]}", "invalid_request", "instances[1][1]: Input should be within float32's range"),
    bad_json("under-float32", instance(b"-3.5e38", b"3.5", b"1.4", b"0.2"), "invalid_request", "instance[0]: Input should be within float32's range"),
    # Deep nesting (parser recursion limit), and bodies over MAX_BODY_BYTES.
    bad_json("deep-list", b'{"instance": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "malformed_json", "recursion limit exceeded"),
    bad_json("deep-object", b'{"a": ' * 20_000 + b"1" + b"}" * 20_000, "malformed_json", "recursion limit exceeded"),
    # Content-Length of 100 MB, 6 bytes sent: the 413 comes before the body.
    Bad("huge-content-length", INCOMPLETE_HEAD + b'{"inst', 413, "request_entity_too_large", TOO_BIG),
    Bad(
        "chunked-over-limit",
        b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n" % (1_100_000 + 16)
        + b'{"instance": "'
        + b"a" * 1_100_000
        + b'"}\r\n0\r\n\r\n',
        413,
        "request_entity_too_large",
        TOO_BIG,
    ),
    # Content types and charsets.
    Bad("no-content-type", post(instance(b"5.1", b"3.5", b"1.4", b"0.2"), content_type=None), 415, "unsupported_media_type", "Content-Type must be application/json, got 'none'"),
    Bad("text-plain", post(b'{"instance": ' + SETOSA + b"}", "text/plain"), 415, "unsupported_media_type", "got 'text/plain'"),
    Bad("form-urlencoded", post(b"instance=5.1&instance=3.5", "application/x-www-form-urlencoded"), 415, "unsupported_media_type", "got 'application/x-www-form-urlencoded'"),
    Bad("multipart", post(b'--x\r\nContent-Disposition: form-data; name="instance"\r\n\r\n5.1\r\n--x--\r\n', "multipart/form-data; boundary=x"), 415, "unsupported_media_type", "got 'multipart/form-data'"),
    Bad("json-suffix-type", post(b'{"instance": ' + SETOSA + b"}", "application/merge-patch+json"), 415, "unsupported_media_type", "got 'application/merge-patch+json'"),
    Bad("charset-latin-1", post(b'{"instance": ' + SETOSA + b"}", "application/json; charset=latin-1"), 415, "unsupported_media_type", "JSON must be UTF-8, got charset='latin-1'"),
    Bad("charset-utf-16", post('{"instance": [5.1, 3.5, 1.4, 0.2]}'.encode("utf-16"), "application/json; charset=utf-16"), 415, "unsupported_media_type", "got charset='utf-16'"),
    # Routes and methods.
    Bad("unknown-route", request_bytes("GET", "/predictions", content_type=None), 404, "not_found", "no such route", "GET"),
    Bad("trailing-slash", request_bytes("POST", "/predict/", b'{"instance": ' + SETOSA + b"}"), 404, "not_found", "no such route"),
    Bad("get-predict", request_bytes("GET", "/predict", content_type=None), 405, "method_not_allowed", "method not allowed on this route", "GET"),
    Bad("delete-predict", request_bytes("DELETE", "/predict", content_type=None), 405, "method_not_allowed", "method not allowed", "DELETE"),
    Bad("options-predict", request_bytes("OPTIONS", "/predict", content_type=None), 405, "method_not_allowed", "method not allowed", "OPTIONS"),
    Bad("post-healthz", request_bytes("POST", "/healthz", b"{}"), 405, "method_not_allowed", "method not allowed"),
    Bad("unknown-method", request_bytes("BREW", "/predict", content_type=None), 405, "method_not_allowed", "method not allowed", "BREW"),
    Bad("werkzeug-debugger", request_bytes("GET", "/?__debugger__=yes&cmd=resource&f=style.css", content_type=None), 404, "not_found", "no such route", "GET"),
    # What gunicorn's HTTP parser refuses before any app code runs.
    Bad("header-too-large", request_bytes("GET", "/healthz", content_type=None, headers=[("X-Big", "a" * 9000)]), 431, None, "Request Header Fields Too Large", "GET"),
    Bad("too-many-headers", request_bytes("GET", "/healthz", content_type=None, headers=[(f"X-H{i}", "1") for i in range(150)]), 431, None, "Request Header Fields Too Large", "GET"),
    Bad("request-line-too-long", request_bytes("GET", "/" + "a" * 9000, content_type=None), 414, None, "URI Too Long", "GET"),
    Bad("garbage-request-line", b"\x00\x01\x02 hello\r\n\r\n", 400, None, "Invalid Request Line", "GET"),
    Bad("http-version-9.9", b"GET /healthz HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n", 400, None, "Invalid HTTP Version", "GET"),
    Bad("content-length-not-a-number", INCOMPLETE_HEAD.replace(b"100000000", b"abc"), 400, None, "Invalid HTTP Header", "POST"),
    Bad("content-length-and-chunked", INCOMPLETE_HEAD.replace(b"100000000", b"5\r\nTransfer-Encoding: chunked") + b"0\r\n\r\n", 400, None, "Invalid HTTP Header", "POST"),
    Bad("nul-in-header", b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\x00b\r\n\r\n", 400, None, "Invalid HTTP Header", "GET"),
]  # fmt: skip
