"""A loopback emulator of the AWS endpoints this tool calls that moto does not cover.

ECR and ECR Public GetAuthorizationToken behave like the real services where this tool
depends on it: SigV4 is verified (service name, scope region, clock skew, signature), tokens
look like ECR's (base64 JSON with an expiration, 12 hours by default), errors are JSON with
`__type`; faults can be injected (throttling, 5xx, access denied, delays), and every credential
endpoint can be put in an outage that answers each request with a given error, as a throttled
STS or a failing SSO portal does.

The credential endpoints issue keys that the ECR endpoint then accepts, so a whole chain runs:
  POST / Action=AssumeRoleWithWebIdentity   STS, unsigned only (a signed request is refused)
  POST / Action=GetCallerIdentity           STS, signed (SigV4 verified like ECR)
  GET  /federation/credentials              the SSO portal (x-amz-sso_bearer_token)
  POST /token                               SSO OIDC CreateToken (refresh_token grant)
  GET  /container/credentials               container credentials (Authorization checked)
  PUT  /latest/api/token, GET /latest/...   EC2 instance metadata (IMDSv2, IMDSv1 if allowed)

ECR's request rate can be limited as the real service's is (`bucket = TokenBucket(rate, burst)`):
a token request that finds the bucket empty is answered `ThrottlingException: Rate exceeded`.

Tests drive it in process: `faults` (answered, in order, to the next token requests),
`outages` (kind -> error, for every request of that kind until removed), `requests` (what was
asked), `arrivals` (when each token request came in, before its `delay`), and the settings
attributes that `reset()` sets.

Run standalone: python3 aws_emulator.py [--port N] prints "port N" once it listens.
"""
import argparse
import base64
import email.utils
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from emulators.sigv4 import SignatureError, verify  # noqa: E402

PRIVATE_TARGET = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
PUBLIC_TARGET = "SpencerFrontendService.GetAuthorizationToken"
RULES_TARGET = "AmazonEC2ContainerRegistry_V20150921.DescribePullThroughCacheRules"
TWELVE_HOURS = 12 * 3600


def sts_error(code, message):
    return (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{secrets.token_hex(16)}</RequestId></ErrorResponse>")


class TokenBucket:
    """ECR's per-account rate limit: `burst` credits, refilled at `rate` per second; a throttled
    request takes none."""

    def __init__(self, rate, burst):
        self.rate, self.burst = float(rate), float(burst)
        self.credits, self.updated = float(burst), time.monotonic()

    def take(self):
        now = time.monotonic()
        self.credits = min(self.burst, self.credits + (now - self.updated) * self.rate)
        self.updated = now
        if self.credits < 1:
            return False
        self.credits -= 1
        return True


class AWSEmulator:
    """The emulator's state; `serve()` starts it on a free loopback port in a thread."""

    def __init__(self, credentials=None, account="123456789012"):
        self.credentials = dict(credentials or {"AKIAEMULATOR": "emulator-secret"})
        self.account = account
        self.denied_keys = set()
        self.lock = threading.Lock()
        self.reset()
        self.server = None

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.requests = []
            # When each ECR token request arrived (time.time()), before any delay or fault: a
            # test sees a fetch in flight here, while `requests` logs it only once answered.
            self.arrivals = []
            self.faults = []
            self.ttl = TWELVE_HOURS
            self.delay = 0.0
            # STS AssumeRoleWithWebIdentity: the token it accepts.
            self.web_identity_token = "web-identity-token"
            # A refused web identity token: echo the request body in the error message (some
            # STS-compatible services and proxies do).
            self.echo_refused_web_identity = False
            # GetCallerIdentity: an ARN to answer instead of the caller's (hostile text included).
            self.caller_arn = None
            # SSO: bearer tokens the portal accepts; the OIDC client and refresh token it honours.
            self.sso_tokens = {"sso-access-token"}
            self.oidc_client = ("client-id", "client-secret", "refresh-token")
            # Container credentials: the Authorization value required.
            self.container_authorization = "container-token"
            # IMDS: "v2" (token then GETs), "v1-only" (PUT refused with 403), "hop-limit" (the
            # PUT never answers, GETs without token do), "no-role" (no instance profile).
            self.imds_mode = "v2"
            self.imds_tokens = set()
            # Outages: kind ("sts", "sso", "oidc", "container", "imds") -> {"status", "code", "message"}
            # answered to every request of that kind; "imds": "silent" makes the metadata service
            # accept connections and never answer.
            self.outages = {}
            # How far this service's clock is ahead of the machine's (seconds): signatures and
            # the Date header follow it, as a real service's do when the client's clock is off.
            self.clock_offset = 0.0
            # DescribePullThroughCacheRules: (ecrRepositoryPrefix, upstreamRegistryUrl) pairs, answered
            # `rules_page_size` a page with a nextToken.
            self.pull_through_cache_rules = []
            self.rules_page_size = 2
            # ECR's rate limit: a TokenBucket, or None for none.
            self.bucket = None

    def outage(self, kind):
        """The error answer of an outage of `kind`, logged, or None when there is none."""
        with self.lock:
            fault = self.outages.get(kind)
        if fault is None:
            return None
        self.log(kind, error=fault["code"])
        return fault

    def issue_credentials(self, prefix):
        """New temporary keys that the ECR endpoint will accept."""
        key = prefix + secrets.token_hex(8).upper()
        secret = secrets.token_urlsafe(30)
        token = secrets.token_urlsafe(60)
        self.credentials[key] = secret
        expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        return key, secret, token, expiration

    def log(self, kind, **fields):
        with self.lock:
            self.requests.append(dict(kind=kind, time=time.time(), error=fields.pop("error", None), **fields))

    # -- credential endpoints ---------------------------------------------------------------
    def web_identity(self, handler, body: bytes):
        fault = self.outage("sts")
        if fault:
            return fault["status"], sts_error(fault["code"], fault["message"]), "text/xml"
        form = urllib.parse.parse_qs(body.decode())
        field = lambda name: form.get(name, [None])[0]
        if handler.headers.get("Authorization") or handler.headers.get("X-Amz-Security-Token"):
            self.log("sts", action=field("Action"), error="SignedRequest")
            return 400, sts_error("InvalidAction", "AssumeRoleWithWebIdentity must not be signed"), "text/xml"
        if field("Action") != "AssumeRoleWithWebIdentity" or field("Version") != "2011-06-15":
            self.log("sts", action=field("Action"), error="InvalidAction")
            return 400, sts_error("InvalidAction", f"unsupported action {field('Action')}"), "text/xml"
        if field("WebIdentityToken") != self.web_identity_token:
            self.log("sts", action="AssumeRoleWithWebIdentity", error="InvalidIdentityToken")
            echo = f" in request {body.decode()}" if self.echo_refused_web_identity else ""
            return 400, sts_error("InvalidIdentityToken", f"Incorrect token audience{echo}"), "text/xml"
        if not field("RoleArn") or not field("RoleSessionName"):
            return 400, sts_error("ValidationError", "RoleArn and RoleSessionName are required"), "text/xml"
        key, secret, token, expiration = self.issue_credentials("ASIAWEB")
        self.log("sts", action="AssumeRoleWithWebIdentity", role=field("RoleArn"), session=field("RoleSessionName"), key=key)
        xml = ("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
               "<AssumeRoleWithWebIdentityResult><Credentials>"
               f"<AccessKeyId>{key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>"
               f"<SessionToken>{token}</SessionToken><Expiration>{expiration}</Expiration>"
               "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>")
        return 200, xml, "text/xml"

    def caller_identity(self, handler, body: bytes):
        host = handler.headers.get("Host", "")
        try:
            scope = verify(handler.command, f"http://{host}{handler.path}", dict(handler.headers.items()), body, self.credentials,
                           "sts", None, self.clock_offset)
        except SignatureError as error:
            code = {"UnrecognizedClientException": "InvalidClientTokenId", "InvalidSignatureException": "SignatureDoesNotMatch"}.get(
                error.code, error.code)
            self.log("sts", action="GetCallerIdentity", error=code)
            return error.status, sts_error(code, error.message), "text/xml"
        self.log("sts", action="GetCallerIdentity", key=scope["key"])
        xml = ("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>"
               f"<Arn>{self.caller_arn or f'arn:aws:iam::{self.account}:user/' + scope['key']}</Arn><UserId>AIDA{scope['key'][4:]}</UserId>"
               f"<Account>{self.account}</Account></GetCallerIdentityResult></GetCallerIdentityResponse>")
        return 200, xml, "text/xml"

    def sso_role_credentials(self, handler):
        fault = self.outage("sso")
        if fault:
            return fault["status"], {"message": fault["message"]}, "application/json", fault["code"]
        query = urllib.parse.parse_qs(urllib.parse.urlparse(handler.path).query)
        bearer = handler.headers.get("x-amz-sso_bearer_token")
        if bearer not in self.sso_tokens:
            self.log("sso", error="UnauthorizedException")
            return 401, {"message": "Session token not found or invalid"}, "application/json", "UnauthorizedException"
        key, secret, token, _ = self.issue_credentials("ASIASSO")
        self.log("sso", account=query.get("account_id", [None])[0], role=query.get("role_name", [None])[0], key=key)
        reply = {"roleCredentials": {"accessKeyId": key, "secretAccessKey": secret, "sessionToken": token,
                                     "expiration": int((time.time() + 3600) * 1000)}}
        return 200, reply, "application/json", None

    def oidc_create_token(self, body: bytes):
        fault = self.outage("oidc")
        if fault:
            return fault["status"], {"error": fault["code"], "error_description": fault["message"]}
        request = json.loads(body or b"{}")
        client_id, client_secret, refresh = self.oidc_client
        if (request.get("grantType"), request.get("clientId"), request.get("clientSecret"), request.get("refreshToken")) != \
                ("refresh_token", client_id, client_secret, refresh):
            self.log("oidc", error="InvalidGrantException")
            return 400, {"error": "invalid_grant", "error_description": "Invalid refresh token"}
        access = "sso-refreshed-" + secrets.token_hex(8)
        self.sso_tokens.add(access)
        self.oidc_client = (client_id, client_secret, "refresh-token-2")
        self.log("oidc", access=access)
        return 200, {"accessToken": access, "expiresIn": 28800, "refreshToken": "refresh-token-2", "tokenType": "Bearer"}

    def container_credentials(self, handler):
        fault = self.outage("container")
        if fault:
            return fault["status"], {"code": fault["code"], "message": fault["message"]}
        if handler.headers.get("Authorization") != self.container_authorization:
            self.log("container", error="Unauthorized")
            return 401, {"code": "AccessDeniedException", "message": "invalid authorization token"}
        key, secret, token, expiration = self.issue_credentials("ASIACON")
        self.log("container", key=key)
        return 200, {"AccessKeyId": key, "SecretAccessKey": secret, "Token": token, "Expiration": expiration,
                     "RoleArn": "arn:aws:iam::123456789012:role/task"}

    def imds(self, handler):
        """Returns (status, text) or None to never answer."""
        if self.outages.get("imds") == "silent":
            self.log("imds", path=handler.path, error="NoAnswer")
            return None
        fault = self.outage("imds")
        if fault is not None:  # every request refused, as by a metadata service turned off (403)
            return fault["status"], ""
        if handler.command == "PUT" and handler.path == "/latest/api/token":
            if self.imds_mode == "hop-limit":
                self.log("imds", path=handler.path, error="NoAnswer")
                return None
            if self.imds_mode == "v1-only":
                self.log("imds", path=handler.path, error="Forbidden")
                return 403, ""
            if not handler.headers.get("x-aws-ec2-metadata-token-ttl-seconds"):
                return 400, ""
            token = secrets.token_urlsafe(32)
            self.imds_tokens.add(token)
            self.log("imds", path=handler.path)
            return 200, token
        token = handler.headers.get("x-aws-ec2-metadata-token")
        if self.imds_mode == "v2" and token not in self.imds_tokens:
            self.log("imds", path=handler.path, error="Unauthorized")
            return 401, ""
        base = "/latest/meta-data/iam/security-credentials/"
        if handler.path == base:
            self.log("imds", path=handler.path, v1=token is None)
            return (404, "") if self.imds_mode == "no-role" else (200, "node-role")
        if handler.path == base + "node-role":
            key, secret, session, expiration = self.issue_credentials("ASIAIMD")
            self.log("imds", path=handler.path, key=key, v1=token is None)
            return 200, json.dumps({"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": key, "SecretAccessKey": secret,
                                    "Token": session, "Expiration": expiration})
        return 404, ""

    # -- the service --------------------------------------------------------------------
    def describe_pull_through_cache_rules(self, handler, body: bytes):
        """Pages of `pull_through_cache_rules`; the nextToken is the next page's offset, opaque-looking."""
        try:
            scope = verify(handler.command, f"http://{handler.headers.get('Host', '')}{handler.path}", dict(handler.headers.items()),
                           body, self.credentials, "ecr", None, self.clock_offset)
        except SignatureError as error:
            self.log("ecr-rules", error=error.code)
            return error.status, {"__type": error.code, "message": error.message}
        request = json.loads(body or b"{}")
        if scope["key"] in self.denied_keys:
            self.log("ecr-rules", key=scope["key"], error="AccessDeniedException")
            return 400, {"__type": "AccessDeniedException",
                         "message": f"User: arn:aws:iam::{self.account}:user/{scope['key']} is not authorized to perform: "
                                    "ecr:DescribePullThroughCacheRules on resource: * because no identity-based policy allows "
                                    "the ecr:DescribePullThroughCacheRules action"}
        token = request.get("nextToken")
        start = int(base64.b64decode(token).decode().removeprefix("page:")) if token else 0
        end = start + min(self.rules_page_size, int(request.get("maxResults", 100)))
        self.log("ecr-rules", key=scope["key"], region=scope["region"], registry_id=request.get("registryId"), next_token=token)
        rules = [{"ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": url, "registryId": self.account,
                  "upstreamRegistry": "docker-hub" if url == "registry-1.docker.io" else "other",
                  "createdAt": 1.7e9, "updatedAt": 1.7e9}
                 for prefix, url in self.pull_through_cache_rules[start:end]]
        reply = {"pullThroughCacheRules": rules}
        if end < len(self.pull_through_cache_rules):
            reply["nextToken"] = base64.b64encode(f"page:{end}".encode()).decode()
        return 200, reply

    def token_request(self, handler, body: bytes):
        target = handler.headers.get("X-Amz-Target", "")
        if target == RULES_TARGET:
            return self.describe_pull_through_cache_rules(handler, body)
        if target not in (PRIVATE_TARGET, PUBLIC_TARGET):
            return 400, {"__type": "UnknownOperationException", "message": f"unknown target {target!r}"}
        is_public = target == PUBLIC_TARGET
        if handler.headers.get("Content-Type") != "application/x-amz-json-1.1":
            return 400, {"__type": "SerializationException", "message": "expected application/x-amz-json-1.1"}
        host = handler.headers.get("Host", "")
        url = f"http://{host}{handler.path}"
        try:
            scope = verify(handler.command, url, dict(handler.headers.items()), body, self.credentials,
                           "ecr-public" if is_public else "ecr", "us-east-1" if is_public else None, self.clock_offset)
        except SignatureError as error:
            self.record(target, None, None, error.code)
            return error.status, {"__type": error.code, "message": error.message}
        with self.lock:
            self.arrivals.append(time.time())
            fault = self.faults.pop(0) if self.faults else None
            if fault is None and self.bucket is not None and not self.bucket.take():
                fault = {"status": 400, "code": "ThrottlingException", "message": "Rate exceeded"}
            delay, ttl = self.delay, self.ttl
        if delay:
            time.sleep(delay)
        if fault:
            self.record(target, scope, handler.headers.get("User-Agent"), fault.get("code"))
            return fault.get("status", 500), {"__type": fault.get("code", "ServerException"),
                                              "message": fault.get("message", "injected fault")}
        if scope["key"] in self.denied_keys:
            self.record(target, scope, handler.headers.get("User-Agent"), "AccessDeniedException")
            action = "ecr-public:GetAuthorizationToken" if is_public else "ecr:GetAuthorizationToken"
            return 400, {"__type": "AccessDeniedException",
                         "message": f"User: arn:aws:iam::{self.account}:user/{scope['key']} is not authorized to perform: "
                                    f"{action} on resource: * because no identity-based policy allows the {action} action"}
        expires = time.time() + ttl
        payload = {"payload": secrets.token_urlsafe(96), "datakey": secrets.token_urlsafe(32), "version": "2",
                   "type": "DATA_KEY", "expiration": int(expires)}
        password = base64.b64encode(json.dumps(payload).encode()).decode()
        token = base64.b64encode(f"AWS:{password}".encode()).decode()
        self.record(target, scope, handler.headers.get("User-Agent"), None, password)
        data = {"authorizationToken": token, "expiresAt": round(expires, 3)}
        if is_public:
            return 200, {"authorizationData": data}
        data["proxyEndpoint"] = f"https://{self.account}.dkr.ecr.{scope['region']}.amazonaws.com"
        return 200, {"authorizationData": [data]}

    def record(self, target, scope, agent, error, password=None):
        with self.lock:
            self.requests.append({
                "kind": "ecr", "public": target == PUBLIC_TARGET, "time": time.time(), "error": error, "password": password,
                "key": scope and scope["key"], "region": scope and scope["region"], "user_agent": agent,
            })

    # -- serving ------------------------------------------------------------------------
    def serve(self, port=0):
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def date_time_string(self, timestamp=None):
                return email.utils.formatdate((timestamp or time.time()) + emulator.clock_offset, usegmt=True)

            def reply(self, status, document, content_type="application/x-amz-json-1.1", error_type=None):
                data = document.encode() if isinstance(document, str) else json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", secrets.token_hex(16))
                if error_type:
                    self.send_header("x-amzn-ErrorType", error_type)
                self.end_headers()
                self.wfile.write(data)

            def body(self):
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def metadata(self):
                answer = emulator.imds(self)
                if answer is None:
                    time.sleep(30)  # a metadata service whose answers never arrive
                    self.close_connection = True
                    return
                self.reply(answer[0], answer[1], content_type="text/plain")

            def do_PUT(self):
                self.body()
                if self.path.startswith("/latest/"):
                    self.metadata()
                else:
                    self.reply(404, {"message": "not found"})

            def do_GET(self):
                self.body()
                if self.path.startswith("/latest/"):
                    self.metadata()
                elif self.path.startswith("/federation/credentials"):
                    self.reply(*emulator.sso_role_credentials(self))
                elif self.path.startswith("/container/credentials"):
                    self.reply(*emulator.container_credentials(self), content_type="application/json")
                else:
                    self.reply(404, {"message": "not found"})

            def do_POST(self):
                body = self.body()
                if self.path == "/token":
                    self.reply(*emulator.oidc_create_token(body), content_type="application/json")
                elif self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    if urllib.parse.parse_qs(body.decode()).get("Action") == ["GetCallerIdentity"]:
                        self.reply(*emulator.caller_identity(self, body))
                    else:
                        self.reply(*emulator.web_identity(self, body))
                else:
                    self.reply(*emulator.token_request(self, body))

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.server.server_address[1]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--key", default="AKIAEMULATOR")
    parser.add_argument("--secret", default="emulator-secret")
    arguments = parser.parse_args()
    emulator = AWSEmulator({arguments.key: arguments.secret})
    port = emulator.serve(arguments.port)
    print(f"port {port}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
