"""A WebSocket chat on Portico: $connect / $disconnect keep the connection
ids in a small file store, `sendmessage` broadcasts through the
@connections API (what `apigatewaymanagementapi.post_to_connection` calls).

On AWS the endpoint is https://{domainName}/{stage}; Portico passes its own
address in PORTICO_GATEWAY_URL, and there the connection id alone names the
API and stage.
"""

import fcntl
import json
import os
import tempfile
import urllib.error
import urllib.request


def _store_path(api_id):
    return os.path.join(tempfile.gettempdir(), f"portico-chat-{api_id}.json")


def _update(api_id, change):
    """Applies `change` to the set of connection ids under a file lock and
    returns the ids after it."""
    path = _store_path(api_id)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        text = handle.read()
        ids = set(json.loads(text)) if text.strip() else set()
        change(ids)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(sorted(ids)))
        return set(ids)


def _endpoint(context):
    base = os.environ.get("PORTICO_GATEWAY_URL")
    if base:
        return f"{base}/{context['stage']}"
    return f"https://{context['domainName']}/{context['stage']}"


def _post(endpoint, connection_id, data):
    request = urllib.request.Request(
        f"{endpoint}/@connections/{connection_id}", data=data, method="POST"
    )
    try:
        urllib.request.urlopen(request, timeout=5).read()
        return True
    except urllib.error.HTTPError as error:
        if error.code == 410:  # GoneException: the client left
            return False
        raise


def handler(event, _context):
    context = event["requestContext"]
    connection_id = context["connectionId"]
    api_id = context["apiId"]
    route = context["routeKey"]
    if route == "$connect":
        _update(api_id, lambda ids: ids.add(connection_id))
        return {"statusCode": 200}
    if route == "$disconnect":
        _update(api_id, lambda ids: ids.discard(connection_id))
        return {"statusCode": 200}
    if route == "sendmessage":
        try:
            message = json.loads(event.get("body") or "{}").get("data", "")
        except ValueError:
            return {"statusCode": 400, "body": "expected JSON"}
        frame = json.dumps({"from": connection_id, "data": message}).encode()
        endpoint = _endpoint(context)
        gone = [
            other
            for other in _update(api_id, lambda ids: None)
            if not _post(endpoint, other, frame)
        ]
        if gone:
            _update(api_id, lambda ids: ids.difference_update(gone))
        return {"statusCode": 200}
    return {"statusCode": 400, "body": f"unknown route {route}"}
