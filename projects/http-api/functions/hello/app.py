"""An HTTP API route's function (payload format 2.0): it answers plain JSON,
which API Gateway turns into a 200 with that body."""


def handler(event, context):
    name = event.get("pathParameters", {}).get("name", "world")
    return {
        "message": f"hello {name}",
        "route": event["routeKey"],
        "stage": event["requestContext"]["stage"],
    }
