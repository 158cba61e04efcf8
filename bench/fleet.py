#!/usr/bin/env python3
"""Fleet simulation: many nodes that start together, against an ECR that throttles as ECR does.

Start-up burst. N nodes, each a release `ecr-credential-provider` process with its own HOME
(token cache and lock), its own access key and environment, all started within one second,
ask the loopback ECR emulator for a token. The emulator enforces ECR's token bucket for
GetAuthorizationToken (200 credits refilled at 20 per second), scaled down with N for this
machine: by default N = 100 with 20 credits and 2 per second. A node whose plugin run fails is
asked again as the kubelet does after a failed pull (10 s, then 20 s, 40 s, 80 s later). Reported:
the share of nodes with a token within 50 s, ECR calls per node, p50 and p99 time to a token.

Refresh herd. For 1,000 nodes that fetched their first token in the same second, the moments
they refresh 12-hour tokens over 24 hours, in virtual time, with the library's own refresh
point (read from the unit test RefreshHerdTests, which writes the points of node-0 ... node-999
when FLEET_REFRESH_FRACTIONS names a file; `swift build --build-tests` first). Refreshes are
counted when they are due; the kubelet asks at the same moment (its cacheDuration ends there). Reported: the
histogram of refreshes per 10 minutes and the peak refreshes in one second.

Both run today's behaviour as the baseline in the same run: for the burst, the same binary
with DOCKER_CREDENTIAL_ECR_THROTTLING_BUDGET=0 (a throttled fetch is tried three times quickly,
then fails: the policy before the throttling budget); for the herd, every node refreshing at
half the token's life.

Usage: bench/fleet.py [--nodes 100] [--rate 2] [--burst 20] [--binary PATH] [--plot fleet.png]
                      [--fractions FILE] [--skip-burst]
"""
import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY / "Tests/e2e"))
from emulators.aws_emulator import AWSEmulator, TokenBucket  # noqa: E402

HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
REQUEST = json.dumps({"kind": "CredentialProviderRequest", "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
                      "image": f"{HOST}/team/app"})
WITHIN = 50.0                     # the plugin's budget inside the kubelet's one-minute exec timeout
KUBELET_BACKOFF = [10, 20, 40, 80]  # the kubelet's image pull back-off after a failed pull
TOKEN_LIFE = 12 * 3600
DAY = 24 * 3600
REAL_REFILL = 20                  # ECR's GetAuthorizationToken refill, per second


def node_run(binary, env, emulator, key, started_at, outcome):
    """One node: the plugin, and the kubelet's retries after a failed run."""
    delays = [0] + KUBELET_BACKOFF
    for attempt, delay in enumerate(delays):
        if delay:
            time.sleep(delay)
        result = subprocess.run([str(binary)], input=REQUEST.encode(), capture_output=True, env=env, timeout=120)
        if result.returncode == 0:
            outcome[key] = {"time": time.monotonic() - started_at, "runs": attempt + 1}
            return
    outcome[key] = {"time": None, "runs": len(delays)}


def burst(binary, nodes, rate, burst_size, budget):
    """Runs the start-up burst once; returns per-node outcomes and ECR calls."""
    emulator = AWSEmulator({})
    emulator.serve()
    emulator.bucket = TokenBucket(rate, burst_size)
    outcome, threads = {}, []
    with tempfile.TemporaryDirectory(prefix="fleet-") as scratch:
        for index in range(nodes):
            key, secret = f"AKIANODE{index:05d}", f"secret-{index}"
            emulator.credentials[key] = secret
            home = Path(scratch) / f"node{index}"
            home.mkdir()
            env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "AWS_EC2_METADATA_DISABLED": "true",
                   "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_ENDPOINT_URL_ECR": emulator.url}
            if budget is not None:
                env["DOCKER_CREDENTIAL_ECR_THROTTLING_BUDGET"] = str(budget)
            thread = threading.Thread(target=node_run, args=(binary, env, emulator, key, time.monotonic(), outcome))
            thread.start()
            threads.append(thread)
            time.sleep(1.0 / nodes)  # all started within one second
        for thread in threads:
            thread.join()
    emulator.stop()
    calls = collections.Counter(r["key"] for r in emulator.requests if r["kind"] == "ecr")
    throttled = sum(1 for r in emulator.requests if r["kind"] == "ecr" and r["error"] == "ThrottlingException")
    return outcome, calls, throttled


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def summarize(name, nodes, outcome, calls, throttled):
    times = [o["time"] for o in outcome.values() if o["time"] is not None]
    row = {
        "policy": name, "nodes": nodes,
        "within": sum(1 for t in times if t <= WITHIN) / nodes,
        "eventually": len(times) / nodes,
        "calls": sum(calls.values()) / nodes, "max_calls": max(calls.values()),
        "throttled": throttled,
        "kubelet_runs": sum(o["runs"] for o in outcome.values()) / nodes,
        "p50": percentile(times, 0.5) if times else None, "p99": percentile(times, 0.99) if times else None,
        "times": times,
    }
    return row


def refresh_fractions(path):
    if path:
        document = json.loads(Path(path).read_text())
    else:
        with tempfile.TemporaryDirectory() as scratch:
            out = Path(scratch) / "fractions.json"
            env = dict(os.environ, FLEET_REFRESH_FRACTIONS=str(out))
            # The test bundle runs as is (no SwiftPM lock on .build); `swift test` when it is not built.
            bundles = sorted(REPOSITORY.glob(".build/*/debug/*PackageTests.xctest"))
            command = ([str(bundles[0]), "--testing-library", "swift-testing"] if bundles else ["swift", "test", "--skip-build"])
            subprocess.run(command + ["--filter", "RefreshHerdTests"], cwd=REPOSITORY, env=env,
                           check=True, capture_output=True, timeout=600)
            document = json.loads(out.read_text())
    return document["spread"], document["halfLife"]


def herd(fractions, start_spread=1.0):
    """Refresh moments over a day for nodes that fetched within `start_spread` seconds of 0."""
    moments = []
    count = len(fractions)
    for index, fraction in enumerate(fractions):
        moment = start_spread * index / count
        while True:
            moment += fraction * TOKEN_LIFE
            if moment >= DAY:
                break
            moments.append(moment)
    per_second = collections.Counter(int(m) for m in moments)
    bins = collections.Counter(int(m // 600) for m in moments)
    return moments, max(per_second.values()), bins


def plot(path, rows, herds, rate, burst_size):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    for row, style in zip(rows, ["-", "--"]):
        times = sorted(row["times"])
        shares = [(i + 1) / row["nodes"] for i in range(len(times))]
        left.step([0] + times, [0] + shares, style, where="post",
                  label=f"{row['policy']}: {row['calls']:.2f} calls/node, {row['within']:.0%} within 50 s")
    left.axvline(WITHIN, color="grey", linewidth=0.8)
    left.set_xlabel("seconds since the fleet started")
    left.set_ylabel("share of nodes with a token")
    left.set_title(f"Start-up burst: {rows[0]['nodes']} nodes, bucket {rate:g}/s, burst {burst_size}")
    left.set_ylim(0, 1.02)
    left.legend(loc="lower right", fontsize=8)
    for (name, (moments, peak, _)), style in zip(herds, ["-", "--"]):
        left_edges = [600 * i / 3600 for i in range(DAY // 600)]
        counts = collections.Counter(int(m // 600) for m in moments)
        right.step(left_edges, [counts.get(i, 0) for i in range(DAY // 600)], style, where="post",
                   label=f"{name}: peak {peak}/s")
    right.set_yscale("symlog")
    right.set_xlabel("hours since the fleet started")
    right.set_ylabel("refreshes per 10 minutes")
    right.set_title(f"Refresh herd: 1,000 nodes, 12-hour tokens (refill {REAL_REFILL}/s)")
    right.set_xlim(0, 24)
    right.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--rate", type=float, default=2.0, help="bucket refill per second (ECR: 20)")
    parser.add_argument("--burst", type=int, default=20, help="bucket size (ECR: 200)")
    parser.add_argument("--binary", type=Path, default=REPOSITORY / ".build/release/ecr-credential-provider")
    parser.add_argument("--plot", type=Path, default=REPOSITORY / "bench/fleet.png")
    parser.add_argument("--fractions", help="refresh points written by RefreshHerdTests, instead of running it")
    parser.add_argument("--skip-burst", action="store_true")
    arguments = parser.parse_args()

    rows = []
    if not arguments.skip_burst:
        for name, budget in [("spread retries (50 s budget)", None), ("baseline: three quick tries", 0)]:
            outcome, calls, throttled = burst(arguments.binary, arguments.nodes, arguments.rate, arguments.burst, budget)
            rows.append(summarize(name, arguments.nodes, outcome, calls, throttled))
        print(f"Start-up burst: {arguments.nodes} nodes started within 1 s, bucket {arguments.rate:g}/s and {arguments.burst} "
              f"(ECR: {REAL_REFILL}/s and 200); a failed run is repeated at the kubelet's back-off ({', '.join(map(str, KUBELET_BACKOFF))} s)")
        print(f"| policy | token within 50 s | token at all | ECR calls per node (max) | throttled calls | plugin runs per node "
              f"| p50 to a token | p99 to a token |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for row in rows:
            p50 = f"{row['p50']:.1f} s" if row["p50"] is not None else "-"
            p99 = f"{row['p99']:.1f} s" if row["p99"] is not None else "-"
            print(f"| {row['policy']} | {row['within']:.0%} | {row['eventually']:.0%} | {row['calls']:.2f} ({row['max_calls']}) "
                  f"| {row['throttled']} | {row['kubelet_runs']:.2f} | {p50} | {p99} |")

    spread, half = refresh_fractions(arguments.fractions)
    herds = [("refresh point 40-60% per machine", herd(spread)), ("baseline: half-life", herd(half))]
    print(f"\nRefresh herd: {len(spread)} nodes that fetched in the same second, 12-hour tokens, 24 hours (virtual time)")
    print("| policy | refreshes in 24 h | peak per second | busiest 10 minutes | first and last refresh of the first round |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, (moments, peak, bins) in herds:
        first_round = sorted(moments)[:len(spread)]
        print(f"| {name} | {len(moments)} | {peak} | {max(bins.values())} "
              f"| {first_round[0] / 3600:.2f} h to {first_round[-1] / 3600:.2f} h |")
    print("\nRefreshes per hour (spread / baseline):")
    for hour in range(24):
        counts = [sum(1 for m in moments if hour * 3600 <= m < (hour + 1) * 3600) for _, (moments, _, _) in herds]
        print(f"  {hour:2d}h  {counts[0]:5d}  {counts[1]:5d}")
    if rows:
        try:
            plot(arguments.plot, rows, herds, arguments.rate, arguments.burst)
            print(f"\nplot: {arguments.plot}")
        except ImportError:
            print("\nno plot: matplotlib is missing (./install --dev installs python3-matplotlib)")


if __name__ == "__main__":
    main()
