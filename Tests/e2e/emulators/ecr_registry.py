"""A small loopback registry that answers pulls as an Amazon ECR registry does (SPEC §8).

- Basic auth `AWS:<password>`, where the password is one the AWS emulator issued for the
  registry's region; anything else is 401 UNAUTHORIZED with ECR's WWW-Authenticate.
- Each request needs the IAM action ECR checks for it, from the caller's identity policy
  (`identity_actions`, per access key) and the repository policy (`deny` per repository):
  manifests ecr:BatchGetImage, blobs ecr:GetDownloadUrlForLayer, a pull-through first pull
  ecr:BatchImportUpstreamImage and, when the repository does not exist yet, ecr:CreateRepository;
  a repository with a KMS key the caller may not use refuses blobs with kms:Decrypt.
  Refusals are 403 DENIED with ECR's "User: ARN is not authorized to perform: ACTION on resource:
  ARN because ..." message.
- 404 NAME_UNKNOWN and MANIFEST_UNKNOWN bodies as ECR words them; a HEAD error has no body.
- Manifests are served only when the Accept header lists their media type; an image is an OCI
  index of a linux/amd64 and a linux/arm64 manifest.
- A blob GET is a 307 redirect to a signed URL on the S3 host (served here too), which refuses a
  request that also carries an Authorization header, as S3 does.
- Per repository, for the rows of the hint table that need them: `platforms` (the architectures
  its index lists), `status` (a manifest request answers that HTTP status, as an overloaded or
  failing registry does), `stall` (seconds a manifest request waits before answering), and
  `requires` (one more IAM action its manifests need, as a policy condition can demand).

The server speaks plain HTTP objects; the caller wraps its socket in TLS (see ecr_node.py).
"""
import base64
import hashlib
import json
import re
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
PULL_ONLY = {"ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchImportUpstreamImage"}
HOST_PATTERN = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com$")


def s3_host(region):
    return f"prod-{region}-starport-layer-bucket.s3.{region}.amazonaws.com"


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Image:
    """An OCI index of two platform manifests, each with a config blob (no layers are needed here)."""

    def __init__(self, name, platforms=("amd64", "arm64")):
        self.blobs = {}
        self.manifests = {}
        entries = []
        for architecture in platforms:
            config = json.dumps({"architecture": architecture, "os": "linux", "config": {}, "name": name}).encode()
            self.blobs[digest(config)] = config
            manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                                   "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                              "digest": digest(config), "size": len(config)},
                                   "layers": []}).encode()
            self.manifests[digest(manifest)] = (OCI_MANIFEST, manifest)
            entries.append({"mediaType": OCI_MANIFEST, "digest": digest(manifest), "size": len(manifest),
                            "platform": {"os": "linux", "architecture": architecture}})
        self.index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
        self.manifests[digest(self.index)] = (OCI_INDEX, self.index)


class ECRRegistry:
    """State and behaviour. `repositories`: name -> {"tags": [..], "deny": [actions], "kms": bool};
    `upstream`: repository -> tags that pull-through rules can import; `identity_actions`: key -> actions."""

    def __init__(self, aws, account="123456789012"):
        self.aws = aws
        self.account = account
        self.lock = threading.Lock()
        self.repositories = {}
        self.upstream = {}
        self.identity_actions = {}
        self.revoked = False
        self.images = {}
        self.signatures = set()
        self.log = []

    # -- identity ----------------------------------------------------------------------------
    def caller(self, authorization, region):
        """The access key whose token this is, or None when the token is not valid in `region`."""
        if self.revoked or not authorization or not authorization.startswith("Basic "):
            return None
        try:
            user, password = base64.b64decode(authorization[6:]).decode().split(":", 1)
        except (ValueError, UnicodeDecodeError):
            return None
        if user != "AWS":
            return None
        for request in self.aws.requests:
            if request["kind"] == "ecr" and request.get("password") == password and request.get("region") == region:
                return request["key"]
        return None

    def allowed(self, key, action):
        return action in self.identity_actions.get(key, PULL_ONLY)

    def arn(self, key):
        return f"arn:aws:iam::{self.account}:user/{key}"

    # -- content -----------------------------------------------------------------------------
    def image(self, repository, tag):
        name = f"{repository}:{tag}"
        if name not in self.images:
            self.images[name] = Image(name, self.repositories[repository].get("platforms", ("amd64", "arm64")))
        return self.images[name]

    def find_manifest(self, repository, reference):
        tags = self.repositories[repository].get("tags", [])
        for tag in tags:
            image = self.image(repository, tag)
            if reference == tag:
                return image.manifests[digest(image.index)]
            if reference in image.manifests:
                return image.manifests[reference]
        return None

    def find_blob(self, repository, blob):
        for tag in self.repositories[repository].get("tags", []):
            found = self.image(repository, tag).blobs.get(blob)
            if found:
                return found
        return None

    def rule_for(self, repository):
        for prefix, upstream in self.aws.pull_through_cache_rules:
            if repository.startswith(prefix + "/"):
                return prefix, upstream
        return None


def error_body(code, message):
    return json.dumps({"errors": [{"code": code, "message": message}]}).encode()


def make_handler(registry: ECRRegistry):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def send(self, status, body=b"", content_type="application/json; charset=utf-8", headers=None):
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self):
            self.handle_request()

        def do_GET(self):
            self.handle_request()

        def handle_request(self):
            host = (self.headers.get("Host") or "").split(":")[0]
            with registry.lock:
                registry.log.append({"method": self.command, "host": host, "path": self.path,
                                     "authorization": bool(self.headers.get("Authorization")),
                                     "accept": self.headers.get("Accept")})
            match = HOST_PATTERN.match(host)
            if match:
                return self.registry_request(match.group(1), match.group(2))
            return self.download()

        def download(self):
            path, _, query = self.path.partition("?")
            if self.headers.get("Authorization"):
                return self.send(400, b"<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; only the "
                                 b"X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization "
                                 b"header should be specified</Message></Error>", "application/xml")
            signature = dict(part.split("=", 1) for part in query.split("&") if "=" in part).get("X-Amz-Signature")
            if signature not in registry.signatures:
                return self.send(403, b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                                 "application/xml")
            blob = urllib.parse.unquote(path.rsplit("/", 1)[-1])
            for image in registry.images.values():
                if blob in image.blobs:
                    return self.send(200, image.blobs[blob], "application/octet-stream")
            return self.send(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")

        def registry_request(self, account, region):
            key = registry.caller(self.headers.get("Authorization"), region)
            if key is None:
                return self.send(401, error_body("UNAUTHORIZED", "Not Authorized"), headers={
                    "WWW-Authenticate": f'Basic realm="https://{account}.dkr.ecr.{region}.amazonaws.com/",service="ecr.amazonaws.com"'})
            if self.path == "/v2/":
                return self.send(200, b"{}")
            # Registries route on the decoded path (a client may send sha256%3A...).
            match = re.fullmatch(r"/v2/(.+)/(manifests|blobs)/([^/]+)", urllib.parse.unquote(self.path))
            if not match:
                return self.send(404, error_body("NOT_FOUND", "Not found"))
            repository, kind, reference = match.groups()
            resource = f"arn:aws:ecr:{region}:{account}:repository/{repository}"

            def denied(action, resource=resource, reason=None):
                because = reason or f"because no identity-based policy allows the {action} action"
                return self.send(403, error_body("DENIED", f"User: {registry.arn(key)} is not authorized to perform: "
                                                           f"{action} on resource: {resource} {because}"))

            # A pull-through cache import: the first pull of a repository or tag the cache does not hold.
            repo = registry.repositories.get(repository)
            rule = registry.rule_for(repository)
            if kind == "manifests" and rule and (repo is None or reference not in repo.get("tags", [])):
                upstream_repository = repository[len(rule[0]) + 1:]
                if upstream_repository in registry.upstream:
                    if not registry.allowed(key, "ecr:BatchImportUpstreamImage"):
                        return denied("ecr:BatchImportUpstreamImage")
                    if repo is None and not registry.allowed(key, "ecr:CreateRepository"):
                        return denied("ecr:CreateRepository")
                    if reference in registry.upstream[upstream_repository]:
                        repo = registry.repositories.setdefault(repository, {"tags": []})
                        repo["tags"].append(reference)
            if repo is None:
                return self.send(404, error_body("NAME_UNKNOWN", f"The repository with name '{repository}' does not exist "
                                                                 f"in the registry with id '{account}'"))
            hostile = repo.get("hostile")
            if kind == "manifests" and hostile:
                return self.hostile(hostile, key, resource)
            if kind == "manifests" and repo.get("stall"):
                time.sleep(repo["stall"])
            if kind == "manifests" and repo.get("status"):
                return self.send(repo["status"], error_body("UNKNOWN", "Service Unavailable"))
            if kind == "manifests" and repo.get("requires") and not registry.allowed(key, repo["requires"]):
                return denied(repo["requires"])
            action = "ecr:BatchGetImage" if kind == "manifests" else "ecr:GetDownloadUrlForLayer"
            if action in repo.get("deny", []):
                return denied(action, reason="with an explicit deny in a resource-based policy")
            if not registry.allowed(key, action):
                return denied(action)
            if kind == "manifests":
                found = registry.find_manifest(repository, reference)
                if found is None:
                    return self.send(404, error_body("MANIFEST_UNKNOWN", "Requested image not found"))
                media_type, body = found
                accepted = [part.strip() for part in (self.headers.get("Accept") or "").split(",")]
                if media_type not in accepted:
                    what = "OCI index" if media_type == OCI_INDEX else "OCI manifest"
                    return self.send(404, error_body("MANIFEST_UNKNOWN", f"{what} found, but accept header does not support {what}es"))
                return self.send(200, body, media_type, headers={"Docker-Content-Digest": digest(body)})
            if registry.find_blob(repository, reference) is None:
                return self.send(404, error_body("BLOB_UNKNOWN", "Blob unknown to registry"))
            if repo.get("kms"):
                return denied("kms:Decrypt", resource=f"arn:aws:kms:{region}:{account}:key/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab")
            signature = secrets.token_hex(16)
            registry.signatures.add(signature)
            userinfo = "AWS:location-password-1234@" if repo.get("userinfo_location") else ""
            location = (f"https://{userinfo}{s3_host(region)}/{hashlib.sha256(repository.encode()).hexdigest()}/{reference}"
                        f"?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature={signature}")
            return self.send(307, b"", headers={"Location": location})

        def hostile(self, mode, key, resource):
            """A registry that misbehaves at the manifest: it echoes the token, sends terminal escapes, an
            oversized body, or a denial that names no action."""
            authorization = self.headers.get("Authorization") or ""
            basic = authorization.split(" ", 1)[1] if " " in authorization else ""
            password = base64.b64decode(basic).decode().split(":", 1)[1] if basic else ""
            if mode == "echo":
                message = (f"User: {registry.arn(key)} is not authorized to perform: ecr:BatchGetImage on resource: {resource} "
                           f"because raw={password} basic={authorization} b64={basic} half={password[:len(password) // 2]} "
                           f"key=AKIAIOSFODNN7EXAMPLE")
                return self.send(403, error_body("DENIED", message))
            if mode == "escape":
                message = (f"User: {registry.arn(key)}\x1b]0;PWNED\x07 is not authorized to perform: ecr:BatchGetImage\x1b[31m "
                           f"on resource: {resource}\x07 because no identity-based policy allows the ecr:BatchGetImage action")
                return self.send(403, error_body("DENIED\x1b[2J", message))
            if mode == "huge":
                # A manifest larger than any pull reads (the HEAD before it answers as usual).
                return self.send(200, b"{" + b" " * (5 << 20) + b"}", "application/vnd.oci.image.manifest.v1+json")
            if mode == "no-action":
                return self.send(403, error_body("DENIED", "Access denied"))
            raise ValueError(mode)

    return Handler


def serve(registry: ECRRegistry, address, context):
    """Serves `registry` over TLS on `address` in a thread; returns the server."""
    server = ThreadingHTTPServer(address, make_handler(registry))
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
