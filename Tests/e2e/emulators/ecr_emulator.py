"""A loopback emulator of ECR and ECR Public GetAuthorizationToken.

It behaves like the real services where this tool depends on it: SigV4 is verified (service
name, scope region, clock skew, signature), tokens look like ECR's (base64 JSON with an
expiration, 12 hours by default), errors are JSON with `__type`. What moto lacks is here too:
ECR Public, realistic `expiresAt`, and injected faults (throttling, 5xx, access denied, delays).

Control API (JSON over HTTP on the same port):
  GET  /_emulator/requests       every token request so far
  POST /_emulator/faults         [{"status":503,"code":"ServiceUnavailable","message":".."}, ...]
                                 answered, in order, to the next token requests
  POST /_emulator/settings       {"ttl": seconds, "delay": seconds}
  POST /_emulator/reset          forget requests, faults and settings

Run standalone: python3 ecr_emulator.py [--port N] prints "port N" once it listens.
"""
import argparse
import base64
import json
import os
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from emulators.sigv4 import SignatureError, verify  # noqa: E402

PRIVATE_TARGET = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
PUBLIC_TARGET = "SpencerFrontendService.GetAuthorizationToken"
TWELVE_HOURS = 12 * 3600


class ECREmulator:
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
            self.faults = []
            self.ttl = TWELVE_HOURS
            self.delay = 0.0

    # -- the service --------------------------------------------------------------------
    def token_request(self, handler, body: bytes):
        target = handler.headers.get("X-Amz-Target", "")
        if target not in (PRIVATE_TARGET, PUBLIC_TARGET):
            return 400, {"__type": "UnknownOperationException", "message": f"unknown target {target!r}"}
        is_public = target == PUBLIC_TARGET
        if handler.headers.get("Content-Type") != "application/x-amz-json-1.1":
            return 400, {"__type": "SerializationException", "message": "expected application/x-amz-json-1.1"}
        host = handler.headers.get("Host", "")
        url = f"http://{host}{handler.path}"
        try:
            scope = verify(handler.command, url, dict(handler.headers.items()), body, self.credentials,
                           "ecr-public" if is_public else "ecr", "us-east-1" if is_public else None)
        except SignatureError as error:
            self.record(target, None, None, error.code)
            return error.status, {"__type": error.code, "message": error.message}
        with self.lock:
            fault = self.faults.pop(0) if self.faults else None
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
                "public": target == PUBLIC_TARGET, "time": time.time(), "error": error, "password": password,
                "key": scope and scope["key"], "region": scope and scope["region"], "user_agent": agent,
            })

    # -- the control API ----------------------------------------------------------------
    def control(self, handler, body: bytes):
        path = handler.path
        if handler.command == "GET" and path == "/_emulator/requests":
            with self.lock:
                return 200, list(self.requests)
        if handler.command == "POST" and path == "/_emulator/faults":
            with self.lock:
                self.faults.extend(json.loads(body))
            return 200, {}
        if handler.command == "POST" and path == "/_emulator/settings":
            settings = json.loads(body)
            with self.lock:
                self.ttl = settings.get("ttl", self.ttl)
                self.delay = settings.get("delay", self.delay)
            return 200, {}
        if handler.command == "POST" and path == "/_emulator/reset":
            self.reset()
            return 200, {}
        return 404, {"message": "no such control path"}

    # -- serving ------------------------------------------------------------------------
    def serve(self, port=0):
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, document, content_type="application/x-amz-json-1.1"):
                data = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", secrets.token_hex(16))
                self.end_headers()
                self.wfile.write(data)

            def body(self):
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self):
                body = self.body()
                if self.path.startswith("/_emulator/"):
                    self.reply(*emulator.control(self, body), content_type="application/json")
                else:
                    self.reply(404, {"message": "not found"})

            def do_POST(self):
                body = self.body()
                if self.path.startswith("/_emulator/"):
                    self.reply(*emulator.control(self, body), content_type="application/json")
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
    emulator = ECREmulator({arguments.key: arguments.secret})
    port = emulator.serve(arguments.port)
    print(f"port {port}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
