"""Keyring mode's fast tier: the kernel's user keyring in front of a real Secret Service.

Every test runs the release binary against the real kernel and a real gnome-keyring on a private
D-Bus session; the keys are read back with the raw system calls (tests/kernel_keys.py)."""
import errno
import fcntl
import json
import re
import os
import signal
import subprocess
import time

import pytest

import kernel_keys
from conftest import HOST, SessionBus, planted_keyrings, require, secret_tool

USER_ONLY = 0x003F0000  # user: view, read, write, search, link, setattr; possessor, group, other: none
LOGIN = {"ServerURL": "https://registry.example", "Username": "me", "Secret": "s3cret-login"}


@pytest.fixture
def tier(helper, keyring):
    """The helper's scope in the kernel keyring; its keys are removed afterwards."""
    scope = kernel_keys.scope(keyring.address)
    kernel_keys.clear(scope)
    yield scope
    kernel_keys.clear(scope)


def tokens(scope):
    return {name: payload for name, (_, payload) in kernel_keys.entries(scope).items() if name.startswith("token:")}


def frozen(keyring):
    """Stops the keyring daemon (SIGSTOP): any D-Bus call to it would now hang to its deadline."""
    daemon = keyring.processes[-1]

    class Frozen:
        def __enter__(self):
            os.kill(daemon.pid, signal.SIGSTOP)

        def __exit__(self, *exc):
            os.kill(daemon.pid, signal.SIGCONT)

    return Frozen()


def test_a_fetched_token_is_kept_in_both_tiers_and_a_hit_never_reaches_the_secret_service(helper, keyring, emulator, tier, timing):
    first = helper.get(HOST, **emulator.env())
    assert first[3] == 0, first[1] + first[2]
    secret = first[0]["Secret"]
    kept = kernel_keys.entries(tier)
    [(name, (permissions, payload))] = [(n, e) for n, e in kept.items() if n.startswith("token:")]
    assert name.endswith(":" + HOST) and len(name.split(":")[1]) == 32  # token:<identity fingerprint>:<registry>
    assert permissions == USER_ONLY
    # The version, then the generation it was written under (the one in the file beside the cache).
    generation = (helper.cache_dir / "kernel-generation").read_bytes().split(b"\n")[1]
    assert payload.startswith(b"docker-credential-ecr 2\n" + generation + b"\ntoken\n") and payload.endswith(secret.encode())
    assert kept[f"login:-:{HOST}"][1] == b"docker-credential-ecr 2\n" + generation + f"\nnone\n{HOST}\n".encode()  # no login in the keyring
    assert f"secret = {secret}" in secret_tool(keyring, "search", "--all", "registry", HOST)

    # With the keyring daemon frozen, a hit still answers at once: libsecret is not even loaded.
    with frozen(keyring):
        started = time.monotonic()
        result = helper.run("get", stdin=HOST, LD_DEBUG="files", **emulator.env(DOCKER_CREDENTIAL_ECR_LOG="debug"))
        elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert json.loads(result.stdout)["Secret"] == secret
    assert b"libsecret" not in result.stderr and b"libglib" not in result.stderr
    assert f"{HOST}: cache hit (kernel keyring)".encode() in result.stderr
    assert elapsed < timing.limit()
    assert len(emulator.token_requests()) == 1


def keyctl(*arguments, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([require("keyctl", "apt-get install keyutils"), *arguments], input=stdin, capture_output=True, timeout=30)


def kept_token(scope):
    """The serial and full description of the one token key of a scope."""
    [name] = tokens(scope)
    description = f"docker-credential-ecr:1:{scope}:{name}"
    return kernel_keys.search(kernel_keys.KEY_SPEC_USER_KEYRING, b"user", description.encode()), description


def test_another_user_who_possesses_the_user_keyring_can_neither_read_nor_replace_a_kept_token(helper, keyring, emulator, tier,
                                                                                                  other_user):
    """After a plain `su` another user's processes keep the session keyring that links this user's
    keyring, so they *possess* every key in it: possession must give them nothing."""
    first = helper.get(HOST, **emulator.env())
    assert first[3] == 0, first[2]
    serial, description = kept_token(tier)
    forged = kernel_keys.read(serial).replace(first[0]["Secret"].encode(), b"forged-by-another-user")
    attacker = " ".join(other_user.command("keyctl"))
    script = f"""
        keyctl link @u @s >/dev/null || exit 90
        {attacker} search @s user "$1" && exit 91
        {attacker} print {serial} && exit 92
        printf %s "$2" | {attacker} pupdate {serial} && exit 93
        {attacker} setperm {serial} 0x3f3f3f3f && exit 94
        exit 0
    """
    attack = keyctl("session", "-", "sh", "-c", script, "sh", description, forged.decode())
    assert attack.returncode == 0, (attack.returncode, attack.stdout, attack.stderr)
    assert b"Permission denied" in attack.stderr or b"Required key not available" in attack.stderr
    second = helper.get(HOST, **emulator.env())
    assert second[3] == 0 and second[0]["Secret"] == first[0]["Secret"]
    assert len(emulator.token_requests()) == 1


def test_a_keyring_another_user_plants_in_the_users_keyring_is_never_used(binary, other_user, third_user, kernel_plants):
    """After a plain `su` another user possesses this user's user keyring and may link a keyring
    of theirs named docker-credential-ecr into it, in place of the tool's, with a forged login:
    it is not used (the login comes from the Secret Service), and the test removes what it
    planted (kernel_plants), since a user keyring outlives its user."""
    from test_namespaces import UserSession
    victim = UserSession(other_user, binary)
    try:
        assert victim.store("reg.example", "me", "real-login").returncode == 0
        real = victim.kernel_entries()["login:-:reg.example"]
        assert real.endswith("real-login")
        victim_keyring = int(subprocess.run(other_user.command("keyctl", "id", "@u"), capture_output=True, text=True,
                                            timeout=30, check=True).stdout)
        as_victim, as_attacker = " ".join(other_user.command("keyctl")), " ".join(third_user.command("keyctl"))
        script = f"""
            {as_victim} link @u @s >/dev/null || exit 90
            ring=$({as_attacker} newring docker-credential-ecr "$1") || exit 91
            echo "$ring"
            {as_attacker} setperm "$ring" 0x3f3f3f3f || exit 92
            printf %s "$2" | {as_attacker} padd user "docker-credential-ecr:1:$3:login:-:reg.example" "$ring" >/dev/null || exit 93
        """
        attack = keyctl("session", "-", "sh", "-c", script, "sh", str(victim_keyring),
                        real.replace("real-login", "forged-login"), victim.scope)
        for line in attack.stdout.decode().split():
            if line.isdigit():
                kernel_plants.planted(int(line), other_user)
        assert attack.returncode == 0, (attack.returncode, attack.stdout, attack.stderr)
        [(_, planted, owner)] = planted_keyrings(other_user.uid)
        assert int(owner) == third_user.uid
        document, _, err, status = victim.get("reg.example", DOCKER_CREDENTIAL_ECR_LOG="debug")
        assert status == 0 and document["Secret"] == "real-login", err
        assert "the kernel keyring docker-credential-ecr is not the user's own; not using it" in err
    finally:
        victim.close()


def test_a_kept_key_open_to_others_is_never_served_and_goes_away(helper, keyring, emulator, tier):
    """A key with wider permissions (made by an earlier version, or widened since) may have been
    rewritten by whoever could reach it: it is not served, it is removed, and the next copy is
    the user's alone."""
    first = helper.get(HOST, **emulator.env())
    serial, description = kept_token(tier)
    forged = kernel_keys.read(serial).replace(first[0]["Secret"].encode(), b"forged-by-another-user")
    assert keyctl("pupdate", str(serial), stdin=forged).returncode == 0
    assert keyctl("setperm", str(serial), "0x3f3f0000").returncode == 0
    second = helper.get(HOST, **emulator.env(DOCKER_CREDENTIAL_ECR_LOG="debug"))
    assert second[3] == 0, second[2]
    assert second[0]["Secret"] == first[0]["Secret"]  # from the Secret Service, not the forged copy
    assert "open to others is not used" in second[2]
    assert len(emulator.token_requests()) == 1
    [(permissions, payload)] = [entry for name, entry in kernel_keys.entries(tier).items() if name.startswith("token:")]
    assert permissions == USER_ONLY and b"forged" not in payload


def test_list_does_not_show_a_login_key_open_to_others(helper, keyring, emulator, tier):
    assert helper.get(HOST, **emulator.env())[3] == 0  # makes the tool's keyring
    ours = kernel_keys.search(kernel_keys.KEY_SPEC_USER_KEYRING, b"keyring", kernel_keys.KEYRING)
    planted = b"docker-credential-ecr 1\nlogin\nplanted.example\n\nhttps://planted.example\nme\n1800000000\nnever\nplanted"
    description = f"docker-credential-ecr:1:{tier}:login:-:planted.example"
    added = keyctl("padd", "user", description, str(ours), stdin=planted)
    assert added.returncode == 0, added.stderr
    serial = int(added.stdout)
    assert keyctl("setperm", str(serial), "0x3f3f0000").returncode == 0
    listed = helper.run("list")
    assert listed.returncode == 0 and "planted.example" not in listed.stdout.decode()
    assert kernel_keys.search(kernel_keys.KEY_SPEC_USER_KEYRING, b"user", description.encode()) is None


def test_a_hit_narrows_a_keyring_left_open_to_possessors(helper, keyring, emulator, tier):
    assert helper.get(HOST, **emulator.env())[3] == 0
    ours = kernel_keys.search(kernel_keys.KEY_SPEC_USER_KEYRING, b"keyring", kernel_keys.KEYRING)
    assert int(kernel_keys.describe(ours).split(";")[3], 16) == USER_ONLY
    assert keyctl("setperm", str(ours), "0x3f3f0000").returncode == 0  # as an earlier version made it
    hit = helper.get(HOST, **emulator.env(DOCKER_CREDENTIAL_ECR_LOG="debug"))
    assert hit[3] == 0 and f"{HOST}: cache hit (kernel keyring)" in hit[2]
    assert int(kernel_keys.describe(ours).split(";")[3], 16) == USER_ONLY


def test_a_secret_service_hit_is_copied_into_the_kernel(helper, keyring, emulator, tier):
    assert helper.get(HOST, **emulator.env())[3] == 0
    kernel_keys.clear(tier)  # as after a reboot: the Secret Service still has the token
    second = helper.get(HOST, **emulator.env(DOCKER_CREDENTIAL_ECR_LOG="debug"))
    assert second[3] == 0 and f"{HOST}: cache hit (keyring)" in second[2]
    assert len(tokens(tier)) == 1 and len(emulator.token_requests()) == 1
    with frozen(keyring):
        assert helper.get(HOST, **emulator.env())[0] == second[0]


def test_the_kernel_drops_the_key_when_the_token_expires(helper, keyring, emulator, tier):
    emulator.settings(ttl=4)
    first = helper.get(HOST, **emulator.env())
    assert first[3] == 0, first[2]
    assert len(tokens(tier)) == 1
    time.sleep(5)
    assert tokens(tier) == {}  # the key's own timeout, set from the token's expiry
    second = helper.get(HOST, **emulator.env())
    assert second[3] == 0 and second[0]["Secret"] != first[0]["Secret"]
    assert len(emulator.token_requests()) == 2


def test_erase_and_logout_clear_both_tiers(helper, keyring, emulator, tier):
    assert helper.get(HOST, **emulator.env())[3] == 0
    assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
    assert kernel_keys.entries(tier)["login:-:registry.example"][1].endswith(b"s3cret-login")
    assert helper.run("erase", stdin=HOST).returncode == 0
    assert helper.run("erase", stdin="registry.example").returncode == 0
    assert kernel_keys.entries(tier) == {}
    assert secret_tool(keyring, "search", "--all", "registry", HOST) == ""
    assert secret_tool(keyring, "search", "--all", "registry", "registry.example") == ""
    with frozen(keyring):
        # Nothing is served from the kernel any more: the lookup goes on to the (frozen) keyring.
        result = helper.run("get", stdin="registry.example", **emulator.env())
    assert result.returncode == 1 and b"s3cret-login" not in result.stdout

    assert helper.get(HOST, **emulator.env())[3] == 0
    assert len(tokens(tier)) == 1
    result = helper.run("logout", "--all", **emulator.env())
    assert result.returncode == 0, result.stderr
    assert tokens(tier) == {}
    assert "kind = token" not in secret_tool(keyring, "search", "--all", "registry", HOST)


def test_a_new_identity_replaces_the_old_token_in_both_tiers(helper, keyring, emulator, tier):
    emulator.emulator.credentials["AKIASECONDIDENTITY"] = "second-secret"
    first = helper.get(HOST, **emulator.env())
    assert first[3] == 0
    [old_name] = tokens(tier)
    second = helper.get(HOST, **emulator.env(AWS_ACCESS_KEY_ID="AKIASECONDIDENTITY", AWS_SECRET_ACCESS_KEY="second-secret"))
    assert second[3] == 0 and second[0]["Secret"] != first[0]["Secret"]
    [new_name] = tokens(tier)
    assert new_name != old_name
    found = secret_tool(keyring, "search", "--all", "registry", HOST)
    assert found.count("attribute.kind = token") == 1 and f"secret = {second[0]['Secret']}" in found
    # The first identity gets its own token again, never the second one's.
    third = helper.get(HOST, **emulator.env())
    assert third[3] == 0 and third[0]["Secret"] not in (first[0]["Secret"], second[0]["Secret"])
    assert len(emulator.token_requests()) == 3


def test_a_stored_login_is_served_from_the_kernel(helper, keyring, emulator, tier):
    assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
    with frozen(keyring):
        document, out, err, status = helper.get("registry.example")
    assert status == 0, err
    assert document == {"ServerURL": "registry.example", "Username": "me", "Secret": "s3cret-login"}


def test_a_login_too_big_for_the_kernel_replaces_the_note_that_there_was_none(helper, keyring, emulator, tier):
    assert helper.get("registry.example")[3] == 1
    assert kernel_keys.entries(tier)["login:-:registry.example"][1].split(b"\n")[2] == b"none"
    big = dict(LOGIN, Secret="b" * 40_000)  # a user key holds at most 32,767 bytes
    assert helper.run("store", stdin=json.dumps(big)).returncode == 0
    assert "login:-:registry.example" not in kernel_keys.entries(tier)
    for _ in range(2):
        document, out, err, status = helper.get("registry.example")
        assert status == 0 and document["Secret"] == big["Secret"], err


@pytest.mark.parametrize("code", [errno.EPERM, errno.ENOSYS])
def test_refused_key_calls_fall_through_to_the_secret_service(helper, keyring, emulator, tier, code):
    """As in a container under Docker's default seccomp profile (EPERM) or a kernel without keys."""
    def get():
        return subprocess.run([str(helper.binary), "get"], input=HOST.encode(), capture_output=True, timeout=30,
                              env=helper.environment(**emulator.env(DOCKER_CREDENTIAL_ECR_LOG="debug")),
                              preexec_fn=lambda: kernel_keys.refuse_key_calls(code))
    first, second = get(), get()
    for result in (first, second):
        assert result.returncode == 0, result.stderr.decode()
        # Silently: debug lines only, no warning.
        assert all(line.startswith(b"docker-credential-ecr: debug: ") for line in result.stderr.splitlines()), result.stderr
        assert b"the kernel keyring is not usable here: kernel keyring keyctl search failed" in result.stderr
    assert json.loads(first.stdout) == json.loads(second.stdout)
    assert b"cache hit (keyring)" in second.stderr
    assert kernel_keys.entries(tier) == {}
    assert "attribute.kind = token" in secret_tool(keyring, "search", "--all", "registry", HOST)
    assert len(emulator.token_requests()) == 1


def test_doctor_names_the_tier_and_a_refusal(helper, keyring, emulator, tier):
    assert helper.get(HOST, **emulator.env())[3] == 0
    report = json.loads(helper.run("doctor", HOST, "--json", **emulator.env(AWS_ENDPOINT_URL=emulator.url)).stdout)
    [cache] = [check for check in report["checks"] if check["name"] == "cache"]
    assert "kernel keyring: in front of the Secret Service, 1 entry for this configuration" in cache["details"]
    assert any(line.startswith(f"keyring: token for {HOST}, valid") for line in cache["details"])
    refused = subprocess.run([str(helper.binary), "doctor", HOST, "--json"], capture_output=True, timeout=60,
                             env=helper.environment(**emulator.env(AWS_ENDPOINT_URL=emulator.url)),
                             preexec_fn=lambda: kernel_keys.refuse_key_calls(errno.EPERM))
    [cache] = [check for check in json.loads(refused.stdout)["checks"] if check["name"] == "cache"]
    assert any(line.startswith("kernel keyring: not usable here (kernel keyring keyctl search failed: Operation not permitted); "
                               "the Secret Service is asked every time") for line in cache["details"]), cache
    turned_off = json.loads(helper.run("doctor", HOST, "--json", DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING="off",
                                       **emulator.env(AWS_ENDPOINT_URL=emulator.url)).stdout)
    [cache] = [check for check in turned_off["checks"] if check["name"] == "cache"]
    assert "kernel keyring: turned off" in cache["details"]


def test_the_kernel_tier_can_be_turned_off(helper, keyring, emulator, tier):
    for variable in ({"DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING": "off"}, {}):
        if not variable:
            (helper.home / ".config/docker-credential-ecr").mkdir(parents=True)
            (helper.home / ".config/docker-credential-ecr/config").write_text("[cache]\nkernel_keyring = off\n")
        document, out, err, status = helper.get(HOST, **emulator.env(**variable))
        assert status == 0, err
        assert kernel_keys.entries(tier) == {}
    result = helper.run("get", stdin=HOST, DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING="maybe", **emulator.env())
    assert result.returncode == 1
    assert b"DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING=maybe is not one of on, off" in result.stdout


def test_store_and_erase_with_the_tier_turned_off_still_clear_its_older_entries(helper, keyring, emulator, tier):
    assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
    changed = dict(LOGIN, Secret="changed-login")
    assert helper.run("store", stdin=json.dumps(changed), DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING="off").returncode == 0
    assert "login:-:registry.example" not in kernel_keys.entries(tier)
    assert helper.get("registry.example")[0]["Secret"] == "changed-login"  # from the Secret Service, copied again
    assert kernel_keys.entries(tier)["login:-:registry.example"][1].endswith(b"changed-login")
    assert helper.run("erase", stdin="registry.example", DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING="off").returncode == 0
    assert kernel_keys.entries(tier) == {}
    with frozen(keyring):
        assert helper.run("get", stdin="registry.example").returncode == 1


def test_one_bus_however_it_is_named_shares_one_scope(helper, keyring, emulator, tier, tmp_path):
    """The same bus through DBUS_SESSION_BUS_ADDRESS (with its guid) or through XDG_RUNTIME_DIR/bus,
    from another HOME that shares the cache directory (where the generation the copies answer
    under is kept): the same Secret Service, so the same copies, and an erase reaches them."""
    assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
    other_home = tmp_path / "other-home"
    other_home.mkdir()
    spelled = {"DBUS_SESSION_BUS_ADDRESS": None, "XDG_RUNTIME_DIR": str(tmp_path), "HOME": str(other_home),
               "XDG_DATA_HOME": str(other_home / ".local/share")}
    with frozen(keyring):
        document, out, err, status = helper.get("registry.example", **spelled)
    assert status == 0 and document["Secret"] == "s3cret-login", err
    assert helper.run("erase", stdin="registry.example", **spelled).returncode == 0
    assert kernel_keys.entries(tier) == {}
    assert secret_tool(keyring, "search", "--all", "registry", "registry.example") == ""


def test_logout_of_a_registry_reaches_copies_made_on_another_bus(helper, keyring, emulator, tier, tmp_path):
    assert helper.get(HOST, **emulator.env())[3] == 0
    assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
    (tmp_path / "other").mkdir()
    other = SessionBus(tmp_path / "other")  # no Secret Service on it
    try:
        result = helper.run("logout", HOST, "registry.example", "--logins", **other.env())
        assert result.returncode == 0, result.stderr
    finally:
        other.close()
    assert kernel_keys.entries(tier) == {}


def test_a_login_stored_while_the_keyring_was_locked_wins_once_it_is_unlocked(helper, keyring, emulator, tier):
    assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
    assert helper.get("registry.example")[0]["Secret"] == "s3cret-login"
    keyring.lock_default_collection()
    newer = dict(LOGIN, Secret="stored-while-locked")
    assert helper.run("store", stdin=json.dumps(newer)).returncode == 0
    assert helper.get("registry.example")[0]["Secret"] == "stored-while-locked"
    # Unlocked again (the daemon restarted with its password): the keyring's login is the older one.
    keyring.stop_keyring(keyring.processes.pop())
    keyring.start_keyring(helper.home)
    for _ in range(2):  # from the Secret Service and the file, then from the kernel copy and the file
        assert helper.get("registry.example")[0]["Secret"] == "stored-while-locked"


def test_a_store_replaces_the_copy_made_through_another_path_to_the_same_bus(helper, keyring, emulator, tier, tmp_path):
    """A hard link (or a bind mount into a container) to the bus socket: another scope, the same
    Secret Service. A new login must not leave the old one, or the note that there was none,
    answering there."""
    os.link(tmp_path / "bus", tmp_path / "alternative-bus")
    alternative = {"DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/alternative-bus"}
    assert helper.run("get", stdin="registry.example", **alternative).returncode == 1  # notes "no login" there
    assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
    assert helper.get("registry.example", **alternative)[0]["Secret"] == "s3cret-login"
    assert helper.run("store", stdin=json.dumps(dict(LOGIN, Secret="second"))).returncode == 0
    assert helper.get("registry.example", **alternative)[0]["Secret"] == "second"
    kernel_keys.clear(kernel_keys.scope(alternative["DBUS_SESSION_BUS_ADDRESS"]))


def test_erase_waits_for_a_store_of_the_same_registry(helper, keyring, tier):
    """`store` holds the registry's login lock across its keyring and kernel writes; `erase` takes it too."""
    locks = helper.cache_dir / "locks"
    locks.mkdir(parents=True, mode=0o700)
    helper.cache_dir.chmod(0o700)
    with open(locks / "registry.example@login.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        erase = subprocess.Popen([str(helper.binary), "erase"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=helper.environment())
        erase.stdin.write(b"registry.example")
        erase.stdin.close()
        time.sleep(1)
        assert erase.poll() is None  # waiting for the lock
    assert erase.wait(timeout=30) == 0


def test_logout_with_the_keyring_locked_says_what_it_could_not_remove(helper, keyring, emulator, tier):
    assert helper.get(HOST, **emulator.env())[3] == 0
    keyring.lock_default_collection()
    result = helper.run("logout", "--all", "--logins", **emulator.env())
    assert result.returncode == 1
    assert result.stderr.decode() == (
        "docker-credential-ecr logout: removed 1 cached entry, but not those in the keyring: the keyring is not available: "
        "the default collection is locked (run logout again once the keyring is unlocked and answering)\n")
    assert tokens(tier) == {}


def test_an_erase_with_the_keyring_locked_fails_after_clearing_the_rest(helper, keyring, emulator, tier):
    assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
    keyring.lock_default_collection()
    result = helper.run("erase", stdin="registry.example")
    assert result.returncode == 1
    assert result.stdout.decode() == (
        "cannot erase the credentials for registry.example kept in the keyring: the keyring is not available: the default "
        "collection is locked (the other copies are gone; erase again once the keyring is unlocked and answering)\n")
    assert kernel_keys.entries(tier) == {}  # the kernel copy no longer answers


def test_file_mode_and_no_session_bus_leave_the_kernel_alone(helper, keyring, emulator, tier):
    assert helper.get(HOST, **emulator.env(DOCKER_CREDENTIAL_ECR_CACHE="file"))[3] == 0
    assert kernel_keys.entries(tier) == {}
    assert helper.get(HOST, **emulator.env(DBUS_SESSION_BUS_ADDRESS=None))[3] == 0
    assert kernel_keys.entries(tier) == {}


def test_no_token_is_written_to_any_file_in_keyring_mode(helper, keyring, emulator, tier):
    registries = [HOST, "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "public.ecr.aws"]
    secrets = [helper.get(registry, **emulator.env())[0]["Secret"] for registry in registries]
    ecr_login = {"ServerURL": "https://210987654321.dkr.ecr.us-east-1.amazonaws.com", "Username": "AWS", "Secret": "ecr-login-secret"}
    assert helper.run("store", stdin=json.dumps(ecr_login)).returncode == 0
    assert helper.run("login", HOST, **emulator.env()).returncode == 0
    assert helper.get(HOST, **emulator.env())[3] == 0
    secrets.append("ecr-login-secret")
    assert len(tokens(tier)) == 3
    scanned = 0
    for directory in (helper.home, helper.home.parent):
        for root, _, names in os.walk(directory):
            for name in names:
                path = os.path.join(root, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                with open(path, "rb") as handle:
                    content = handle.read()
                scanned += 1
                for secret in secrets:
                    assert secret.encode() not in content, f"{path} holds a token"
    assert scanned > 3  # the keyring daemon's own (encrypted) file, the lock files, ...
    assert not list(helper.cache_dir.glob("*.json"))


def lookup_counts(stderr: str) -> dict:
    """Identity resolutions and lookups of each tier, by kind, in one run's debug log."""
    lines = stderr.splitlines()
    count = lambda text: sum(text in line for line in lines)
    return {"identities": count("credentials from "),
            "kernel": (count("login lookup (kernel keyring) took"), count("token lookup (kernel keyring) took")),
            "secret service": (count("login lookup (Secret Service) took"), count("token lookup (Secret Service) took")),
            "files": count("login lookup (file) took"),
            # Every lookup line names one tier: none for the keyring as a whole besides its tiers'.
            "other": sum(" lookup (" in line and " took " in line for line in lines)
                     - sum(count(f"{kind} lookup ({tier}) took") for kind in ("login", "token")
                           for tier in ("kernel keyring", "Secret Service", "file"))}


def test_each_get_resolves_the_identity_once_and_asks_each_tier_once(helper, keyring, moto, tier):
    """A cold get, a hit, and a fetch behind the kernel's "no login" note, against moto_server:
    one identity resolution each, and each tier asked at most once for the login and the token."""
    key, secret = moto.users["puller"]
    env = {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_ENDPOINT_URL": moto.proxy.url,
           "DOCKER_CREDENTIAL_ECR_LOG": "debug"}

    def get():
        result = helper.run("get", stdin=HOST, **env)
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        return json.loads(result.stdout)["Secret"], lookup_counts(result.stderr.decode())

    cold_secret, cold = get()
    assert cold == {"identities": 1, "kernel": (1, 1), "secret service": (1, 1), "files": 1, "other": 0}
    assert re.fullmatch(rb"docker-credential-ecr 2\n[0-9a-f]{32}\nnone\n" + re.escape(HOST.encode()) + rb"\n",
                        kernel_keys.entries(tier)[f"login:-:{HOST}"][1])

    hit_secret, hit = get()
    assert hit_secret == cold_secret
    assert hit == {"identities": 1, "kernel": (1, 1), "secret service": (0, 0), "files": 1, "other": 0}

    # A logout starts a new generation: the kernel's copies from before it, the "no login" note
    # among them, answer no more, so the next get asks the Secret Service for the login once.
    assert helper.run("logout", HOST).returncode == 0
    assert not tokens(tier)
    # A fetch right after another process's reads the cache again under the lock (the lock file
    # shows that fetch); a moment later it does not.
    time.sleep(0.2)
    _, after_logout = get()
    assert after_logout == {"identities": 1, "kernel": (1, 1), "secret service": (1, 1), "files": 1, "other": 0}
    # Behind a current note: the token taken from both tiers directly (no new generation), the
    # login is answered by the kernel's note and only the token is asked of the Secret Service.
    for serial in kernel_keys.serials(tier, prefix="token:"):
        kernel_keys.invalidate(serial)
    secret_tool(keyring, "clear", "registry", HOST, "kind", "token")
    assert not tokens(tier) and f"login:-:{HOST}" in kernel_keys.entries(tier)
    time.sleep(0.2)
    _, behind_note = get()
    assert behind_note == {"identities": 1, "kernel": (1, 1), "secret service": (0, 1), "files": 1, "other": 0}
    assert len(tokens(tier)) == 1
