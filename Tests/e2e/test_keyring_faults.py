"""A real gnome-keyring-daemon that stops answering (SIGSTOP) or dies, before or in the middle of
a `get`; and a replacement that must never lose the old login.

Time bounds are relative to the start-up of the same binary measured in the same test.
"""
import base64
import json
import os
import signal
import time

import pytest

from conftest import HOST, secret_tool

LOGIN = {"ServerURL": "https://registry.example", "Username": "me", "Secret": "s3cret"}


def startup(helper) -> float:
    started = time.monotonic()
    assert helper.run("version").returncode == 0
    return time.monotonic() - started


def keyring_daemon(bus):
    [process] = [p for p in bus.processes if "gnome-keyring-daemon" in " ".join(map(str, p.args))]
    return process


@pytest.fixture
def frozen(keyring):
    """Stops and resumes the keyring daemon; always resumed at the end."""
    daemon = keyring_daemon(keyring)
    yield daemon
    if daemon.poll() is None:
        os.kill(daemon.pid, signal.SIGCONT)


def token_files(helper):
    return sorted(helper.cache_dir.glob("*.json")) if helper.cache_dir.exists() else []


def test_a_frozen_keyring_falls_back_to_files_within_a_second(helper, keyring, frozen, emulator):
    assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
    os.kill(frozen.pid, signal.SIGSTOP)
    base = startup(helper)
    started = time.monotonic()
    document, out, err, status = helper.get(HOST, timeout=60, **emulator.env(DOCKER_CREDENTIAL_ECR_LOG="debug"))
    elapsed = time.monotonic() - started
    assert status == 0, out + err
    assert "the keyring is not available: the Secret Service did not answer within 1000 ms" in err
    assert len(token_files(helper)) == 1  # the file fallback served and cached
    assert elapsed < base + 2.5  # before: 25 s per D-Bus call
    os.kill(frozen.pid, signal.SIGCONT)
    assert "secret = s3cret" in secret_tool(keyring, "search", "--all", "registry", "registry.example")  # nothing lost


@pytest.mark.parametrize("how, message", [
    ("STOP", "could not cache the token: the keyring is not available: the Secret Service did not answer within 1000 ms"),
    ("KILL", "could not cache the token: keyring "),
])
def test_keyring_stopped_or_killed_between_lookup_and_store(helper, keyring, frozen, emulator, how, message):
    assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
    # credential_process runs after the cache lookup and before the store: it stops the daemon.
    script = helper.home / "creds.sh"
    script.write_text(f"#!/bin/sh\nkill -{how} {frozen.pid}\n"
                      f"echo '{{\"Version\": 1, \"AccessKeyId\": \"{emulator.key}\", \"SecretAccessKey\": \"{emulator.secret}\"}}'\n")
    script.chmod(0o755)
    helper.write_aws_file("config", f"[default]\ncredential_process = {script}\n")
    base = startup(helper)
    started = time.monotonic()
    document, out, err, status = helper.get(HOST, timeout=60, **emulator.credential_env())
    elapsed = time.monotonic() - started
    assert status == 0, out + err
    assert document["Username"] == "AWS"
    assert err.startswith(f"docker-credential-ecr: {HOST}: {message}"), err
    assert err.count("\n") == 1
    assert elapsed < base + 2.5
    if how == "STOP":
        os.kill(frozen.pid, signal.SIGCONT)
        assert "secret = s3cret" in secret_tool(keyring, "search", "--all", "registry", "registry.example")


def test_storing_a_login_with_an_absurd_expiration_replaces_the_old_one(helper, keyring):
    assert helper.run("store", stdin=json.dumps({"ServerURL": HOST, "Username": "AWS", "Secret": "old"})).returncode == 0
    secret = base64.b64encode(json.dumps({"expiration": 1e20, "payload": "x"}).encode()).decode()
    result = helper.run("store", stdin=json.dumps({"ServerURL": HOST, "Username": "AWS", "Secret": secret}))
    assert result.returncode == 0, result  # before: SIGILL (exit 132) after deleting the old login
    found = secret_tool(keyring, "search", "--all", "registry", HOST)
    assert found.count("secret = ") == 1 and f"secret = {secret}" in found
    assert "attribute.expires_at = " in found and "attribute.expires_at = never" not in found
    assert helper.get(HOST)[0]["Secret"] == secret


def test_a_keyring_item_with_an_absurd_expiry_is_ignored_not_a_crash(helper, keyring):
    # An item of our schema written by something else, with times no Int can hold.
    import subprocess
    tool = subprocess.run(["secret-tool", "store", "--label", "x", "xdg:schema", "io.github.docker_credential_ecr.Credential",
                           "registry", "registry.example", "kind", "login", "identity", "", "server_url", "registry.example",
                           "username", "u", "issued_at", "1e300", "expires_at", "inf", "version", "1"],
                          input=b"planted", capture_output=True, timeout=10, env={**os.environ, **keyring.env()})
    assert tool.returncode == 0, tool.stderr
    document, out, err, status = helper.get("registry.example")
    assert status == 1  # not served; and no crash
    assert json.loads(helper.run("list").stdout) == {}
