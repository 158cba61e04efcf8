"""A machine with an ECR registry at its real host name, run inside `unshare --net --mount`.

Inside a private network and mount namespace: loopback up; a private /etc/hosts pointing the
ECR registry hosts and their S3 download host at 127.0.0.1; the AWS emulator (GetAuthorizationToken,
DescribePullThroughCacheRules) on a loopback port; and emulators/ecr_registry.py serving TLS on
127.0.0.1:443 with a test CA. Then each command of the settings runs (the release binaries), with
`{aws}` in its environment replaced by the emulator's URL.

Usage: python3 ecr_node.py SETTINGS.json; writes RESULT.json (path in the settings):
{"runs": [{"returncode", "stdout", "stderr"}], "registry_log": [...], "aws_requests": [...]}.
"""
import json
import ssl
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from emulators.aws_emulator import AWSEmulator  # noqa: E402
from emulators.ecr_registry import ECRRegistry, s3_host, serve  # noqa: E402


def main():
    settings = json.loads(Path(sys.argv[1]).read_text())
    work = Path(settings["work"])
    result = {"runs": []}
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=30)
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
    try:
        for command in settings["commands"]:
            env = {name: value.replace("{aws}", aws.url) for name, value in command["env"].items()}
            completed = subprocess.run(command["argv"], input=command.get("stdin", "").encode(), capture_output=True,
                                       env=env, timeout=120)
            result["runs"].append({"returncode": completed.returncode, "stdout": completed.stdout.decode(errors="replace"),
                                   "stderr": completed.stderr.decode(errors="replace")})
    finally:
        server.shutdown()
        aws.stop()
        result["registry_log"] = registry.log
        result["aws_requests"] = [{k: v for k, v in r.items() if k in ("kind", "error", "key", "region")} for r in aws.requests]
        Path(settings["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
