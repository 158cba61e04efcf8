"""A containerd node in miniature, run inside a private network and mount namespace (`unshare --net --mount`).

The test that starts it (test_mirrors.py) has already written containerd's hosts.toml with
`ecr-credential-provider containerd-hosts` and asked the plugin for the password of a
`docker.io/library/...` image. Here:

- /etc/hosts (a private bind mount) points the ECR registry host at 127.0.0.1, and Docker Hub's
  hosts at 127.0.0.2, where a bare TCP listener counts every connection (a fallback to the upstream);
- Debian's docker-registry serves TLS for the ECR host name with a test CA, and accepts only
  `AWS:<token>` (htpasswd); an image is pushed to it under the mirror's prefix;
- Debian's containerd runs with a scratch root, and `ctr images pull --hosts-dir` pulls the
  upstream name with the given user and password, then mounts the image to read its file.

Usage: python3 containerd_node.py SETTINGS.json; writes RESULT.json (path in the settings).
"""
import base64
import gzip
import hashlib
import io
import json
import os
import socket
import ssl
import subprocess
import sys
import tarfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path


def wait_for(predicate, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up")
        time.sleep(0.05)


def connects(host, port):
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def push_image(registry, repository, tag, files, auth, context):
    """Pushes a one-layer OCI image holding `files` (name -> bytes); returns the manifest digest."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))
    tar = layer.getvalue()
    compressed = gzip.compress(tar, mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]}}).encode()
    headers = {"Authorization": auth}

    def call(method, url, body=None, extra=None):
        request = urllib.request.Request(url, data=body, method=method, headers={**headers, **(extra or {})})
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return response

    base = f"https://{registry}/v2/{repository}"
    for blob in (compressed, config):
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        location = call("POST", f"{base}/blobs/uploads/").headers["Location"]
        url = urllib.parse.urljoin(f"https://{registry}/", location)
        url += ("&" if "?" in url else "?") + "digest=" + urllib.parse.quote(digest)
        call("PUT", url, blob, {"Content-Type": "application/octet-stream"})
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(config),
                   "digest": "sha256:" + hashlib.sha256(config).hexdigest()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": len(compressed),
                    "digest": "sha256:" + hashlib.sha256(compressed).hexdigest()}],
    }).encode()
    call("PUT", f"{base}/manifests/{tag}", manifest, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    return "sha256:" + hashlib.sha256(manifest).hexdigest()


class ConnectionCounter:
    """Accepts TCP connections on an address and counts them (an upstream that must not be contacted)."""

    def __init__(self, address):
        self.count = 0
        self.listener = socket.create_server(address)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.count += 1
            connection.close()


def main():
    settings = json.loads(Path(sys.argv[1]).read_text())
    work = Path(settings["work"])
    registry = settings["registry"]
    processes = []
    result = {}
    try:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        hosts = work / "hosts"
        hosts.write_text(f"127.0.0.1 localhost {registry}\n127.0.0.2 docker.io registry-1.docker.io index.docker.io\n")
        subprocess.run(["mount", "--bind", str(hosts), "/etc/hosts"], check=True)
        upstream = ConnectionCounter(("127.0.0.2", 443))

        # The registry at the ECR host name: TLS from the test CA, Basic auth for AWS:<token> only.
        (work / "registry.yml").write_text(json.dumps({
            "version": 0.1, "log": {"level": "info"},
            "storage": {"filesystem": {"rootdirectory": str(work / "registry")}},
            "http": {"addr": "127.0.0.1:443", "tls": {"certificate": settings["certificate"], "key": settings["key"]}},
            "auth": {"htpasswd": {"realm": "ecr", "path": settings["htpasswd"]}},
        }))
        registry_log = open(work / "registry.log", "wb")
        processes.append(subprocess.Popen(["docker-registry", "serve", str(work / "registry.yml")],
                                          stdout=registry_log, stderr=registry_log))
        wait_for(lambda: connects("127.0.0.1", 443), "docker-registry")
        context = ssl.create_default_context(cafile=settings["ca"])
        auth = "Basic " + base64.b64encode(f"AWS:{settings['registry_password']}".encode()).decode()
        result["digest"] = push_image(registry, settings["repository"], settings["tag"],
                                      {"hello.txt": settings["content"].encode()}, auth, context)

        # containerd with a scratch root; only what ctr needs.
        socket_path = work / "containerd.sock"
        (work / "containerd.toml").write_text(
            f'version = 2\nroot = "{work}/root"\nstate = "{work}/state"\n'
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            f'[grpc]\n  address = "{socket_path}"\n')
        containerd_log = open(work / "containerd.log", "wb")
        processes.append(subprocess.Popen(["containerd", "--config", str(work / "containerd.toml")],
                                          stdout=containerd_log, stderr=containerd_log))
        wait_for(socket_path.exists, "containerd")
        ctr = ["ctr", "--address", str(socket_path), "--namespace", "e2e"]
        env = {**os.environ, "SSL_CERT_FILE": settings["ca"]}
        image = settings["image"]

        def pull(password, name=image):
            completed = subprocess.run([*ctr, "images", "pull", "--hosts-dir", settings["hosts_dir"], "--snapshotter", "native",
                                        "--user", f"AWS:{password}", name], capture_output=True, text=True, env=env, timeout=120)
            return {"returncode": completed.returncode, "stdout": completed.stdout, "stderr": completed.stderr}

        result["wrong"] = pull(settings["wrong_password"])
        result["upstream_connections_after_wrong"] = upstream.count
        result["right"] = pull(settings["password"])
        if result["right"]["returncode"] == 0:
            target = work / "mnt"
            target.mkdir()
            subprocess.run([*ctr, "images", "mount", "--snapshotter", "native", image, str(target)],
                           check=True, capture_output=True, env=env, timeout=60)
            try:
                result["content"] = (target / "hello.txt").read_text()
            finally:
                subprocess.run([*ctr, "images", "unmount", "--rm", str(target)], capture_output=True, env=env, timeout=60)
        # The other names of the upstream (Docker Hub's), which images may carry: through the
        # mirror too, never to the upstream with the ECR token.
        result["aliases"] = {name: pull(settings["password"], name) for name in settings.get("aliases", [])}
        result["upstream_connections"] = upstream.count
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        result["registry_log"] = (work / "registry.log").read_text(errors="replace")[-20000:] if (work / "registry.log").exists() else ""
        Path(settings["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
