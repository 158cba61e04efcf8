#!/usr/bin/env python3
"""Benchmark of docker-credential-ecr: medians of whole-process runs, as docker runs it.

Every case is a fresh process started with posix_spawn, stdin from a file and stdout to
/dev/null, timed from spawn to exit. Cases run interleaved, round after round, so drift on
the machine touches them all alike; `/bin/true` runs in the same rounds as the floor, and
every median is also given as a ratio to it.

Cases: `version`; `get` for a non-ECR host; a cache-hit `get` from the private file cache and
from a real gnome-keyring on a private D-Bus session; a cold `get` against the
loopback ECR emulator (the cache is emptied before each run); 50 parallel cold `get`s for one
registry (requests made: single flight) and 30 parallel `get`s for 30 registries (entries kept);
and a failing `get` off EC2 with no credentials, when the metadata endpoint refuses connections
and when it never answers.

Usage: bench/bench.py [--runs N] [--binary PATH]
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "Tests/e2e"))
from emulators.aws_emulator import AWSEmulator  # noqa: E402

HOST = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
PEER_CACHE_HIT_MS = 14.6  # the AWS Go helper on this kind of machine (SPEC.md section 2)
PEER_COLD_MS = 20.4
PEER_REFUSED_S = 12.5  # off EC2, no credentials, metadata endpoint refusing connections
PEER_SILENT_S = 18.6   # ... and never answering


def spawn_time(argv, stdin_path, env):
    """Seconds from posix_spawn to exit of one run; fails loudly on a non-zero status."""
    actions = [(os.POSIX_SPAWN_OPEN, 0, stdin_path, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)]
    started = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
    _, status = os.waitpid(pid, 0)
    elapsed = (time.perf_counter_ns() - started) / 1e9
    return elapsed, os.waitstatus_to_exitcode(status)


def start_keyring(directory):
    """A private session bus with an unlocked gnome-keyring; returns (env, processes) or (None, reason)."""
    for tool in ("dbus-daemon", "gnome-keyring-daemon", "gdbus"):
        if shutil.which(tool) is None:
            return None, f"{tool} is not installed (./install --dev)"
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1", f"--address=unix:path={directory}/bus"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    env = {"DBUS_SESSION_BUS_ADDRESS": bus.stdout.readline().strip()}
    keyring = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={"HOME": str(directory), "PATH": os.environ["PATH"], **env})
    keyring.stdin.write(b"bench")
    keyring.stdin.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        owner = subprocess.run(["gdbus", "call", "--session", "--dest", "org.freedesktop.DBus", "--object-path",
                                "/org/freedesktop/DBus", "--method", "org.freedesktop.DBus.NameHasOwner",
                                "org.freedesktop.secrets"], capture_output=True, text=True, env={**os.environ, **env})
        if "true" in owner.stdout:
            return env, [keyring, bus]
        time.sleep(0.05)
    for process in (keyring, bus):
        process.kill()
    return None, "gnome-keyring-daemon did not start"


def main():
    parser = argparse.ArgumentParser(description="docker-credential-ecr benchmark")
    parser.add_argument("--runs", type=int, default=200, help="runs per case (default 200)")
    parser.add_argument("--binary", default=str(REPOSITORY / ".build/release/docker-credential-ecr"),
                        help="the binary to measure (default: the release build of scripts/build-release)")
    arguments = parser.parse_args()
    binary = os.path.abspath(arguments.binary)
    if not os.path.isfile(binary):
        sys.exit(f"{binary} is missing: build it with `swift build -c release --static-swift-stdlib`")

    emulator = AWSEmulator({"AKIABENCH": "bench-secret"})
    emulator.serve()
    scratch = Path(tempfile.mkdtemp(prefix="ecr-bench."))
    try:
        env = {"HOME": str(scratch), "PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(scratch / "cache"),
               "XDG_DATA_HOME": str(scratch / "data"), "AWS_ACCESS_KEY_ID": "AKIABENCH",
               "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_ENDPOINT_URL_ECR": emulator.url,
               "AWS_EC2_METADATA_DISABLED": "true"}
        inputs = {}
        for name, text in (("ecr", HOST), ("other", "ghcr.io"), ("none", "")):
            inputs[name] = str(scratch / f"{name}.txt")
            Path(inputs[name]).write_text(text)
        cold_env = dict(env, XDG_CACHE_HOME=str(scratch / "cold-cache"))
        keyring_home = scratch / "keyring"
        keyring_home.mkdir()
        bus_env, keyring_processes = start_keyring(keyring_home)

        # Warm the cache for the hit case and check every case answers as expected.
        assert spawn_time([binary, "get"], inputs["ecr"], env)[1] == 0, "get against the emulator failed"
        cases = {
            "/bin/true (floor)": ([shutil.which("true")], inputs["none"], env, 0, None),
            "version": ([binary, "version"], inputs["none"], env, 0, None),
            "get, not ECR": ([binary, "get"], inputs["other"], env, 1, None),
            "get, cache hit (file)": ([binary, "get"], inputs["ecr"], env, 0, None),
            "get, cold (emulator)": ([binary, "get"], inputs["ecr"], cold_env, 0, scratch / "cold-cache"),
        }
        if bus_env:
            keyring_env = dict(env, XDG_CACHE_HOME=str(scratch / "keyring-cache"), **bus_env)
            assert spawn_time([binary, "get"], inputs["ecr"], keyring_env)[1] == 0, "get with the keyring failed"
            assert not list((scratch / "keyring-cache").glob("docker-credential-ecr/*.json")), "the token did not go to the keyring"
            cases["get, cache hit (keyring)"] = ([binary, "get"], inputs["ecr"], keyring_env, 0, None)
        samples = {name: [] for name in cases}
        for _ in range(arguments.runs):
            for name, (argv, stdin_path, case_env, expected, reset) in cases.items():
                if reset is not None:
                    shutil.rmtree(reset, ignore_errors=True)
                elapsed, status = spawn_time(argv, stdin_path, case_env)
                if status != expected:
                    sys.exit(f"{name}: exit status {status}, expected {expected}")
                samples[name].append(elapsed * 1000)

        floor = statistics.median(samples["/bin/true (floor)"])
        print(f"docker-credential-ecr benchmark: {arguments.runs} interleaved runs per case, {os.cpu_count()} cores")
        print(f"{'case':<24} {'median ms':>10} {'p90 ms':>8} {'x floor':>8}")
        for name, values in samples.items():
            median = statistics.median(values)
            p90 = statistics.quantiles(values, n=10)[-1]
            print(f"{name:<24} {median:>10.2f} {p90:>8.2f} {median / floor:>8.1f}")
        if not bus_env:
            print(f"get, cache hit (keyring): not measured: {keyring_processes}")
        hit = statistics.median(samples["get, cache hit (file)"])
        cold = statistics.median(samples["get, cold (emulator)"])
        print(f"cache-hit get vs the AWS Go helper's {PEER_CACHE_HIT_MS} ms: {PEER_CACHE_HIT_MS / hit:.1f}x faster")
        print(f"cold get vs the AWS Go helper's {PEER_COLD_MS} ms: {PEER_COLD_MS / cold:.1f}x faster")

        # Parallel pulls: single flight for one registry, no lost entries for many.
        emulator.reset()
        emulator.delay = 0.2
        parallel_env = dict(env, XDG_CACHE_HOME=str(scratch / "parallel-one"))
        run = lambda host_env: subprocess.run([binary, "get"], input=host_env[0].encode(), env=host_env[1],
                                               capture_output=True).returncode
        with concurrent.futures.ThreadPoolExecutor(50) as pool:
            statuses = list(pool.map(run, [(HOST, parallel_env)] * 50))
        fetched = sum(1 for r in emulator.requests if r["error"] is None)
        print(f"50 parallel cold gets, one registry: {statuses.count(0)}/50 succeeded, {fetched} GetAuthorizationToken call(s)")
        emulator.reset()
        many_env = dict(env, XDG_CACHE_HOME=str(scratch / "parallel-many"))
        hosts = [f"{100000000000 + n}.dkr.ecr.us-west-2.amazonaws.com" for n in range(30)]
        with concurrent.futures.ThreadPoolExecutor(30) as pool:
            statuses = list(pool.map(run, [(host, many_env) for host in hosts]))
        listed = json.loads(subprocess.run([binary, "list"], env=many_env, capture_output=True).stdout)
        print(f"30 parallel gets, 30 registries: {statuses.count(0)}/30 succeeded, {len(listed)} cache entries kept")

        # Off EC2 with no credentials at all: how long until docker can go on anonymously.
        bare = {"HOME": str(scratch / "bare"), "PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(scratch / "bare-cache")}
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            refused_port = closed.getsockname()[1]
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        for label, port, runs, peer in (("metadata refuses connections", refused_port, 20, PEER_REFUSED_S),
                                        ("metadata never answers", silent.getsockname()[1], 5, PEER_SILENT_S)):
            failing = dict(bare, AWS_EC2_METADATA_SERVICE_ENDPOINT=f"http://127.0.0.1:{port}")
            times = []
            for _ in range(runs):
                elapsed, status = spawn_time([binary, "get"], inputs["ecr"], failing)
                if status != 1:
                    sys.exit(f"failing get ({label}): exit status {status}, expected 1")
                times.append(elapsed)
            median = statistics.median(times)
            print(f"failing get off EC2, {label}: median {median * 1000:.0f} ms over {runs} runs "
                  f"(AWS Go helper: {peer} s, {peer / median:.0f}x slower)")
        silent.close()
    finally:
        if bus_env:
            for process in keyring_processes:
                process.terminate()
        emulator.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
