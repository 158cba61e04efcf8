"""A machine with an ECR registry at its real host name, run inside `unshare --net --mount`.

Inside a private network and mount namespace: loopback up; a private /etc/hosts pointing the
ECR registry hosts and their S3 download host at 127.0.0.1; the AWS emulator (GetAuthorizationToken,
DescribePullThroughCacheRules) on a loopback port; and emulators/ecr_registry.py serving TLS on
127.0.0.1:443 with a test CA. Then each command of the settings runs (the release binaries), with
`{aws}` in its environment replaced by the emulator's URL.

A node's own files (`node_files`: path -> text, `node_modes`: path -> mode, `node_copies`: path ->
file to copy, as an executable) are written into
copy-on-write overlays of /etc and /var that only this namespace sees, so the binaries read the
real paths (/etc/eks/..., /var/lib/kubelet/..., /var/snap/microk8s/...). `kubelet` starts a stand-in
kubelet process whose argv carries the given words (argv[0] first, e.g. /usr/bin/kubelet) and whose
environment is `kubelet.env` (`{aws}` replaced too); it only sleeps. `node_owners` (path -> uid) gives files to
another user; the stand-in kubelet runs as `kubelet.user` (a uid) and from a copy of sh owned by `kubelet.exe_owner`
when those are given. `hide` lists files to hide behind an empty file
(a library that is not installed). The caller runs this in its own pid namespace, so
/proc shows that process and no other kubelet.

Usage: python3 ecr_node.py SETTINGS.json; writes RESULT.json (path in the settings):
{"runs": [{"returncode", "stdout", "stderr"}], "registry_log": [...], "aws_requests": [...]}.
"""
import json
import os
import shutil
import ssl
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from emulators.aws_emulator import AWSEmulator  # noqa: E402
from emulators.ecr_registry import ECRRegistry, s3_host, serve  # noqa: E402


def overlay_node_files(work: Path, files, modes, copies, owners=None):
    """Writes `files` under copy-on-write overlays of /etc and /var (upper layers on a private tmpfs)."""
    layers = work / "layers"
    layers.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(layers)], check=True, timeout=30)
    for top in ("/etc", "/var"):
        upper, scratch = layers / (top.strip("/") + "-upper"), layers / (top.strip("/") + "-work")
        upper.mkdir()
        scratch.mkdir()
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={top},upperdir={upper},workdir={scratch}", top],
                       check=True, timeout=30)
    for path, text in files.items():
        target = Path(path)
        assert target.parts[1] in ("etc", "var"), path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        os.chmod(target, int(modes.get(path, "644"), 8))
    for path, source in copies.items():
        target = Path(path)
        assert target.parts[1] in ("etc", "var"), path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
        os.chmod(target, 0o755)
    for path, uid in (owners or {}).items():
        assert Path(path).parts[1] in ("etc", "var"), path
        os.chown(path, uid, uid)


def start_kubelet(kubelet, aws_url, work: Path):
    """A process that looks like the kubelet in /proc: argv[0] and the flags it was given, its environment;
    run as `user` (a uid) when given, and from a copy of sh owned by `exe_owner` when given."""
    argv = kubelet["argv"]
    executable = "/bin/sh"
    if kubelet.get("exe_owner") is not None:
        executable = str(work / "kubelet-program")
        shutil.copy("/bin/sh", executable)
        os.chmod(executable, 0o755)
        os.chown(executable, kubelet["exe_owner"], kubelet["exe_owner"])
    # sh keeps argv[0] as given and ignores the words after its script; it waits for its sleep.
    return subprocess.Popen([argv[0], "-c", "sleep 600 & wait", *argv[1:]], executable=executable, user=kubelet.get("user"),
                            env={name: value.replace("{aws}", aws_url) for name, value in kubelet.get("env", {}).items()}, stdin=subprocess.DEVNULL)


def main():
    settings = json.loads(Path(sys.argv[1]).read_text())
    work = Path(settings["work"])
    result = {"runs": []}
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=30)
    if settings.get("node_files") is not None or settings.get("node_copies"):
        overlay_node_files(work, settings.get("node_files") or {}, settings.get("node_modes", {}), settings.get("node_copies", {}),
                           {path: int(uid) for path, uid in settings.get("node_owners", {}).items()})
    for path in settings.get("hide", []):
        subprocess.run(["mount", "--bind", "/dev/null", path], check=True, timeout=30)
    hosts = work / "hosts"
    names = [name for host in settings["registry_hosts"] for name in (host, s3_host(host.split(".")[3]))]
    hosts.write_text("127.0.0.1 localhost " + " ".join(sorted(set(names))) + "\n")
    subprocess.run(["mount", "--bind", str(hosts), "/etc/hosts"], check=True, timeout=30)

    aws = AWSEmulator(settings["credentials"])
    aws.denied_keys.update(settings.get("denied_keys", []))
    aws.pull_through_cache_rules = [tuple(rule) for rule in settings.get("rules", [])]
    aws.serve()
    registry = ECRRegistry(aws)
    registry.repositories = settings.get("repositories", {})
    registry.upstream = settings.get("upstream", {})
    registry.identity_actions = {key: set(actions) for key, actions in settings.get("identity_actions", {}).items()}
    registry.revoked = settings.get("revoked", False)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(settings["certificate"], settings["key"])
    server = serve(registry, ("127.0.0.1", 443), context)
    kubelet = start_kubelet(settings["kubelet"], aws.url, work) if settings.get("kubelet") else None
    try:
        for command in settings["commands"]:
            env = {name: value.replace("{aws}", aws.url) for name, value in command["env"].items()}
            completed = subprocess.run(command["argv"], input=command.get("stdin", "").encode(), capture_output=True,
                                       env=env, timeout=120)
            result["runs"].append({"returncode": completed.returncode, "stdout": completed.stdout.decode(errors="replace"),
                                   "stderr": completed.stderr.decode(errors="replace")})
    finally:
        if kubelet:
            kubelet.kill()
            kubelet.wait()
        server.shutdown()
        aws.stop()
        result["registry_log"] = registry.log
        result["aws_requests"] = [{k: v for k, v in r.items() if k in ("kind", "error", "key", "region")} for r in aws.requests]
        Path(settings["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
