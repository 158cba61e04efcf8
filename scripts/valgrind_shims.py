#!/usr/bin/env python3
"""Runs the release binary's C-shim paths under valgrind memcheck; fails on any error or definite leak.

- libcurl (CurlTransport): a cold `get` against the loopback AWS emulator of the end-to-end
  tests (Tests/e2e/emulators/aws_emulator.py), then a cache hit;
- libsecret (and GLib, D-Bus): `store`, `get`, `list` and `erase` of a login, and a `get` that
  fetches a token and keeps it, against a real gnome-keyring-daemon on a private session bus.

Suppressions (scripts/valgrind.supp) cover only allocations that are not this tool's: GLib's and
libsecret's one-time, process-lifetime state. Each run's full report is kept in
.build-valgrind/<case>.log.

Usage: scripts/valgrind_shims.py [--binary PATH]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "Tests/e2e"))
sys.path.insert(0, str(REPOSITORY / "bench"))
from emulators.aws_emulator import AWSEmulator  # noqa: E402
from bench import start_keyring  # noqa: E402

HOST = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
REPORTS = REPOSITORY / ".build-valgrind"


def memcheck(log_name, binary, action, stdin, env):
    """One run under memcheck; returns (ok, summary, completed process)."""
    log = REPORTS / f"{log_name}.log"
    command = ["valgrind", "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite",
               "--errors-for-leak-kinds=definite", "--error-exitcode=99", "--track-fds=no",
               f"--suppressions={REPOSITORY / 'scripts/valgrind.supp'}", f"--log-file={log}", binary, action]
    result = subprocess.run(command, input=stdin.encode(), env=env, capture_output=True, timeout=300)
    report = log.read_text()
    definite = re.search(r"definitely lost: ([\d,]+) bytes in ([\d,]+) blocks", report)
    errors = re.search(r"ERROR SUMMARY: (\d+) errors", report)
    summary = (f"exit {result.returncode:<3} errors {errors.group(1) if errors else '?':<3} "
               f"definitely lost {definite.group(1) if definite else 0} bytes")
    ok = result.returncode != 99 and errors is not None and errors.group(1) == "0"
    return ok, summary, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=str(REPOSITORY / ".build/release/docker-credential-ecr"))
    binary = os.path.abspath(parser.parse_args().binary)
    for tool in ("valgrind",):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (./install --dev)")
    if not os.path.isfile(binary):
        sys.exit(f"{binary} is missing: build it with scripts/build-release")
    shutil.rmtree(REPORTS, ignore_errors=True)
    REPORTS.mkdir()

    emulator = AWSEmulator({"AKIAVALGRIND": "valgrind-secret"})
    emulator.serve()
    scratch = Path(tempfile.mkdtemp(prefix="ecr-valgrind."))
    keyring_processes = []
    failures = 0
    try:
        env = {"HOME": str(scratch), "PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(scratch / "cache"),
               "XDG_DATA_HOME": str(scratch / "data"), "AWS_ACCESS_KEY_ID": "AKIAVALGRIND",
               "AWS_SECRET_ACCESS_KEY": "valgrind-secret", "AWS_ENDPOINT_URL_ECR": emulator.url,
               "AWS_EC2_METADATA_DISABLED": "true", "DOCKER_CREDENTIAL_ECR_CACHE": "file"}
        login = json.dumps({"ServerURL": "https://registry.example", "Username": "user", "Secret": "secret"})
        cases = [("curl: get, cold", "get", HOST, env, 0),
                 ("curl: get, cache hit", "get", HOST, env, 0)]
        keyring_home = scratch / "keyring"
        keyring_home.mkdir()
        bus_env, keyring_processes = start_keyring(keyring_home)
        if bus_env is None:
            sys.exit(f"cannot start the keyring: {keyring_processes}")
        keyring_env = dict(env, DOCKER_CREDENTIAL_ECR_CACHE="keyring", XDG_CACHE_HOME=str(scratch / "keyring-cache"), **bus_env)
        cases += [("libsecret: store", "store", login, keyring_env, 0),
                  ("libsecret: get (login)", "get", "https://registry.example", keyring_env, 0),
                  ("libsecret+curl: get (token)", "get", HOST, keyring_env, 0),
                  ("libsecret: get (token hit)", "get", HOST, keyring_env, 0),
                  ("libsecret: list", "list", "", keyring_env, 0),
                  ("libsecret: erase", "erase", "https://registry.example", keyring_env, 0),
                  ("libsecret: get (erased)", "get", "https://registry.example", keyring_env, 1)]
        print(f"valgrind memcheck of {binary} (reports in {REPORTS.relative_to(REPOSITORY)}/)")
        for name, action, stdin, case_env, expected in cases:
            log_name = re.sub(r"[^a-z0-9]+", "-", name).strip("-")
            ok, summary, result = memcheck(log_name, binary, action, stdin, case_env)
            if result.returncode != expected:
                ok = False
                summary += f" (expected exit {expected}: {result.stdout.decode().strip()[:80]})"
            print(f"{'ok  ' if ok else 'FAIL'} {name:<30} {summary}")
            failures += 0 if ok else 1
        token_files = list((scratch / "keyring-cache").glob("docker-credential-ecr/*.json"))
        if token_files:
            print(f"FAIL the keyring run left token files: {token_files}")
            failures += 1
    finally:
        for process in keyring_processes if isinstance(keyring_processes, list) else []:
            process.terminate()
        emulator.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
