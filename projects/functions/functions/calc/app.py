"""A non-proxy (AWS) Lambda integration: the request template shapes the
event, integration responses map errors by their message."""


def handler(event, context):
    a, b, op = event.get("a"), event.get("b"), event.get("op")
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        raise ValueError("Invalid input: a and b must be numbers")
    if op == "add":
        return {"result": a + b}
    if op == "mul":
        return {"result": a * b}
    if op == "div":
        return {"result": a / b}
    raise ValueError("Invalid operation: %s" % op)
