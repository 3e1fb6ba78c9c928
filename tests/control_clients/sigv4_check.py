"""With `serve --credentials AKIDPORTICO:portico-secret`: boto3 signing with
those credentials is let in; a wrong secret gets InvalidSignatureException,
an unknown key UnrecognizedClientException. Usage: sigv4_check.py URL."""

import sys

import boto3
import botocore.exceptions


def client(key_id, secret):
    return boto3.client("apigateway", endpoint_url=sys.argv[1], region_name="us-east-1",
                        aws_access_key_id=key_id, aws_secret_access_key=secret)


good = client("AKIDPORTICO", "portico-secret")
api = good.create_rest_api(name="signed")
assert good.get_rest_api(restApiId=api["id"])["name"] == "signed"
resource = good.create_resource(restApiId=api["id"], parentId=api["rootResourceId"], pathPart="{id}")
assert good.get_resource(restApiId=api["id"], resourceId=resource["id"])["path"] == "/{id}"
for key_id, secret, expected in [("AKIDPORTICO", "wrong", "InvalidSignatureException"),
                                 ("AKIDOTHER", "portico-secret", "UnrecognizedClientException")]:
    try:
        client(key_id, secret).get_rest_apis()
    except botocore.exceptions.ClientError as error:
        assert error.response["Error"]["Code"] == expected, error.response
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    else:
        raise AssertionError(f"{key_id}/{secret} was let in")
print("OK")
