"""Verifies a token Portico's local issuer minted with PyJWT, independently:
discovery -> jwks_uri -> the key -> ES256 signature, issuer, audience.
Usage: check_local_token.py ISSUER TOKEN AUDIENCE. Prints the subject."""

import json
import sys
import urllib.request

import jwt

issuer, token, audience = sys.argv[1:4]
discovery = json.load(urllib.request.urlopen(issuer + "/.well-known/openid-configuration"))
assert discovery["issuer"] == issuer, discovery
keys = jwt.PyJWKClient(discovery["jwks_uri"])
key = keys.get_signing_key_from_jwt(token)
claims = jwt.decode(token, key.key, algorithms=["ES256"], audience=audience, issuer=issuer)
print(claims["sub"])
