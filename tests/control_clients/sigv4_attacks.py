"""With `serve --credentials AKIDPORTICO:portico-secret`: requests signed by
botocore's own signers (SigV4Auth, SigV4QueryAuth) and then aged, tampered
with or wrongly scoped are refused with AWS's error type and message; the
good ones, headers or presigned URL, are let in. Usage: sigv4_attacks.py URL.
Prints OK at the end; any failure raises.

AWS's messages (each check below names its source):
- https://docs.aws.amazon.com/IAM/latest/UserGuide/signature-v4-troubleshooting.html
  lists "Signature expired: <date> is now earlier than <date>", "Signature
  not yet current: <date> is still later than <date>", "Credential should be
  scoped to a valid Region, not <region>", "Date in Credential scope does not
  match YYYYMMDD from ISO-8601 version of date from HTTP".
- Their exact wording as services send them was recorded by dynalite
  (https://github.com/mhart/dynalite, index.js: "Credential should be scoped
  to correct service: 'dynamodb'. ", "... from '20130609T095204Z'.").
- API Gateway's window is 5 minutes and a presigned URL's X-Amz-Expires does
  not change it: https://stackoverflow.com/questions/66961500
  ({"message":"Signature expired: 20210330T175821Z is now earlier than
  20210330T180403Z (20210330T180903Z - 5 min.)"}).
"""

import datetime
import hashlib
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

import botocore.auth
import botocore.awsrequest
import botocore.credentials

GATEWAY = sys.argv[1]
CREDENTIALS = botocore.credentials.Credentials("AKIDPORTICO", "portico-secret")
JSON = {"Content-Type": "application/json"}


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)


def sign(method, path, body=b"", *, service="apigateway", region="us-east-1", at=None,
         headers=None, presign=False):
    """A request signed by botocore, at `at` (a naive UTC time) if given."""
    request = botocore.awsrequest.AWSRequest(
        method=method, url=GATEWAY + path, data=body, headers=dict(headers or {}))
    original = botocore.auth.get_current_datetime
    if at is not None:
        botocore.auth.get_current_datetime = lambda: at
    try:
        if presign:
            signer = botocore.auth.SigV4QueryAuth(CREDENTIALS, service, region, expires=60)
        else:
            signer = botocore.auth.SigV4Auth(CREDENTIALS, service, region)
        signer.add_auth(request)
    finally:
        botocore.auth.get_current_datetime = original
    return request.prepare()


def send(prepared, *, body=None, url=None, headers=None):
    """Sends `prepared` (optionally with another body, URL or headers)."""
    headers = dict(headers if headers is not None else prepared.headers)
    # urllib counts the bytes it sends (the body may have been swapped).
    headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
    request = urllib.request.Request(
        url or prepared.url,
        data=(prepared.body if body is None else body) or None,
        method=prepared.method,
        headers=headers)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def refused(answer, kind, message=None, prefix=None):
    status, headers, body = answer
    assert status == 403, answer
    lower = {k.lower(): v for k, v in headers.items()}
    assert lower.get("x-amzn-errortype") == kind, answer
    text = json.loads(body)["message"]
    if message is not None:
        assert text == message, f"{text!r} != {message!r}"
    if prefix is not None:
        assert text.startswith(prefix), f"{text!r} does not start with {prefix!r}"
    return text


def api_names():
    status, _, body = send(sign("GET", "/restapis"))
    assert status == 200, body
    return {item["name"] for item in json.loads(body).get("item", [])}


# A good signature: in.
status, _, body = send(sign("GET", "/restapis"))
assert status == 200, body

# (a) Clock skew: signed five years ago, and ten minutes ahead.
text = refused(send(sign("GET", "/restapis", at=datetime.datetime(2021, 1, 1))),
               "InvalidSignatureException",
               prefix="Signature expired: 20210101T000000Z is now earlier than ")
assert text.endswith(" - 5 min.)"), text
ahead = utc_now() + datetime.timedelta(minutes=10)
text = refused(send(sign("GET", "/restapis", at=ahead)), "InvalidSignatureException",
               prefix=f"Signature not yet current: {ahead:%Y%m%dT%H%M%SZ} is still later than ")
assert text.endswith(" + 5 min.)"), text
# Four minutes old is still fine.
status, _, body = send(sign("GET", "/restapis", at=utc_now() - datetime.timedelta(minutes=4)))
assert status == 200, body

# (b) The body is hashed by the server: a body swapped after signing, with
# the client's x-amz-content-sha256 naming the signed one, is refused; so is
# UNSIGNED-PAYLOAD (S3's, not API Gateway's). Nothing is created.
signed_body = json.dumps({"name": "signed-name"}).encode()
tampered_body = json.dumps({"name": "tampered-name"}).encode()
prepared = sign("POST", "/restapis", signed_body, headers={
    **JSON, "X-Amz-Content-SHA256": hashlib.sha256(signed_body).hexdigest()})
refused(send(prepared, body=tampered_body), "InvalidSignatureException",
        prefix="The request signature we calculated does not match the signature you provided.")
prepared = sign("POST", "/restapis", tampered_body,
                headers={**JSON, "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
refused(send(prepared), "InvalidSignatureException",
        prefix="The request signature we calculated does not match")
assert "tampered-name" not in api_names()
# The same body, signed properly, goes in.
status, _, body = send(sign("POST", "/restapis", signed_body, headers=JSON))
assert status == 201, body
assert "signed-name" in api_names()

# (c) The scope: service, region, date.
refused(send(sign("GET", "/restapis", service="execute-api")), "InvalidSignatureException",
        message="Credential should be scoped to correct service: 'apigateway'. ")
refused(send(sign("GET", "/restapis", region="moon")), "InvalidSignatureException",
        message="Credential should be scoped to a valid region, not 'moon'. ")
prepared = sign("GET", "/restapis")
amz_date = prepared.headers["X-Amz-Date"]
day = amz_date[:8]
other_day = (datetime.datetime.strptime(day, "%Y%m%d") - datetime.timedelta(days=1)).strftime("%Y%m%d")
headers = dict(prepared.headers)
headers["Authorization"] = headers["Authorization"].replace(f"/{day}/", f"/{other_day}/")
refused(send(prepared, headers=headers), "InvalidSignatureException",
        message="Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                f"date from HTTP: '{other_day}' != '{day}', from '{amz_date}'.")

# (d) Presigned URLs: verified like headers.
status, _, body = send(sign("GET", "/restapis", presign=True), headers={})
assert status == 200, body
assert "signed-name" in {i["name"] for i in json.loads(body)["item"]}
# Six minutes old: expired, whatever X-Amz-Expires says (API Gateway keeps
# its 5 minutes).
old = utc_now() - datetime.timedelta(minutes=6)
refused(send(sign("GET", "/restapis", presign=True, at=old), headers={}),
        "InvalidSignatureException",
        prefix=f"Signature expired: {old:%Y%m%dT%H%M%SZ} is now earlier than ")
# A parameter added after signing.
prepared = sign("GET", "/restapis", presign=True)
refused(send(prepared, url=prepared.url + "&limit=1", headers={}),
        "InvalidSignatureException", prefix="The request signature we calculated does not match")
# Wrongly scoped.
refused(send(sign("GET", "/restapis", presign=True, service="execute-api"), headers={}),
        "InvalidSignatureException",
        message="Credential should be scoped to correct service: 'apigateway'. ")
# A presigned URL without its signature: incomplete.
prepared = sign("GET", "/restapis", presign=True)
parts = urllib.parse.urlsplit(prepared.url)
query = "&".join(p for p in parts.query.split("&") if not p.startswith("X-Amz-Signature="))
refused(send(prepared, url=f"{GATEWAY}/restapis?{query}", headers={}),
        "IncompleteSignatureException",
        message="AWS query-string parameters must include 'X-Amz-Signature'. "
                "Re-examine the query-string parameters.")
print("OK")
