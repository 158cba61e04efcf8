"""Tokens and logins in a real Secret Service (gnome-keyring-daemon on a private D-Bus session)."""
import concurrent.futures
import json
import subprocess
import time

from conftest import HOST, NOT_FOUND, secret_tool

LOGIN = {"ServerURL": "https://registry.example", "Username": "me", "Secret": "s3cret"}


def token_files(helper):
    return [p for p in helper.cache_dir.glob("*.json")] if helper.cache_dir.exists() else []


def login_files(helper):
    directory = helper.home / ".local/share/docker-credential-ecr"
    return list(directory.glob("*.json")) if directory.exists() else []


def test_store_get_list_erase_in_the_keyring(helper, keyring):
    assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
    assert login_files(helper) == []  # nothing on disk
    found = secret_tool(keyring, "search", "--all", "registry", "registry.example")
    assert "secret = s3cret" in found and "attribute.kind = login" in found and "attribute.expires_at = never" in found
    assert "schema = io.github.docker_credential_ecr.Credential" in found
    document, out, err, status = helper.get("registry.example:443")
    assert document == {"ServerURL": "registry.example:443", "Username": "me", "Secret": "s3cret"}
    assert json.loads(helper.run("list").stdout) == {"https://registry.example": "me"}
    assert helper.run("erase", stdin="http://registry.example").returncode == 0
    assert secret_tool(keyring, "search", "--all", "registry", "registry.example") == ""
    assert helper.run("erase", stdin="registry.example").returncode == 0  # nothing left: still fine


def test_tokens_are_cached_in_the_keyring_not_in_files(helper, keyring, emulator):
    first = helper.get(HOST, **emulator.env())
    assert first[3] == 0, first[1] + first[2]
    assert token_files(helper) == []
    found = secret_tool(keyring, "search", "--all", "registry", HOST)
    assert "attribute.kind = token" in found and f"secret = {first[0]['Secret']}" in found
    attributes = dict(line.split(" = ", 1) for line in found.splitlines() if line.startswith("attribute."))
    assert len(attributes["attribute.identity"]) == 32  # the identity fingerprint, not the key id
    assert abs(int(attributes["attribute.expires_at"]) - (time.time() + 12 * 3600)) < 60
    second = helper.get(HOST, **emulator.env())
    assert second[0] == first[0]
    assert len(emulator.token_requests()) == 1


def test_a_locked_keyring_falls_back_at_once_and_never_prompts(helper, keyring, emulator, timing):
    keyring.lock_default_collection()
    started = time.monotonic()
    document, out, err, status = helper.get(HOST, DISPLAY=":0", **emulator.env(DOCKER_CREDENTIAL_ECR_LOG="debug"))
    elapsed = time.monotonic() - started
    assert status == 0, out + err
    assert "the default collection is locked" in err
    assert len(token_files(helper)) == 1  # fell back to the private file
    assert elapsed < timing.limit()


def test_a_secret_with_a_nul_is_refused_by_the_keyring_with_the_reason_and_kept_in_the_file(helper, keyring):
    """libsecret keeps a secret as a C string: one with a NUL (JSON allows \\u0000) cannot be kept
    there whole. Keyring mode refuses it and says why (not "a prompt"); auto mode keeps the login
    in the private file, whole, and says so."""
    login = dict(LOGIN, Secret="s\u0000x")
    required = helper.run("store", stdin=json.dumps(login), DOCKER_CREDENTIAL_ECR_CACHE="keyring")
    out = required.stdout.decode()
    assert required.returncode == 1, out
    assert "the keyring keeps a secret and its attributes as text that ends at a NUL character, and this secret has one" in out, out
    assert "prompt" not in out, out
    assert login_files(helper) == [] and secret_tool(keyring, "search", "--all", "registry", "registry.example") == ""

    kept = helper.run("store", stdin=json.dumps(login))
    assert kept.returncode == 0, kept
    assert "kept in the private file, not in the keyring: the keyring keeps a secret and its attributes as text" \
        in kept.stderr.decode(), kept.stderr
    assert len(login_files(helper)) == 1
    document, out, err, status = helper.get("registry.example")
    assert status == 0 and document["Secret"] == "s\u0000x", out + err


def test_a_nul_in_the_user_name_or_server_url_keeps_the_login_and_the_older_one(helper, keyring):
    """A NUL in an attribute would be cut off by libsecret, so the new item would not match what
    it replaces and the clean-up took both: the keyring refuses such a login with the reason
    (the older login stays), and auto mode keeps it whole in the private file."""
    assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
    for field, value, name in [("Username", "ab\u0000cd", "user name"), ("ServerURL", "https://registry.example/a\u0000b", "server URL")]:
        login = dict(LOGIN, Secret="new", **{field: value})
        required = helper.run("store", stdin=json.dumps(login), DOCKER_CREDENTIAL_ECR_CACHE="keyring")
        out = required.stdout.decode()
        assert required.returncode == 1 and f"and this {name} has one" in out, out
        found = secret_tool(keyring, "search", "--all", "registry", "registry.example")
        assert found.count("secret = ") == 1 and "secret = s3cret" in found, found
    login = dict(LOGIN, Secret="new", Username="ab\u0000cd")
    kept = helper.run("store", stdin=json.dumps(login))
    assert kept.returncode == 0 and "kept in the private file, not in the keyring" in kept.stderr.decode(), kept
    document, out, err, status = helper.get("registry.example")
    assert status == 0 and document == {"ServerURL": "registry.example", "Username": "ab\u0000cd", "Secret": "new"}, out + err


def test_required_keyring_that_is_locked_caches_nothing(helper, keyring, emulator):
    keyring.lock_default_collection()
    env = emulator.env(DOCKER_CREDENTIAL_ECR_CACHE="keyring")
    for _ in range(2):
        document, out, err, status = helper.get(HOST, **env)
        assert status == 0, out + err
        assert "the default collection is locked (the cache backend is `keyring`, set by DOCKER_CREDENTIAL_ECR_CACHE" in err
        assert err.endswith("; the token is not cached\n") and err.count("\n") == 1, err
    assert token_files(helper) == [] and len(emulator.token_requests()) == 2
    result = helper.run("store", stdin=json.dumps(LOGIN), DOCKER_CREDENTIAL_ECR_CACHE="keyring")
    assert result.returncode == 1
    assert "cannot store the credentials for registry.example: the keyring is not available: the default collection is locked" \
        in result.stdout.decode()
    assert "DOCKER_CREDENTIAL_ECR_CACHE" in result.stdout.decode()  # the setting to change
    assert login_files(helper) == []


def test_no_session_bus_does_not_even_load_libsecret(helper, emulator):
    result = helper.run("get", stdin=HOST, LD_DEBUG="files", DBUS_SESSION_BUS_ADDRESS=None, XDG_RUNTIME_DIR=None, **emulator.env())
    assert result.returncode == 0
    assert b"libsecret" not in result.stderr and b"libglib" not in result.stderr
    assert len(token_files(helper)) == 1


def test_a_bus_without_a_secret_service_falls_back_and_starts_nothing(helper, session_bus, emulator, timing):
    started = time.monotonic()
    document, out, err, status = helper.get(HOST, **session_bus.env(), **emulator.env(DOCKER_CREDENTIAL_ECR_LOG="debug"))
    assert status == 0, out + err
    assert "no Secret Service is running on the session bus" in err
    assert time.monotonic() - started < timing.limit()
    assert not session_bus.secrets_running()  # D-Bus activation did not start gnome-keyring
    assert len(token_files(helper)) == 1


def test_a_stale_bus_address_falls_back(helper, emulator, tmp_path):
    document, out, err, status = helper.get(HOST, DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp_path}/gone",
                                            **emulator.env(DOCKER_CREDENTIAL_ECR_LOG="debug"))
    assert status == 0, out + err
    assert "keyring unavailable" in err
    assert len(token_files(helper)) == 1


def test_a_wrong_unlock_password_leaves_the_keyring_locked(helper, session_bus, emulator):
    daemon = session_bus.start_keyring(helper.home, password="right")
    helper.env.update(session_bus.env())
    assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
    session_bus.stop_keyring(daemon)
    session_bus.start_keyring(helper.home, password="wrong")
    document, out, err, status = helper.get(HOST, **emulator.env(DOCKER_CREDENTIAL_ECR_LOG="debug"))
    assert status == 0, out + err
    assert "the default collection is locked" in err
    assert len(token_files(helper)) == 1


def test_switching_to_the_keyring_does_not_serve_the_file_token(helper, session_bus, emulator):
    file_token = helper.get(HOST, **emulator.env())[0]
    assert len(token_files(helper)) == 1
    session_bus.start_keyring(helper.home)
    helper.env.update(session_bus.env())
    keyring_token = helper.get(HOST, **emulator.env())[0]
    assert keyring_token != file_token
    assert token_files(helper) == []  # the file copy is gone
    assert helper.get(HOST, **emulator.env())[0] == keyring_token


def test_parallel_gets_with_the_keyring(helper, keyring, emulator):
    emulator.settings(delay=0.3)
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        results = list(pool.map(lambda _: helper.get(HOST, **emulator.env()), range(50)))
    assert [status for *_, status in results].count(0) == 50
    assert len(emulator.token_requests()) == 1
    emulator.settings(delay=0)
    hosts = [f"{200000000000 + n}.dkr.ecr.us-west-2.amazonaws.com" for n in range(30)]
    with concurrent.futures.ThreadPoolExecutor(30) as pool:
        results = list(pool.map(lambda host: helper.get(host, **emulator.env()), hosts))
    assert all(status == 0 for *_, status in results)
    assert set(json.loads(helper.run("list").stdout)) == set(hosts) | {HOST}


def test_python_docker_package_with_the_keyring(helper, keyring, monkeypatch):
    import docker.credentials
    monkeypatch.setenv("PATH", helper.env["PATH"])
    store = docker.credentials.Store("ecr", environment=helper.environment())
    store.store("https://registry.example", "me", "hunter2")
    assert "secret = hunter2" in secret_tool(keyring, "search", "--all", "registry", "registry.example")
    assert store.get("https://registry.example")["Secret"] == "hunter2"
    assert store.list() == {"https://registry.example": "me"}
    store.erase("https://registry.example")
    assert store.list() == {}


def test_skopeo_logout_erases_through_the_helper(helper, keyring, tmp_path):
    from conftest import require
    skopeo = require("skopeo", "apt-get install skopeo")
    registry = "localhost:5999"  # loopback only: skopeo may contact the registry it logs out of
    auth = tmp_path / "auth.json"
    auth.write_text(json.dumps({"credHelpers": {registry: "ecr", "localhost:5998": "ecr"}}))
    for name in (registry, "localhost:5998"):
        stored = helper.run("store", stdin=json.dumps({"ServerURL": name, "Username": "me", "Secret": "pw"}))
        assert stored.returncode == 0
    env = helper.environment(REGISTRY_AUTH_FILE=str(auth))
    run = lambda *arguments: subprocess.run([skopeo, *arguments], capture_output=True, text=True, env=env, timeout=60)
    login = run("login", "--get-login", registry)
    assert login.stdout.strip() == "me", login.stderr
    logout = run("logout", registry)
    assert logout.returncode == 0, logout.stderr
    assert json.loads(helper.run("list").stdout) == {"localhost:5998": "me"}
    # Erasing what is already gone succeeds, so logout (and logout --all, which aborts on any error) go on.
    assert run("logout", registry).returncode == 0
    everything = run("logout", "--all")
    assert everything.returncode == 0, everything.stderr
    assert json.loads(helper.run("list").stdout) == {}
