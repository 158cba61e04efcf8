"""A loopback HTTP proxy that forwards every request to a real peer (moto) and logs it.

The log is the proof of what this tool sent: for example, that a second `get` for an
assumed-role profile made no STS call at all.

It changes one thing in what moto answers: moto dates every ECR token 2015-01-01 (a known
limitation), so such a token could never be cached; the proxy gives GetAuthorizationToken
replies the 12-hour `expiresAt` the real service gives. Signatures, STS and the tokens
themselves stay moto's.

An outage can be declared per action (`outages["AssumeRole"] = (400, "Throttling", "Rate exceeded")`):
every such request is then answered with that STS-style error instead of being forwarded, and
logged like the others, as a throttled or failing STS would.
"""
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


def realistic_expiry(body: bytes) -> bytes:
    document = json.loads(body)
    for entry in document.get("authorizationData", []):
        entry["expiresAt"] = time.time() + 12 * 3600
    return json.dumps(document).encode()


class RecordingProxy:
    """Forwards to `target` (e.g. http://127.0.0.1:5000), keeping the Host header as sent."""

    def __init__(self, target: str):
        self.target = target.rstrip("/")
        self.requests = []
        self.outages = {}
        self.lock = threading.Lock()
        self.server = None

    def serve(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                action = urllib.parse.parse_qs(body.decode(errors="replace")).get("Action", [None])[0]
                with proxy.lock:
                    proxy.requests.append({"method": self.command, "path": self.path, "action": action,
                                           "target": self.headers.get("X-Amz-Target")})
                    outage = proxy.outages.get(action or self.headers.get("X-Amz-Target"))
                if outage:
                    status, code, message = outage
                    data = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
                            f"</Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>").encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                request = urllib.request.Request(proxy.target + self.path, data=body if body else None, method=self.command)
                for name, value in self.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        request.add_header(name, value)
                # moto checks the signature over the Host the client signed.
                request.add_header("Host", self.headers.get("Host", ""))
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        status, headers, data = response.status, response.headers, response.read()
                except urllib.error.HTTPError as error:
                    status, headers, data = error.code, error.headers, error.read()
                if status == 200 and (self.headers.get("X-Amz-Target") or "").endswith("GetAuthorizationToken"):
                    data = realistic_expiry(data)
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def actions(self):
        with self.lock:
            return [r["action"] or r["target"] for r in self.requests]

    def clear(self):
        with self.lock:
            self.requests.clear()
            self.outages.clear()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
