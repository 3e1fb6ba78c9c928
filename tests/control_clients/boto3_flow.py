"""The issue's flow with boto3 against a running `portico serve`: build an
API from scratch (resource, method, MOCK and HTTP_PROXY integrations),
deploy, set a stage variable, put a 50% canary on the stage, call the API
over HTTP and check the answers; then AWS's error shapes, keys and plans,
and get-export. Usage: boto3_flow.py GATEWAY_URL ECHO_BACKEND_ADDR.
Prints OK at the end; any failure raises."""

import json
import sys
import urllib.error
import urllib.request

import boto3
import botocore.exceptions

gateway, backend = sys.argv[1], sys.argv[2]
client = boto3.client(
    "apigateway",
    endpoint_url=gateway,
    region_name="us-east-1",
    aws_access_key_id="AKIDEXAMPLE",
    aws_secret_access_key="secret",
)


def call(api_id, stage, path, headers=None):
    url = f"{gateway}/restapis/{api_id}/{stage}/_user_request_{path}"
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def expect_error(kind, function, **kwargs):
    try:
        function(**kwargs)
    except botocore.exceptions.ClientError as error:
        got = error.response["Error"]["Code"]
        assert got == kind, f"{function.__name__}: expected {kind}, got {got}"
        return error
    raise AssertionError(f"{function.__name__} did not fail")


api = client.create_rest_api(name="boto-built", description="from scratch")
api_id, root = api["id"], api["rootResourceId"]
assert api["name"] == "boto-built"

# GET /greeting: MOCK, a template reading a stage variable.
greeting = client.create_resource(restApiId=api_id, parentId=root, pathPart="greeting")
assert greeting["path"] == "/greeting"
client.put_method(restApiId=api_id, resourceId=greeting["id"], httpMethod="GET", authorizationType="NONE")
client.put_integration(
    restApiId=api_id, resourceId=greeting["id"], httpMethod="GET", type="MOCK",
    requestTemplates={"application/json": '{"statusCode": 200}'},
)
client.put_method_response(restApiId=api_id, resourceId=greeting["id"], httpMethod="GET", statusCode="200")
client.put_integration_response(
    restApiId=api_id, resourceId=greeting["id"], httpMethod="GET", statusCode="200",
    responseTemplates={"application/json": '{"hello": "$stageVariables.who", "canary": $context.isCanaryRequest}'},
)

# ANY /echo/{proxy+}: HTTP_PROXY to the echo backend named by a stage variable.
echo = client.create_resource(restApiId=api_id, parentId=root, pathPart="echo")
proxy = client.create_resource(restApiId=api_id, parentId=echo["id"], pathPart="{proxy+}")
client.put_method(
    restApiId=api_id, resourceId=proxy["id"], httpMethod="ANY", authorizationType="NONE",
    requestParameters={"method.request.path.proxy": True},
)
client.put_integration(
    restApiId=api_id, resourceId=proxy["id"], httpMethod="ANY", type="HTTP_PROXY",
    integrationHttpMethod="ANY", uri="http://${stageVariables.backend}/{proxy}",
    requestParameters={"integration.request.path.proxy": "method.request.path.proxy"},
)
method = client.get_method(restApiId=api_id, resourceId=proxy["id"], httpMethod="ANY")
assert method["methodIntegration"]["type"] == "HTTP_PROXY", method

deployment = client.create_deployment(
    restApiId=api_id, stageName="dev", variables={"who": "world", "backend": backend}
)
assert deployment["id"]
status, body = call(api_id, "dev", "/greeting")
assert status == 200 and json.loads(body) == {"hello": "world", "canary": False}, (status, body)
status, body = call(api_id, "dev", "/echo/a/b?x=1")
assert status == 200, (status, body)
echoed = json.loads(body)
assert echoed["path"] == "/a/b" and echoed["query"] == "x=1", echoed

# A stage variable changed with AWS's patch path applies at once.
stage = client.update_stage(
    restApiId=api_id, stageName="dev",
    patchOperations=[{"op": "replace", "path": "/variables/who", "value": "patched"}],
)
assert stage["variables"]["who"] == "patched"
assert json.loads(call(api_id, "dev", "/greeting")[1])["hello"] == "patched"

# Method throttling through the stage's patch paths.
stage = client.update_stage(
    restApiId=api_id, stageName="dev",
    patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "1000"},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "500"},
    ],
)
assert stage["methodSettings"]["*/*"]["throttlingRateLimit"] == 1000.0, stage

# A canary taking 50%, with its own variable, then the split.
client.create_deployment(
    restApiId=api_id, stageName="dev",
    canarySettings={"percentTraffic": 50.0, "stageVariableOverrides": {"who": "canary"}},
)
stage = client.get_stage(restApiId=api_id, stageName="dev")
assert stage["canarySettings"]["percentTraffic"] == 50.0, stage
sides = {"patched": 0, "canary": 0}
for _ in range(200):
    answer = json.loads(call(api_id, "dev", "/greeting")[1])
    assert answer["canary"] == (answer["hello"] == "canary"), answer
    sides[answer["hello"]] += 1
# Binomial(200, 0.5): sd 7; six sd either side.
assert 58 <= sides["canary"] <= 142, sides
client.update_stage(
    restApiId=api_id, stageName="dev",
    patchOperations=[{"op": "replace", "path": "/canarySettings/percentTraffic", "value": "0"}],
)
assert all(json.loads(call(api_id, "dev", "/greeting")[1])["hello"] == "patched" for _ in range(20))

# Listing with embedded methods.
resources = client.get_resources(restApiId=api_id, embed=["methods"])["items"]
paths = sorted(r["path"] for r in resources)
assert paths == ["/", "/echo", "/echo/{proxy+}", "/greeting"], paths
greeting_listed = next(r for r in resources if r["path"] == "/greeting")
assert greeting_listed["resourceMethods"]["GET"]["methodIntegration"]["type"] == "MOCK"
assert any(a["id"] == api_id for a in client.get_rest_apis()["items"])
assert [s["stageName"] for s in client.get_stages(restApiId=api_id)["item"]] == ["dev"]

# Errors in AWS's shapes.
expect_error("NotFoundException", client.get_rest_api, restApiId="missing123")
expect_error("NotFoundException", client.get_stage, restApiId=api_id, stageName="nope")
expect_error("ConflictException", client.create_resource, restApiId=api_id, parentId=root, pathPart="greeting")
expect_error("BadRequestException", client.create_resource, restApiId=api_id, parentId=root, pathPart="bad path")
expect_error(
    "BadRequestException", client.update_stage, restApiId=api_id, stageName="dev",
    patchOperations=[{"op": "replace", "path": "/nonsense", "value": "1"}],
)

# test-invoke-method runs the draft and returns the execution log.
invoked = client.test_invoke_method(restApiId=api_id, resourceId=greeting["id"], httpMethod="GET")
assert invoked["status"] == 200 and "Method completed with status: 200" in invoked["log"], invoked

# API keys and a usage plan: the key joins, an apiKeyRequired method needs it.
key = client.create_api_key(name="ci-key", enabled=True)
assert len(key["value"]) >= 20
plan = client.create_usage_plan(name="ci-plan", apiStages=[{"apiId": api_id, "stage": "dev"}])
client.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
assert [k["id"] for k in client.get_usage_plan_keys(usagePlanId=plan["id"])["items"]] == [key["id"]]

# Updates with patch operations: the method now needs a key; the plan gets
# a quota; the integration's template changes.
method = client.update_method(
    restApiId=api_id, resourceId=greeting["id"], httpMethod="GET",
    patchOperations=[{"op": "replace", "path": "/apiKeyRequired", "value": "true"}],
)
assert method["apiKeyRequired"] is True, method
integration = client.update_integration(
    restApiId=api_id, resourceId=greeting["id"], httpMethod="GET",
    patchOperations=[{"op": "replace", "path": "/requestTemplates/application~1json",
                      "value": '{"statusCode": 200}'}],
)
assert integration["requestTemplates"]["application/json"] == '{"statusCode": 200}', integration
plan = client.update_usage_plan(
    usagePlanId=plan["id"],
    patchOperations=[{"op": "replace", "path": "/quota/limit", "value": "2"},
                     {"op": "replace", "path": "/quota/period", "value": "DAY"}],
)
assert plan["quota"]["limit"] == 2, plan
client.create_deployment(restApiId=api_id, stageName="dev")
assert call(api_id, "dev", "/greeting")[0] == 403, "a key is required now"
with_key = {"x-api-key": key["value"]}
assert [call(api_id, "dev", "/greeting", with_key)[0] for _ in range(3)] == [200, 200, 429]
disabled = client.update_api_key(
    apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
)
assert disabled["enabled"] is False
assert call(api_id, "dev", "/greeting", with_key)[0] == 403, "disabled"

# get-export delegates to the OpenAPI module.
export = client.get_export(restApiId=api_id, stageName="dev", exportType="oas30",
                           parameters={"extensions": "integrations"}, accepts="application/json")
document = json.loads(export["body"].read())
assert "/greeting" in document["paths"] and document["openapi"].startswith("3.0"), document

# import-rest-api and put-rest-api take OpenAPI documents.
spec = {
    "openapi": "3.0.1", "info": {"title": "imported", "version": "1"},
    "paths": {"/ping": {"get": {
        "responses": {"200": {"description": "ok"}},
        "x-amazon-apigateway-integration": {
            "type": "mock", "requestTemplates": {"application/json": '{"statusCode": 200}'},
            "responses": {"default": {"statusCode": "200",
                                      "responseTemplates": {"application/json": '{"pong": true}'}}}}}}},
}
imported = client.import_rest_api(body=json.dumps(spec).encode(), failOnWarnings=True)
assert imported["name"] == "imported", imported
spec["paths"]["/pong"] = spec["paths"]["/ping"]
client.put_rest_api(restApiId=imported["id"], mode="merge", body=json.dumps(spec).encode())
paths = sorted(r["path"] for r in client.get_resources(restApiId=imported["id"])["items"])
assert paths == ["/", "/ping", "/pong"], paths
client.create_deployment(restApiId=imported["id"], stageName="v1")
status, body = call(imported["id"], "v1", "/pong")
assert status == 200 and json.loads(body) == {"pong": True}, (status, body)

client.delete_rest_api(restApiId=api_id)
expect_error("NotFoundException", client.get_rest_api, restApiId=api_id)
print("OK")
