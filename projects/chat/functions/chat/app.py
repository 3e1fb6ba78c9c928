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


def _store_path(context):
    """One store per gateway and API: two gateways serving the same API (the
    desktop app and `portico serve`, or two test runs) must not share, nor
    forget, each other's connections."""
    place = os.environ.get("PORTICO_GATEWAY_URL") or context["domainName"]
    safe = "".join(c if c.isalnum() else "-" for c in place)
    return os.path.join(
        tempfile.gettempdir(), f"portico-chat-{context['apiId']}-{safe}.json"
    )


def _update(context, change):
    """Applies `change` to the set of connection ids under a file lock and
    returns the ids after it. The new set replaces the old file whole
    (written beside it, then renamed), so a worker stopped halfway leaves
    the old set, never a truncated one."""
    path = _store_path(context)
    with open(path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(path) as handle:
                text = handle.read()
        except FileNotFoundError:
            text = ""
        ids = set(json.loads(text)) if text.strip() else set()
        change(ids)
        temporary = f"{path}.{os.getpid()}"
        with open(temporary, "w") as handle:
            handle.write(json.dumps(sorted(ids)))
        os.replace(temporary, path)
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
    route = context["routeKey"]
    if route == "$connect":
        _update(context, lambda ids: ids.add(connection_id))
        return {"statusCode": 200}
    if route == "$disconnect":
        _update(context, lambda ids: ids.discard(connection_id))
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
            for other in _update(context, lambda ids: None)
            if not _post(endpoint, other, frame)
        ]
        if gone:
            _update(context, lambda ids: ids.difference_update(gone))
        return {"statusCode": 200}
    return {"statusCode": 400, "body": f"unknown route {route}"}
