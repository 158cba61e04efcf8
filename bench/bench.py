#!/usr/bin/env python3
"""Benchmark of docker-credential-ecr beside the AWS Go helper: medians of whole-process runs, as docker runs them.

Every case is a fresh process started with posix_spawn, stdin from a file and stdout to
/dev/null, timed from spawn to exit; peak RSS comes from separate runs under /usr/bin/time. Cases run interleaved,
round after round, in a new (seeded) random order each round, so drift on the machine and the
aftermath of one case (a daemon still busy) touch them all alike; `/bin/true` runs in the same
rounds as the floor, and each tool's time is given net of it (median minus the floor's median).

The peer is Debian's amazon-ecr-credential-helper (`docker-credential-ecr-login`, installed by
`./install --dev`). Its version ignores AWS_ENDPOINT_URL_ECR, so it cannot fetch from the
emulator: its cache hit is timed from a `~/.ecr/cache.json` seeded in its own format, and
HTTPS_PROXY points at a closed loopback port so that nothing it tries can leave the machine.

Cases: the start-up floor (bench/floor.swift, a Swift program that writes one line, built by
`scripts/build-release --start-up-floor` with the release binaries' runtime and link: the part of
every start that no change to this package's code removes); `version`; `get` for a non-ECR host; a cache-hit `get` from the private file cache and,
in keyring mode with a real gnome-keyring on a private D-Bus session, from the kernel keyring tier
and from the Secret Service alone (the kernel tier turned off); a cold `get` against the
loopback ECR emulator (the cache is emptied before each run); 50 parallel cold `get`s for one
registry (requests made: single flight) and 30 parallel `get`s for 30 registries (entries kept);
and a failing `get` off EC2 with no credentials, when the metadata endpoint refuses connections
and when it never answers. Side by side with the peer: cache-hit `get`, `list`, the failing
`get`s (few runs: the peer takes seconds each) and peak RSS.

With `--compare PATH` (another build of docker-credential-ecr, such as the one before a change),
its `version` and file-cache hit run in the same rounds, against the same cache, and a last table
gives both builds side by side: a before-and-after that the machine's drift cannot skew.

Usage: bench/bench.py [--runs N] [--failure-runs N] [--binary PATH] [--peer PATH] [--compare PATH]
"""
import argparse
import base64
import concurrent.futures
import datetime
import hashlib
import json
import platform
import random
import select
import signal
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

# Every wait is bounded: a run that hangs (a helper waiting on a metadata service that never
# answers, a daemon that never starts) ends the benchmark with a message instead of stalling it.
RUN_LIMIT = 60  # seconds for one measured run; the peer's failing get takes 12-18 s off EC2
CALL_LIMIT = 30  # seconds for a set-up or clean-up command


class Hung(Exception):
    """A run that did not finish within its limit."""


def spawn_time(argv, stdin_path, env, limit=RUN_LIMIT):
    """Seconds from posix_spawn to exit of one run, and its exit status; Hung after `limit` s."""
    actions = [(os.POSIX_SPAWN_OPEN, 0, stdin_path, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)]
    started = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
    # A pidfd becomes readable when the child exits: the wait has a deadline and costs one poll.
    exited = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([exited], [], [], limit)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise Hung(f"{' '.join(argv)} did not exit within {limit} s")
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(exited)
    elapsed = (time.perf_counter_ns() - started) / 1e9
    return elapsed, os.waitstatus_to_exitcode(status)


def peak_rss(argv, stdin_path, env, report):
    """(seconds, exit status, peak RSS in KiB) of one run under GNU time.

    wait4 on a child of posix_spawn would report Python's own RSS (the child shares its memory
    until exec); /usr/bin/time forks from a small process, so %M is the program's own peak."""
    elapsed, status = spawn_time(["/usr/bin/time", "-f", "%M", "-o", report, *argv], stdin_path, env)
    return elapsed, status, int(Path(report).read_text().split()[-1])


def seed_peer_cache(home, access_key_id):
    """A fresh cache hit for the peer: its ~/.ecr/cache.json (format 1.0) with a token for HOST and one
    for ECR Public, under the keys it derives from the region and access key id."""
    # Its key: "<region>-<checksum>-<registry id>", checksum = base64 of md5.Sum(accessKeyID), which
    # (as written in its source) appends the digest of nothing to the key id instead of hashing it.
    checksum = base64.b64encode(access_key_id.encode() + hashlib.md5(b"").digest()).decode()
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def entry(service, endpoint):
        return {"AuthorizationToken": base64.b64encode(b"AWS:peer-token").decode(), "RequestedAt": stamp(now),
                "ExpiresAt": stamp(now + datetime.timedelta(hours=12)), "ProxyEndpoint": endpoint, "Service": service}
    registries = {f"us-west-2-{checksum}-{HOST.split('.')[0]}": entry("ecr", f"https://{HOST}"),
                  f"ecr-public-{checksum}": entry("ecr-public", "https://public.ecr.aws")}
    (home / ".ecr").mkdir(parents=True, exist_ok=True)
    (home / ".ecr/cache.json").write_text(json.dumps({"Registries": registries, "Version": "1.0"}))


def closed_port():
    """A loopback port nothing listens on."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        return closed.getsockname()[1]


def machine():
    """CPU model and core count, for the record."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))})"


def start_keyring(directory):
    """A private session bus with an unlocked gnome-keyring; returns (env, processes) or (None, reason)."""
    for tool in ("dbus-daemon", "gnome-keyring-daemon", "gdbus"):
        if shutil.which(tool) is None:
            return None, f"{tool} is not installed (./install --dev)"
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1", f"--address=unix:path={directory}/bus"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if not select.select([bus.stdout], [], [], 10)[0]:
        bus.kill()
        bus.wait(timeout=CALL_LIMIT)
        return None, "dbus-daemon printed no address within 10 s"
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
                                "org.freedesktop.secrets"], capture_output=True, text=True, env={**os.environ, **env},
                               timeout=CALL_LIMIT)
        if "true" in owner.stdout:
            return env, [keyring, bus]
        time.sleep(0.05)
    for process in (keyring, bus):
        process.kill()
        process.wait(timeout=CALL_LIMIT)
    return None, "gnome-keyring-daemon did not start"


def main():
    parser = argparse.ArgumentParser(description="docker-credential-ecr benchmark, beside the AWS Go helper")
    parser.add_argument("--runs", type=int, default=200, help="runs per case (default 200)")
    parser.add_argument("--failure-runs", type=int, default=3,
                        help="runs per tool of each failing get (default 3; the peer takes 10-20 s each)")
    parser.add_argument("--binary", default=str(REPOSITORY / ".build/release/docker-credential-ecr"),
                        help="the binary to measure (default: the release build of scripts/build-release)")
    parser.add_argument("--peer", default=shutil.which("docker-credential-ecr-login"),
                        help="the AWS Go helper (default: docker-credential-ecr-login on PATH)")
    parser.add_argument("--compare", help="another build of docker-credential-ecr to time beside --binary (version, file-cache hit)")
    arguments = parser.parse_args()
    binary = os.path.abspath(arguments.binary)
    if not os.path.isfile(binary):
        sys.exit(f"{binary} is missing: build it with scripts/build-release")
    compare = os.path.abspath(arguments.compare) if arguments.compare else None
    if compare and not os.path.isfile(compare):
        sys.exit(f"{compare} is missing")
    peer = arguments.peer
    if not peer or not os.path.isfile(peer):
        sys.exit("docker-credential-ecr-login is missing: ./install --dev installs Debian's amazon-ecr-credential-helper")

    emulator = AWSEmulator({"AKIABENCH": "bench-secret"})
    emulator.serve()
    scratch = Path(tempfile.mkdtemp(prefix="ecr-bench."))
    bus_env, keyring_processes, keyring_env = None, [], None
    try:
        env = {"HOME": str(scratch), "PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(scratch / "cache"),
               "XDG_DATA_HOME": str(scratch / "data"), "AWS_ACCESS_KEY_ID": "AKIABENCH",
               "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_ENDPOINT_URL_ECR": emulator.url,
               "AWS_EC2_METADATA_DISABLED": "true"}
        # The peer: its own home with a seeded cache; any request it makes goes to a closed loopback port.
        blackhole = f"http://127.0.0.1:{closed_port()}"
        peer_home = scratch / "peer"
        seed_peer_cache(peer_home, "AKIABENCH")
        peer_env = {"HOME": str(peer_home), "PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "AKIABENCH",
                    "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_EC2_METADATA_DISABLED": "true",
                    "HTTPS_PROXY": blackhole, "HTTP_PROXY": blackhole}
        inputs = {}
        kubelet_request = json.dumps({"kind": "CredentialProviderRequest", "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
                                      "image": f"{HOST}/app"})
        for name, text in (("ecr", HOST), ("other", "ghcr.io"), ("none", ""), ("kubelet", kubelet_request)):
            inputs[name] = str(scratch / f"{name}.txt")
            Path(inputs[name]).write_text(text)
        cold_env = dict(env, XDG_CACHE_HOME=str(scratch / "cold-cache"))
        plugin = os.path.join(os.path.dirname(binary), "ecr-credential-provider")
        plugin_cold_env = dict(env, XDG_CACHE_HOME=str(scratch / "plugin-cold-cache"))
        keyring_home = scratch / "keyring"
        keyring_home.mkdir()
        bus_env, keyring_processes = start_keyring(keyring_home)

        # Warm the cache for the hit case and check every case answers as expected.
        assert spawn_time([binary, "get"], inputs["ecr"], env)[1] == 0, "get against the emulator failed"
        assert spawn_time([peer, "get"], inputs["ecr"], peer_env)[1] == 0, "the peer's cache hit failed (cache format?)"
        assert spawn_time([plugin], inputs["kubelet"], env)[1] == 0, "the kubelet plugin failed against the emulator"
        true = shutil.which("true")
        floor_program = str(scratch / "floor")
        built = subprocess.run([str(REPOSITORY / "scripts/build-release"), "--start-up-floor", floor_program],
                               capture_output=True, text=True, timeout=300)
        if built.returncode != 0:
            sys.exit(f"scripts/build-release --start-up-floor failed: {built.stderr.strip()}")
        cases = {
            "/bin/true (floor)": ([true], inputs["none"], env, 0, None),
            "Swift start-up floor": ([floor_program], inputs["none"], env, 0, None),
            "version": ([binary, "version"], inputs["none"], env, 0, None),
            "get, not ECR": ([binary, "get"], inputs["other"], env, 1, None),
            "get, cache hit (file)": ([binary, "get"], inputs["ecr"], env, 0, None),
            "peer: get, cache hit": ([peer, "get"], inputs["ecr"], peer_env, 0, None),
            "list": ([binary, "list"], inputs["none"], env, 0, None),
            "peer: list": ([peer, "list"], inputs["none"], peer_env, 0, None),
            "get, cold (emulator)": ([binary, "get"], inputs["ecr"], cold_env, 0, scratch / "cold-cache"),
            "kubelet plugin, cache hit": ([plugin], inputs["kubelet"], env, 0, None),
            "kubelet plugin, cold": ([plugin], inputs["kubelet"], plugin_cold_env, 0, scratch / "plugin-cold-cache"),
        }
        if compare:
            assert spawn_time([compare, "get"], inputs["ecr"], env)[1] == 0, "the --compare build missed the cache"
            cases["compare: version"] = ([compare, "version"], inputs["none"], env, 0, None)
            cases["compare: get, cache hit (file)"] = ([compare, "get"], inputs["ecr"], env, 0, None)
        if bus_env:
            keyring_env = dict(env, XDG_CACHE_HOME=str(scratch / "keyring-cache"), **bus_env)
            assert spawn_time([binary, "get"], inputs["ecr"], keyring_env)[1] == 0, "get with the keyring failed"
            assert not list((scratch / "keyring-cache").glob("docker-credential-ecr/*.json")), "the token did not go to the keyring"
            cases["get, hit, keyring (kernel)"] = ([binary, "get"], inputs["ecr"], keyring_env, 0, None)
            cases["get, hit, keyring (SS only)"] = ([binary, "get"], inputs["ecr"],
                                                    dict(keyring_env, DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING="off"), 0, None)
        samples = {name: [] for name in cases}
        rss = {name: [] for name in cases}
        report = str(scratch / "time.txt")
        # A new order every round: a case never always follows the same one (a cold get's emulator
        # thread, or the keyring daemon still busy after a Secret Service lookup, would slow it).
        shuffler = random.Random(10)
        for round in range(arguments.runs):
            order = list(cases.items())
            shuffler.shuffle(order)
            for name, (argv, stdin_path, case_env, expected, reset) in order:
                if reset is not None:
                    shutil.rmtree(reset, ignore_errors=True)
                elapsed, status = spawn_time(argv, stdin_path, case_env)
                if status != expected:
                    sys.exit(f"{name}: exit status {status}, expected {expected}")
                samples[name].append(elapsed * 1000)
                if round < 20:  # peak RSS: a separate run under /usr/bin/time, in the first 20 rounds
                    if reset is not None:
                        shutil.rmtree(reset, ignore_errors=True)
                    rss[name].append(peak_rss(argv, stdin_path, case_env, report)[2])

        floor = statistics.median(samples["/bin/true (floor)"])
        print(f"docker-credential-ecr benchmark, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
        print(f"machine: {machine()}; {platform.system()} {platform.release()}")
        print(f"command: bench/bench.py {' '.join(sys.argv[1:])}".rstrip())
        print(f"binary: {binary}; peer: {peer}")
        print(f"\n{arguments.runs} interleaved runs per case; net = median - median of /bin/true ({floor:.2f} ms); "
              f"peak RSS from 20 more runs under /usr/bin/time\n")
        print(f"| {'case':<30} | {'median ms':>9} | {'p90 ms':>7} | {'net ms':>7} | {'peak RSS KiB':>12} |")
        print(f"|{'-' * 32}|{'-' * 11}:|{'-' * 8}:|{'-' * 8}:|{'-' * 13}:|")
        for name, values in samples.items():
            median = statistics.median(values)
            p90 = statistics.quantiles(values, n=10)[-1]
            print(f"| {name:<30} | {median:>9.2f} | {p90:>7.2f} | {median - floor:>7.2f} | {statistics.median(rss[name]):>12.0f} |")
        if not bus_env:
            print(f"get, cache hit (keyring): not measured: {keyring_processes}")
        else:
            file_net = statistics.median(samples["get, cache hit (file)"]) - floor
            print(f"\nKeyring mode against file mode (net of /bin/true; the kernel tier is the kernel keyring in front of "
                  f"the Secret Service, SS only is DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING=off)\n")
            print(f"| {'case':<40} | {'net ms':>7} | {'/ file hit':>10} |")
            print(f"|{'-' * 42}|{'-' * 8}:|{'-' * 11}:|")
            for name in ("get, cache hit (file)", "get, hit, keyring (kernel)", "get, hit, keyring (SS only)"):
                net = statistics.median(samples[name]) - floor
                print(f"| {name:<40} | {net:>7.2f} | {net / file_net if file_net > 0 else float('inf'):>9.2f}x |")

        # Off EC2 with no credentials at all: how long until docker can go on anonymously.
        bare = {"HOME": str(scratch / "bare"), "PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(scratch / "bare-cache")}
        peer_bare = {"HOME": str(scratch / "peer-bare"), "PATH": "/usr/bin:/bin", "HTTPS_PROXY": blackhole, "HTTP_PROXY": blackhole}
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        failures = {}
        for label, port in (("metadata refused", closed_port()), ("metadata silent", silent.getsockname()[1])):
            metadata = {"AWS_EC2_METADATA_SERVICE_ENDPOINT": f"http://127.0.0.1:{port}"}
            times = {"ours": [], "peer": [], "floor": []}
            peaks = {"ours": [], "peer": []}
            for _ in range(arguments.failure_runs):
                for tool, argv, case_env in (("floor", [true], bare), ("ours", [binary, "get"], dict(bare, **metadata)),
                                             ("peer", [peer, "get"], dict(peer_bare, **metadata))):
                    # Under /usr/bin/time, the floor too: its fork costs the same in every column.
                    elapsed, status, peak = peak_rss(argv, inputs["ecr"], case_env, report)
                    if status != (0 if tool == "floor" else 1):
                        sys.exit(f"failing get ({label}, {tool}): exit status {status}, expected 1")
                    times[tool].append(elapsed * 1000)
                    if tool != "floor":
                        peaks[tool].append(peak)
            failures[label] = (times, peaks)
        silent.close()

        print(f"\nSide by side with the AWS Go helper (net of /bin/true; failing gets: {arguments.failure_runs} runs each, "
              f"interleaved with their own /bin/true)\n")
        print(f"| {'case':<40} | {'ours net ms':>11} | {'peer net ms':>11} | {'peer / ours':>11} |")
        print(f"|{'-' * 42}|{'-' * 12}:|{'-' * 12}:|{'-' * 12}:|")

        def row(label, ours, theirs):
            print(f"| {label:<40} | {ours:>11.2f} | {theirs:>11.2f} | {theirs / ours if ours > 0 else float('inf'):>10.1f}x |")
        row("get, cache hit", statistics.median(samples["get, cache hit (file)"]) - floor,
            statistics.median(samples["peer: get, cache hit"]) - floor)
        row("list", statistics.median(samples["list"]) - floor, statistics.median(samples["peer: list"]) - floor)
        # The best ratio any hit can reach in a Swift program linked this way: the peer's hit against the floor.
        row("Swift start-up floor, against peer's hit", statistics.median(samples["Swift start-up floor"]) - floor,
            statistics.median(samples["peer: get, cache hit"]) - floor)
        for label, (times, _) in failures.items():
            failure_floor = statistics.median(times["floor"])
            row(f"get, no credentials, {label}", statistics.median(times["ours"]) - failure_floor,
                statistics.median(times["peer"]) - failure_floor)
        print(f"\n| {'peak RSS, KiB (median)':<40} | {'ours':>11} | {'peer':>11} | {'peer / ours':>11} |")
        print(f"|{'-' * 42}|{'-' * 12}:|{'-' * 12}:|{'-' * 12}:|")
        for label, ours, theirs in (("get, cache hit", rss["get, cache hit (file)"], rss["peer: get, cache hit"]),
                                    ("list", rss["list"], rss["peer: list"]),
                                    *((f"get, no credentials, {label}", peaks["ours"], peaks["peer"])
                                      for label, (_, peaks) in failures.items())):
            ours, theirs = statistics.median(ours), statistics.median(theirs)
            print(f"| {label:<40} | {ours:>11.0f} | {theirs:>11.0f} | {theirs / ours:>10.1f}x |")

        if compare:
            print(f"\nThis build against --compare {compare} (net of /bin/true, same rounds, same cache)\n")
            print(f"| {'case':<40} | {'this build':>11} | {'--compare':>11} | {'compare / this':>14} |")
            print(f"|{'-' * 42}|{'-' * 12}:|{'-' * 12}:|{'-' * 15}:|")
            for name in ("version", "get, cache hit (file)"):
                this = statistics.median(samples[name]) - floor
                other = statistics.median(samples[f"compare: {name}"]) - floor
                print(f"| {name:<40} | {this:>11.2f} | {other:>11.2f} | {other / this if this > 0 else float('inf'):>13.2f}x |")

        # Parallel pulls: single flight for one registry, no lost entries for many.
        emulator.reset()
        emulator.delay = 0.2
        parallel_env = dict(env, XDG_CACHE_HOME=str(scratch / "parallel-one"))
        run = lambda host_env: subprocess.run([binary, "get"], input=host_env[0].encode(), env=host_env[1],
                                               capture_output=True, timeout=RUN_LIMIT).returncode
        with concurrent.futures.ThreadPoolExecutor(50) as pool:
            statuses = list(pool.map(run, [(HOST, parallel_env)] * 50))
        fetched = sum(1 for r in emulator.requests if r["error"] is None)
        print(f"\n50 parallel cold gets, one registry: {statuses.count(0)}/50 succeeded, {fetched} GetAuthorizationToken call(s)")
        emulator.reset()
        many_env = dict(env, XDG_CACHE_HOME=str(scratch / "parallel-many"))
        hosts = [f"{100000000000 + n}.dkr.ecr.us-west-2.amazonaws.com" for n in range(30)]
        with concurrent.futures.ThreadPoolExecutor(30) as pool:
            statuses = list(pool.map(run, [(host, many_env) for host in hosts]))
        listed = json.loads(subprocess.run([binary, "list"], env=many_env, capture_output=True, timeout=CALL_LIMIT).stdout)
        print(f"30 parallel gets, 30 registries: {statuses.count(0)}/30 succeeded, {len(listed)} cache entries kept")
    finally:
        if keyring_env:
            # The kernel keyring outlives this run: take this run's tokens out of it.
            subprocess.run([binary, "logout", "--all"], env=keyring_env, capture_output=True, timeout=CALL_LIMIT)
        if bus_env:
            for process in keyring_processes:
                process.terminate()
                try:
                    process.wait(timeout=CALL_LIMIT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=CALL_LIMIT)
        emulator.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
