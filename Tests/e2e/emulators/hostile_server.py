"""A loopback HTTP(S) server that misbehaves on purpose, for fault-injection tests.

Each connection reads one request (headers and a Content-Length body), then does what
`behaviour` says:
  ("answer", status, content_type, body)   a complete answer (error pages, non-JSON, ...)
  ("silent",)                               keep the connection open and never answer
  ("truncated", status, body, announced)    announce `announced` bytes, send `body`, close
  ("reset", status, body)                   send the head and part of `body`, then a TCP reset
  ("headers-only", status)                  send the status line and headers, then stall
`behaviour` may also be a callable taking the request dict and returning one of those tuples.
With `certificate`/`key`, it speaks TLS (for wrong-CA tests).
"""
import socket
import ssl
import struct
import threading


class HostileServer:
    def __init__(self, behaviour, certificate=None, key=None):
        self.behaviour = behaviour
        self.requests = []
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.context = None
        if certificate:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(certificate, key)
        self.scheme = "https" if self.context else "http"
        self.url = f"{self.scheme}://127.0.0.1:{self.port}"
        self.stopping = False
        self.held = []  # connections kept open on purpose
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def accept_loop(self):
        while not self.stopping:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(connection,), daemon=True).start()

    def read_request(self, connection):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        while len(body) < length:
            chunk = connection.recv(65536)
            if not chunk:
                break
            body += chunk
        method, path, _ = (lines[0].split(" ") + ["", "", ""])[:3]
        return {"method": method, "path": path, "headers": headers, "body": body}

    def serve(self, connection):
        try:
            if self.context:
                connection = self.context.wrap_socket(connection, server_side=True)
            request = self.read_request(connection)
        except (OSError, ssl.SSLError):
            connection.close()
            return
        if request is None:
            connection.close()
            return
        self.requests.append(request)
        behaviour = self.behaviour(request) if callable(self.behaviour) else self.behaviour
        kind = behaviour[0]
        try:
            if kind == "answer":
                _, status, content_type, body = behaviour
                body = body.encode() if isinstance(body, str) else body
                connection.sendall(self.head(status, content_type, len(body)) + body)
                connection.close()
            elif kind == "silent":
                self.held.append(connection)
            elif kind == "headers-only":
                connection.sendall(self.head(behaviour[1], "application/x-amz-json-1.1", 1000))
                self.held.append(connection)
            elif kind == "truncated":
                _, status, body, announced = behaviour
                connection.sendall(self.head(status, "application/x-amz-json-1.1", announced) + body.encode())
                connection.close()
            elif kind == "reset":
                _, status, body = behaviour
                body = body.encode()
                connection.sendall(self.head(status, "application/x-amz-json-1.1", len(body)) + body[: len(body) // 2])
                raw = connection.unwrap() if isinstance(connection, ssl.SSLSocket) else connection
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                raw.close()
            else:
                raise ValueError(kind)
        except (OSError, ssl.SSLError):
            connection.close()

    @staticmethod
    def head(status, content_type, length):
        reasons = {200: "OK", 400: "Bad Request", 403: "Forbidden", 429: "Too Many Requests",
                   500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        return (f"HTTP/1.1 {status} {reasons.get(status, 'Status')}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {length}\r\nConnection: close\r\n\r\n").encode()

    def stop(self):
        self.stopping = True
        self.listener.close()
        for connection in self.held:
            try:
                connection.close()
            except OSError:
                pass
