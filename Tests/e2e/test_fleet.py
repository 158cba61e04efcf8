"""A fleet that starts together: the release `ecr-credential-provider` on many nodes at once,
against an ECR emulator that throttles as ECR does (a token bucket).

Each node is its own process, with its own HOME (so its own token cache and lock) and its own
access key (so the emulator can count its calls); all start within one second, as the nodes of
one autoscaling step ask for their first token together.
"""
import json
import statistics
import subprocess
import threading
import time

from conftest import HOST
from test_kubelet import plugin  # noqa: F401  (the release plugin, as the kubelet runs it)
from emulators.aws_emulator import TokenBucket

REQUEST = json.dumps({"kind": "CredentialProviderRequest", "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
                      "image": f"{HOST}/team/app"})
DEADLINE = 50  # the plugin's budget for a throttled fetch, inside the kubelet's one minute


def test_forty_nodes_against_a_small_bucket_all_get_a_token_inside_the_deadline(plugin, emulator, tmp_path):
    nodes = 40
    emulator.settings(bucket=TokenBucket(rate=2, burst=5))
    request = tmp_path / "request.json"
    request.write_text(REQUEST)
    runs = []
    for index in range(nodes):
        home = tmp_path / f"node{index}"
        home.mkdir()
        key = f"AKIANODE{index:04d}"
        emulator.emulator.credentials[key] = f"secret-{index}"
        env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": f"secret-{index}", "AWS_ENDPOINT_URL_ECR": emulator.url}
        started = time.monotonic()
        with request.open("rb") as stdin:
            process = subprocess.Popen([str(plugin)], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        runs.append((key, started, process))
        time.sleep(1.0 / nodes)  # all of them within one second
    finished = {}

    def collect(key, started, process):  # one thread each, so every node's time is its own
        out, err = process.communicate(timeout=DEADLINE + 10)
        finished[key] = (time.monotonic() - started, process.returncode, out, err.decode())

    collectors = [threading.Thread(target=collect, args=run) for run in runs]
    for collector in collectors:
        collector.start()
    for collector in collectors:
        collector.join()
    calls = {key: len([r for r in emulator.requests if r["kind"] == "ecr" and r["key"] == key]) for key, _, _ in runs}
    times = sorted(elapsed for elapsed, _, _, _ in finished.values())
    print(f"\n{nodes} nodes, bucket 2/s burst 5: calls per node mean {statistics.mean(calls.values()):.2f} "
          f"max {max(calls.values())}; time to a token p50 {statistics.median(times):.1f} s, max {times[-1]:.1f} s")
    for key, (elapsed, status, out, err) in finished.items():
        assert status == 0, f"{key} after {elapsed:.1f} s and {calls[key]} calls: {err}"
        assert json.loads(out)["auth"][HOST]["username"] == "AWS"
        assert elapsed < DEADLINE + 5, f"{key} took {elapsed:.1f} s"  # the last attempt starts before the deadline
    assert max(calls.values()) <= 6
    assert statistics.mean(calls.values()) <= 2.5
    assert len(emulator.token_requests()) == nodes
