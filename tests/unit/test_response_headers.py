"""The indexed header list that stamps every response."""

from __future__ import annotations

from typing import Any

from api.response_headers import ResponseHeaders


def test_set_adds_a_header_and_replaces_every_earlier_value_of_it() -> None:
    message: Any = {
        "type": "http.response.start",
        "status": 200,
        "headers": [
            (b"Content-Type", b"application/json"),
            (b"allow", b"GET"),
            (b"Allow", b"POST"),
        ],
    }
    headers = ResponseHeaders(message)
    assert headers.get("content-type") == "application/json"
    assert "ALLOW" in headers and "x-request-id" not in headers

    headers["Content-Type"] = "application/json; charset=utf-8"
    headers["Allow"] = "GET, HEAD"
    headers["X-Request-Id"] = "abc"

    assert sorted(message["headers"]) == [
        (b"allow", b"GET, HEAD"),
        (b"content-type", b"application/json; charset=utf-8"),
        (b"x-request-id", b"abc"),
    ]
    assert headers.get("Allow") == "GET, HEAD"


def test_a_message_without_headers_gets_a_list() -> None:
    message: Any = {"type": "http.response.start", "status": 204}
    ResponseHeaders(message)["Cache-Control"] = "no-store"
    assert message["headers"] == [(b"cache-control", b"no-store")]
