"""A TOKEN Lambda authorizer: the token names the decision.

allow-NAME -> Allow every method for principal NAME (context tier=gold)
deny-NAME  -> an explicit Deny
anything else -> Unauthorized (401)
"""


def handler(event, context):
    token = event["authorizationToken"]
    kind, _, name = token.partition("-")
    if kind not in ("allow", "deny") or not name:
        raise Exception("Unauthorized")
    # Allow the whole API (this stage, any verb, any path) so the cached
    # result serves every method, as AWS's blueprints recommend.
    api_arn = event["methodArn"].split("/")[0]
    return {
        "principalId": name,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{
                "Action": "execute-api:Invoke",
                "Effect": "Allow" if kind == "allow" else "Deny",
                "Resource": api_arn + "/*",
            }],
        },
        "context": {"tier": "gold", "level": 3, "admin": False},
    }
