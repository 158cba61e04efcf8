"""A real gnome-keyring-daemon that stops answering (SIGSTOP) or dies, before or in the middle of
a `get`; and a replacement that must never lose the old login.

Time bounds are relative to the start-up of the same binary measured in the same test.
"""
import base64
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import kernel_keys
from conftest import HOST, SessionBus, secret_tool

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


# --- a Secret Service that answers late, wrongly or never (emulators/faulty_secret_service.py) ---

FAULTY = Path(__file__).resolve().parent / "emulators" / "faulty_secret_service.py"
DEBIAN_PYTHON = "/usr/bin/python3"


class FaultyService:
    """The faulty owner of org.freedesktop.secrets on the helper's bus; for the modes that pass
    calls on, a real gnome-keyring on a bus of its own behind it (`upstream`)."""

    def __init__(self, mode, helper, front, upstream=None):
        try:
            subprocess.run([DEBIAN_PYTHON, "-c", "import dbus, gi"], check=True, capture_output=True, timeout=30)
        except (OSError, subprocess.CalledProcessError):
            pytest.fail("python3-dbus and python3-gi are required: run `apt-get install python3-dbus python3-gi`")
        self.front, self.upstream = front, upstream
        self.log = front.directory / "faults.log"
        env = {**os.environ, **front.env(), "FAULTLOG": str(self.log)}
        if upstream is not None:
            env["UPSTREAM"] = upstream.address
        self.process = subprocess.Popen([DEBIAN_PYTHON, str(FAULTY), mode], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True, env=env)
        if self.process.stdout.readline().strip() != "ready":
            pytest.fail(f"the faulty Secret Service ({mode}) did not start")
        helper.env.update(front.env())

    def calls(self) -> list:
        return [line.split()[1] for line in self.log.read_text().splitlines()] if self.log.exists() else []

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        kernel_keys.clear(kernel_keys.scope(self.front.address))
        if self.upstream is not None:
            kernel_keys.clear(kernel_keys.scope(self.upstream.address))


@pytest.fixture
def faulty(helper, tmp_path):
    """faulty(mode, upstream=False): starts one; with upstream, a real gnome-keyring behind it."""
    started, buses = [], []

    def start(mode, upstream=False):
        front = SessionBus(tmp_path / "front")
        buses.append(front)
        behind = None
        if upstream:
            behind = SessionBus(tmp_path / "upstream")
            buses.append(behind)
            behind.start_keyring(helper.home)
        service = FaultyService(mode, helper, front, behind)
        started.append(service)
        return service

    for directory in ("front", "upstream"):
        (tmp_path / directory).mkdir()
    yield start
    for service in started:
        service.close()
    for bus in buses:
        bus.close()


def login_files(helper):
    directory = helper.home / ".local/share/docker-credential-ecr"
    return sorted(directory.glob("*.json")) if directory.exists() else []


def on(bus, **extra) -> dict:
    """The helper's environment pointed at another bus."""
    return {**bus.env(), **extra}


def own_lines(text: str) -> list:
    return [line for line in text.splitlines() if line]


def test_a_login_that_does_not_read_back_is_taken_back_and_kept_in_the_file(helper, faulty):
    """After CreateItem, the read-back by a new client fails (as it did inside a user namespace):
    the new item is deleted again, the old one stays, and auto mode keeps the login in the file."""
    service = faulty("readback-garbage", upstream=True)
    real = service.upstream
    assert helper.run("store", stdin=json.dumps(LOGIN), **on(real)).returncode == 0
    assert helper.get("registry.example", **on(real))[0]["Username"] == "me"  # a kernel copy of the old login
    new = dict(LOGIN, Username="you", Secret="new-secret")
    stored = helper.run("store", stdin=json.dumps(new))
    assert stored.returncode == 0, stored  # before: exit 1, "keyring read-back failed", the new item left behind
    lines = own_lines(stored.stderr.decode())
    assert len(lines) == 1 and "registry.example: kept in the private file, not in the keyring: " in lines[0], lines
    assert "CreateItem" in service.calls() and "Delete" in service.calls()
    held = secret_tool(real, "search", "--all", "registry", "registry.example")
    assert held.count("secret = ") == 1 and "secret = s3cret" in held, held  # the old item, and only it
    assert len(login_files(helper)) == 1
    for bus in (real,):
        document, out, err, status = helper.get("registry.example", **on(bus))
        assert status == 0 and document["Username"] == "you" and document["Secret"] == "new-secret", out + err
        assert json.loads(helper.run("list", **on(bus)).stdout) == {"https://registry.example": "you"}


def test_a_write_answered_late_falls_back_in_auto_mode(helper, faulty, timing):
    service = faulty("slow:CreateItem:2", upstream=True)
    real = service.upstream
    assert helper.run("store", stdin=json.dumps(LOGIN), **on(real)).returncode == 0
    new = dict(LOGIN, Username="you", Secret="late-secret")
    started = time.monotonic()
    stored = helper.run("store", stdin=json.dumps(new))
    elapsed = time.monotonic() - started
    assert stored.returncode == 0, stored  # before: exit 1 while the item landed anyway
    lines = own_lines(stored.stderr.decode())
    assert len(lines) == 1 and "kept in the private file, not in the keyring: " in lines[0] \
        and "did not answer within 1000 ms" in lines[0], lines
    assert elapsed < timing.limit(wait=1.0), elapsed
    assert len(login_files(helper)) == 1
    time.sleep(1.5)  # the late answer has gone out; the item is in the keyring
    assert "secret = late-secret" in secret_tool(real, "search", "--all", "registry", "registry.example")
    for bus in (service.front, real):
        document, out, err, status = helper.get("registry.example", **on(bus))
        assert status == 0 and document["Username"] == "you" and document["Secret"] == "late-secret", out + err
        assert json.loads(helper.run("list", **on(bus)).stdout) == {"https://registry.example": "you"}
    # the next store that reaches the keyring leaves one item: its own
    third = dict(LOGIN, Username="they", Secret="third")
    assert helper.run("store", stdin=json.dumps(third), **on(real)).returncode == 0
    held = secret_tool(real, "search", "--all", "registry", "registry.example")
    assert held.count("secret = ") == 1 and "secret = third" in held, held
    assert login_files(helper) == []


def test_a_write_answered_late_in_keyring_mode_fails_and_get_and_list_agree(helper, faulty):
    service = faulty("slow:CreateItem:2", upstream=True)
    real = service.upstream
    assert helper.run("store", stdin=json.dumps(LOGIN), **on(real)).returncode == 0
    assert helper.get("registry.example")[0]["Username"] == "me"  # a kernel copy of the old login
    stored = helper.run("store", stdin=json.dumps(dict(LOGIN, Username="you", Secret="late")), DOCKER_CREDENTIAL_ECR_CACHE="keyring")
    assert stored.returncode == 1
    message = stored.stdout.decode()
    assert "did not answer within 1000 ms" in message and "DOCKER_CREDENTIAL_ECR_CACHE" in message, message
    assert login_files(helper) == []
    time.sleep(1.5)
    for bus in (service.front, real):
        document, out, err, status = helper.get("registry.example", **on(bus, DOCKER_CREDENTIAL_ECR_CACHE="keyring"))
        listed = json.loads(helper.run("list", **on(bus, DOCKER_CREDENTIAL_ECR_CACHE="keyring")).stdout)
        assert status == 0 and listed == {"https://registry.example": document["Username"]}, (listed, out + err)


def test_a_service_answering_garbage_holds_nothing_to_erase(helper, faulty):
    faulty("garbage")
    erased = helper.run("erase", stdin="never.example")
    assert erased.returncode == 0, erased  # before: exit 1, "... erase again once the keyring is unlocked"
    warning = erased.stderr.decode()
    assert "not a working Secret Service" in warning and "python3" in warning and "unlocked" not in warning, warning
    logout = helper.run("logout", "--all")
    assert logout.returncode == 0, logout
    stored = helper.run("store", stdin=json.dumps(LOGIN))
    assert stored.returncode == 0, stored
    lines = own_lines(stored.stderr.decode())
    assert len(lines) == 1 and "not a working Secret Service" in lines[0], lines
    assert helper.get("registry.example")[0]["Secret"] == "s3cret"
    assert helper.run("erase", stdin="registry.example").returncode == 0
    assert login_files(helper) == []


def test_a_hung_service_is_named_in_each_mode(helper, faulty, timing):
    faulty("hang")
    stored = helper.run("store", stdin=json.dumps(LOGIN))
    assert stored.returncode == 0, stored
    lines = own_lines(stored.stderr.decode())  # before: nothing said
    assert lines == ["docker-credential-ecr: registry.example: kept in the private file, not in the keyring: "
                     "the Secret Service did not answer within 1000 ms"], lines
    required = helper.run("store", stdin=json.dumps(LOGIN), DOCKER_CREDENTIAL_ECR_CACHE="keyring")
    assert required.returncode == 1 and b"DOCKER_CREDENTIAL_ECR_CACHE" in required.stdout, required
    erased = helper.run("erase", stdin="registry.example")
    # It may hold the login and cannot be asked: not "erased", and nothing about unlocking.
    assert erased.returncode == 1 and b"once the Secret Service answers again" in erased.stdout \
        and b"unlocked" not in erased.stdout, erased
    assert login_files(helper) == []  # the other copies are gone
    logout = helper.run("logout", "--all")
    assert logout.returncode == 1 and b"once the Secret Service answers again" in logout.stderr + logout.stdout \
        and b"unlocked" not in logout.stderr + logout.stdout, logout
