"""Build real API Gateway HTTP API (payload 2.0) events and Lambda contexts for the Lambda door.

The shapes follow what API Gateway sends to a Lambda proxy integration: lower-cased headers with
repeated values joined by commas, cookies moved out of the headers into ``cookies``, the raw query
string, and binary bodies (anything not text-like, e.g. multipart) base64-encoded.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded", "application/xml")


def http_api_event(
    method: str,
    path: str,
    raw_query: str = "",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    source_ip: str = "203.0.113.7",
    stage: str = "$default",
) -> dict[str, Any]:
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers or []:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    joined.setdefault("host", "abc123.execute-api.eu-west-1.amazonaws.com")
    joined.setdefault("x-forwarded-for", source_ip)
    joined.setdefault("x-forwarded-proto", "https")
    joined.setdefault("x-forwarded-port", "443")
    content_type = joined.get("content-type", "")
    is_text = not body or content_type.startswith(TEXT_TYPES)
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": joined,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": joined["host"],
            "domainPrefix": "abc123",
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": "$default",
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"] = body.decode("utf-8") if is_text else base64.b64encode(body).decode("ascii")
    return event


@dataclass
class LambdaContext:
    function_name: str = "emmettbase-http"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:emmettbase-http"
    log_group_name: str = "/aws/lambda/emmettbase-http"
    log_stream_name: str = "2026/11/26/[$LATEST]abcdef"
    deadline_ms: int = field(default_factory=lambda: int(time.time() * 1000) + 29_000)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


def decode_response(result: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body bytes of what a Lambda returned to API Gateway."""
    headers = list((result.get("headers") or {}).items())
    for cookie in result.get("cookies") or []:
        headers.append(("set-cookie", cookie))
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    return result["statusCode"], headers, raw
