"""No prompt from any Secret Service, through the release binary: KeePassXC (per-item confirmation
on and off), KWallet (kwalletd5, open and locked) and gnome-keyring (unlocked, locked, no `default` alias), each on a private session
bus beside a private X server whose window list before and after shows that no dialog opened.

gnome-keyring has no per-item confirmation (any client reads any item of an unlocked
collection), so its "item needing confirmation" case is KeePassXC's alone.
"""
import json
import os
import subprocess
import time

import pytest

import kernel_keys
from conftest import HOST, require, secret_tool
from secret_services import Display, KeePassXC, KWallet, remove_default_alias, search

LOGIN = {"ServerURL": "https://registry.example", "Username": "me", "Secret": "first"}
SCHEMA = "io.github.docker_credential_ecr.Credential"


def login_files(helper):
    directory = helper.home / ".local/share/docker-credential-ecr"
    return sorted(directory.glob("*.json")) if directory.exists() else []


def token_files(helper):
    return sorted(helper.cache_dir.glob("*.json")) if helper.cache_dir.exists() else []


class Bounded:
    """Runs the helper with a deadline per call: one D-Bus budget (1 s) plus the work of a run."""

    def __init__(self, helper, timing):
        self.helper, self.timing = helper, timing

    def __call__(self, *arguments, stdin="", **extra):
        started = time.monotonic()
        result = self.helper.run(*arguments, stdin=stdin, timeout=30, **extra)
        elapsed = time.monotonic() - started
        assert elapsed < self.timing.limit(wait=1.0), f"{arguments} took {elapsed:.2f} s"
        return result


@pytest.fixture
def bounded(helper, timing):
    return Bounded(helper, timing)


@pytest.fixture
def display():
    screen = Display()
    yield screen
    screen.close()


@pytest.fixture(params=[True, False], ids=["confirm-on", "confirm-off"])
def keepassxc(request, session_bus, display, helper, tmp_path):
    service = KeePassXC(tmp_path, session_bus, display, confirm_access=request.param)
    helper.env.update(session_bus.env())
    helper.env.update(display.env())
    service.confirm_access = request.param
    yield service
    service.close()
    kernel_keys.clear(kernel_keys.scope(session_bus.address))


@pytest.fixture(params=[True, False], ids=["confirm-on", "confirm-off"])
def unknown_service(request, session_bus, display, helper, tmp_path):
    """KeePassXC under another name: a Secret Service the helper does not recognise."""
    service = KeePassXC(tmp_path, session_bus, display, confirm_access=request.param, program="secrets-daemon")
    helper.env.update(session_bus.env())
    helper.env.update(display.env())
    service.confirm_access = request.param
    yield service
    service.close()
    kernel_keys.clear(kernel_keys.scope(session_bus.address))


@pytest.fixture
def kwallet(session_bus, display, helper, tmp_path):
    service = KWallet(tmp_path, session_bus, display)
    helper.env.update(session_bus.env())
    helper.env.update(display.env())
    yield service
    service.close()
    kernel_keys.clear(kernel_keys.scope(session_bus.address))


@pytest.fixture
def gnome_keyring(keyring, display, helper):
    """conftest's unlocked gnome-keyring, with the helper's DISPLAY on the private X server."""
    helper.env.update(display.env())
    return keyring


def plant(bus, registry, secret="planted"):
    """An item of this tool's schema stored by another program (secret-tool), as an older version would."""
    tool = require("secret-tool", "apt-get install libsecret-tools")
    result = subprocess.run([tool, "store", "--label", "planted", "xdg:schema", SCHEMA, "registry", registry, "kind", "login",
                             "identity", "", "server_url", registry, "username", "u", "issued_at", str(int(time.time())),
                             "expires_at", "never", "version", "1"],
                            input=secret.encode(), capture_output=True, timeout=10, env={**os.environ, **bus.env()})
    assert result.returncode == 0, result.stderr


# --- KeePassXC -------------------------------------------------------------------------------


def test_keepassxc_store_twice_and_read_back_without_a_dialog(helper, keepassxc, display, bounded):
    before = display.windows()
    first = bounded("store", stdin=json.dumps(LOGIN))
    second = bounded("store", stdin=json.dumps({**LOGIN, "Secret": "second"}))
    assert display.windows() == before  # before: Prompt.Prompt, and KeePassXC's Access Request dialog stayed open
    assert first.returncode == 0 and second.returncode == 0, (first, second)  # before: exit 1 after 1 s
    err = first.stderr.decode()
    assert err.count("\n") == 1 and "registry.example: kept in the private file, not in the keyring: " in err, err
    # Nothing of ours is there yet to read as locked: KeePassXC's prompt before any write is the reason.
    assert "KeePassXC's Secret Service asks for a confirmation (a prompt) before it adds or deletes an entry" in err
    for kernel in ("on", "off"):
        got = bounded("get", stdin="registry.example", DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING=kernel)
        assert got.returncode == 0, got
        assert json.loads(got.stdout)["Secret"] == "second"
    assert len(login_files(helper)) == 1
    assert search(keepassxc.bus, registry="registry.example") == ([], [])  # nothing written to KeePassXC
    assert display.windows() == before


def test_keepassxc_required_names_the_setting_and_opens_nothing(helper, keepassxc, display, bounded):
    # An item of ours already there, stored by another program: with per-item confirmation it
    # reads as locked to every new client, which is how the setting is recognised.
    plant(keepassxc.bus, "other.example")
    before = display.windows()
    result = bounded("store", stdin=json.dumps(LOGIN), DOCKER_CREDENTIAL_ECR_CACHE="keyring")
    assert result.returncode == 1
    message = result.stdout.decode()
    assert message.startswith("cannot store the credentials for registry.example: the keyring is not available: "), message
    if keepassxc.confirm_access:
        assert "Confirm when passwords are retrieved by clients" in message
    else:
        assert "Confirm when passwords" not in message and "adds or deletes an entry" in message
    assert login_files(helper) == []
    assert display.windows() == before


def test_keepassxc_tokens_go_to_the_private_file(helper, keepassxc, display, emulator, bounded):
    before = display.windows()
    for _ in range(2):
        got = bounded("get", stdin=HOST, DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING="off", **emulator.env())
        assert got.returncode == 0, got
    assert len(token_files(helper)) == 1 and len(emulator.token_requests()) == 1  # before: a new ECR call every time
    assert search(keepassxc.bus, registry=HOST) == ([], [])
    assert display.windows() == before


def test_keepassxc_erase_answers_from_the_attributes(helper, keepassxc, display, bounded):
    plant(keepassxc.bus, "held.example")
    unlocked, locked = search(keepassxc.bus, registry="held.example")
    assert len(unlocked + locked) == 1
    before = display.windows()
    nothing = bounded("erase", stdin="never.example")
    assert nothing.returncode == 0, nothing  # nothing of that host is there: nothing to erase
    held = bounded("erase", stdin="held.example")
    assert held.returncode == 1
    assert "cannot erase the credentials for held.example kept in the keyring" in held.stdout.decode()
    assert "can be deleted in KeePassXC" in held.stdout.decode()
    assert len(sum(search(keepassxc.bus, registry="held.example"), [])) == 1  # not deleted: that takes a prompt
    assert display.windows() == before


def test_an_unknown_service_that_asks_is_refused_not_prompted(helper, unknown_service, display, emulator, bounded):
    """Whatever the service: a prompt it hands out is dismissed, never run. (KeePassXC 2.7 answers
    every CreateItem with one, confirmation on or off.)"""
    before = display.windows()
    first = bounded("store", stdin=json.dumps(LOGIN))
    second = bounded("store", stdin=json.dumps({**LOGIN, "Secret": "second"}))
    token = bounded("get", stdin=HOST, DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING="off", **emulator.env())
    assert display.windows() == before  # before: an Access Request dialog
    assert first.returncode == 0 and second.returncode == 0 and token.returncode == 0, (first, second, token)
    for stored in (first, second):
        assert stored.stderr.decode() == (
            "docker-credential-ecr: registry.example: kept in the private file, not in the keyring: the keyring asks for a "
            "confirmation (a prompt) to store registry.example's login, and this tool never opens one\n")
    got = bounded("get", stdin="registry.example", DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING="off")
    assert json.loads(got.stdout)["Secret"] == "second"
    assert len(login_files(helper)) == 1
    assert search(unknown_service.bus, registry="registry.example") == ([], [])  # nothing was written there
    assert bounded("erase", stdin="registry.example").returncode == 0
    assert display.windows() == before


def store_twice_and_read_back_the_second(bounded):
    """Two stores of the registry's login, silently; a get (past the kernel tier) answers the second."""
    for secret in ("first", "second"):
        stored = bounded("store", stdin=json.dumps({**LOGIN, "Secret": secret}))
        assert stored.returncode == 0 and stored.stderr == b"", stored
    got = bounded("get", stdin="registry.example", DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING="off")
    assert json.loads(got.stdout)["Secret"] == "second"


# --- KWallet ---------------------------------------------------------------------------------


def test_kwallet_open_stores_reads_back_and_erases_without_a_dialog(helper, kwallet, display, bounded):
    before = display.windows()
    store_twice_and_read_back_the_second(bounded)
    unlocked, locked = search(kwallet.bus, registry="registry.example")
    assert len(unlocked) == 1 and locked == []  # the old login was replaced, in the wallet
    assert login_files(helper) == []
    assert bounded("erase", stdin="registry.example").returncode == 0
    assert search(kwallet.bus, registry="registry.example") == ([], [])
    assert display.windows() == before


def test_kwallet_locked_falls_back_and_erase_answers_from_the_attributes(helper, kwallet, display, bounded):
    assert bounded("store", stdin=json.dumps(LOGIN)).returncode == 0
    kwallet.lock()
    before = display.windows()
    stored = bounded("store", stdin=json.dumps({**LOGIN, "Secret": "second"}))
    assert stored.returncode == 0, stored
    assert "kept in the private file, not in the keyring: the default collection is locked" in stored.stderr.decode()
    got = bounded("get", stdin="registry.example", DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING="off")
    assert json.loads(got.stdout)["Secret"] == "second"
    assert bounded("erase", stdin="never.example").returncode == 0
    held = bounded("erase", stdin="registry.example")
    assert held.returncode == 1 and b"kept in the keyring" in held.stdout
    assert kwallet.locked()  # nothing unlocked it
    assert display.windows() == before


# --- gnome-keyring ---------------------------------------------------------------------------


def test_gnome_keyring_unlocked_stores_and_reads_back_without_a_dialog(helper, gnome_keyring, display, bounded):
    before = display.windows()
    store_twice_and_read_back_the_second(bounded)
    found = secret_tool(gnome_keyring, "search", "--all", "registry", "registry.example")
    assert found.count("secret = ") == 1 and "secret = second" in found
    assert login_files(helper) == []
    assert bounded("erase", stdin="registry.example").returncode == 0
    assert secret_tool(gnome_keyring, "search", "--all", "registry", "registry.example") == ""
    assert display.windows() == before


def test_gnome_keyring_locked_keeps_the_login_in_the_file_and_says_why(helper, gnome_keyring, display, bounded):
    gnome_keyring.lock_default_collection()
    before = display.windows()
    stored = bounded("store", stdin=json.dumps(LOGIN))
    assert stored.returncode == 0, stored
    assert stored.stderr.decode() == ("docker-credential-ecr: registry.example: kept in the private file, not in the keyring: "
                                      "the default collection is locked\n")
    assert len(login_files(helper)) == 1
    got = bounded("get", stdin="registry.example", DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING="off")
    assert json.loads(got.stdout)["Secret"] == "first"
    required = bounded("store", stdin=json.dumps(LOGIN), DOCKER_CREDENTIAL_ECR_CACHE="keyring")
    assert required.returncode == 1 and b"the default collection is locked" in required.stdout
    assert display.windows() == before


def test_gnome_keyring_locked_erase_of_a_host_never_stored_succeeds(helper, gnome_keyring, display, bounded):
    assert bounded("store", stdin=json.dumps(LOGIN)).returncode == 0
    gnome_keyring.lock_default_collection()
    before = display.windows()
    never = bounded("erase", stdin="never.example")
    assert never.returncode == 0, never  # before: exit 1, "the default collection is locked"
    stored = bounded("erase", stdin="registry.example")
    assert stored.returncode == 1
    assert "cannot erase the credentials for registry.example kept in the keyring" in stored.stdout.decode()
    assert "secret = first" not in secret_tool(gnome_keyring, "search", "registry", "registry.example")  # still locked
    everything = bounded("logout", "--all", "--logins")
    assert everything.returncode == 1  # an item is still held behind the lock
    assert display.windows() == before


def test_gnome_keyring_locked_with_nothing_of_ours_logout_all_succeeds(helper, gnome_keyring, bounded):
    gnome_keyring.lock_default_collection()
    result = bounded("logout", "--all", "--logins")
    assert result.returncode == 0, result


def test_podman_logout_with_a_locked_keyring(helper, gnome_keyring, tmp_path, display, bounded):
    podman = require("podman", "apt-get install podman")
    gnome_keyring.lock_default_collection()
    registry = "localhost:5997"
    auth = tmp_path / "auth.json"
    auth.write_text(json.dumps({"credHelpers": {registry: "ecr"}}))
    before = display.windows()
    env = helper.environment(REGISTRY_AUTH_FILE=str(auth))
    logout = subprocess.run([podman, "logout", registry], capture_output=True, text=True, env=env, timeout=60)
    assert logout.returncode == 0, logout.stderr  # before: the helper's exit 1 made podman overflow its stack
    assert display.windows() == before


def test_gnome_keyring_without_a_default_alias(helper, gnome_keyring, display, emulator, bounded):
    remove_default_alias(gnome_keyring, helper.home)
    before = display.windows()
    got = bounded("get", stdin=HOST, **emulator.env())
    assert got.returncode == 0, got
    assert len(token_files(helper)) == 1  # tokens: the private file
    stored = bounded("store", stdin=json.dumps(LOGIN))
    assert stored.returncode == 0
    err = stored.stderr.decode()
    assert err.count("\n") == 1 and "no collection is set as the default (the Secret Service's `default` alias; set one as the default" in err, err
    assert len(login_files(helper)) == 1
    assert secret_tool(gnome_keyring, "search", "--all", "registry", "registry.example") == ""
    required = bounded("store", stdin=json.dumps(LOGIN), DOCKER_CREDENTIAL_ECR_CACHE="keyring")
    assert required.returncode == 1 and b"`default` alias" in required.stdout
    # keyring mode keeps nothing in the files, and says which setting to change
    assert b"DOCKER_CREDENTIAL_ECR_CACHE" in required.stdout and b"kept in the private files" not in required.stdout
    doctor = helper.run("doctor", timeout=60, **emulator.env())
    assert doctor.stdout.decode().count("`default` alias") == 1, doctor.stdout.decode()
    assert display.windows() == before
