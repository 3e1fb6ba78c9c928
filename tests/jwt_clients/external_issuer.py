"""An OpenID issuer on loopback, independent of Portico: an RSA key made
with `cryptography`, a discovery document and a JWKS served over http, and
RS256 tokens signed with PyJWT. Prints its issuer URL, then one token per
line for: valid (aud shop, scope orders:read), wrong audience, client_id
instead of aud, expired, wrong scope, wrong issuer, `alg: none`. Serves
until killed."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
public.update({"kid": "test-key-1", "use": "sig", "alg": "RS256"})


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/.well-known/openid-configuration":
            body = {"issuer": issuer, "jwks_uri": issuer + "/keys"}
        elif self.path == "/keys":
            body = {"keys": [public]}
        else:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
issuer = f"http://127.0.0.1:{server.server_address[1]}"
threading.Thread(target=server.serve_forever, daemon=True).start()


def token(**claims):
    now = int(time.time())
    body = {"iss": issuer, "sub": "ada", "iat": now, "exp": now + 600}
    body.update(claims)
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "test-key-1"})


print(issuer)
print(token(aud="shop", scope="orders:read profile"))
print(token(aud="elsewhere", scope="orders:read"))
print(token(client_id="shop", scope="orders:read"))
print(token(aud="shop", scope="orders:read", exp=int(time.time()) - 30))
print(token(aud="shop", scope="profile"))
print(token(aud="shop", scope="orders:read", iss="http://127.0.0.1:1/someone-else"))
now = int(time.time())
print(jwt.encode({"iss": issuer, "aud": "shop", "scope": "orders:read", "exp": now + 600},
                 None, algorithm="none"), flush=True)
threading.Event().wait()
