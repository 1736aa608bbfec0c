"""API Gateway event JSON, shaped as API Gateway sends it to the Lambda functions."""

from __future__ import annotations

import secrets
import time
from typing import Any

API_ID = "a1b2c3d4e5"
STAGE = "test"
SOURCE_IP = "203.0.113.7"


def websocket_event(route: str, connection_id: str, body: str | None = None) -> dict[str, Any]:
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    now = int(time.time() * 1000)
    event: dict[str, Any] = {
        "requestContext": {
            "routeKey": route,
            "eventType": event_type,
            "connectionId": connection_id,
            "messageDirection": "IN",
            "stage": STAGE,
            "apiId": API_ID,
            "domainName": f"{API_ID}.execute-api.us-east-1.amazonaws.com",
            "requestId": secrets.token_hex(8),
            "connectedAt": now,
            "requestTimeEpoch": now,
            "identity": {"sourceIp": SOURCE_IP, "userAgent": "steeple-tests"},
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = body
    if route == "$connect":
        event["headers"] = {"Host": f"{API_ID}.execute-api.us-east-1.amazonaws.com"}
    return event


def rest_event(
    method: str, raw_path: str, query: list[tuple[str, str]], headers: dict[str, str], body: bytes
) -> dict[str, Any]:
    """A REST API Lambda-proxy event; ``raw_path`` keeps its percent-escapes, as there."""
    multi_query: dict[str, list[str]] = {}
    for name, value in query:
        multi_query.setdefault(name, []).append(value)
    text = body.decode("utf-8", errors="surrogateescape")
    return {
        "resource": "/{proxy+}",
        "path": raw_path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": raw_path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/{STAGE}{raw_path}",
            "stage": STAGE,
            "apiId": API_ID,
            "requestId": secrets.token_hex(8),
            "identity": {"sourceIp": SOURCE_IP, "userAgent": "steeple-tests"},
        },
        "body": text or None,
        "isBase64Encoded": False,
    }


def scheduled_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": secrets.token_hex(8),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/steeple-sweep"],
        "detail": {},
    }
