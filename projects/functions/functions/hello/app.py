"""An AWS_PROXY handler: echoes what API Gateway's proxy event told it."""

import json


def handler(event, context):
    name = (event.get("pathParameters") or {}).get("name", "world")
    query = event.get("queryStringParameters") or {}
    print("hello called for", name)
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "X-Handled-By": context.function_name},
        "multiValueHeaders": {"X-Stage": [event["requestContext"]["stage"]]},
        "body": json.dumps({
            "message": "Hello, %s!" % name,
            "resource": event["resource"],
            "path": event["path"],
            "method": event["httpMethod"],
            "query": query,
            "stageVariables": event.get("stageVariables"),
            "requestId": event["requestContext"]["requestId"],
            "remainingMs": context.get_remaining_time_in_millis(),
        }),
    }
