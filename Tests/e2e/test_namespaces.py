"""Logout is logout, and store is store, from every namespace of the user.

Rootless podman runs the helper in its own user namespace, where the kernel keyring is another one
(newer kernels give each user namespace its own user keyring) or refuses the calls (EACCES on older
ones); a seccomp filter refuses them too. A `store`, `erase` or `logout` made there changes the
Secret Service, and a new generation in the file beside the token cache retires the copies the
kernel keeps everywhere else, so the next `get` and `list` outside see the change at once.

The user-namespace tests run as a real non-root user (with /etc/subuid and /etc/subgid ranges)
with a D-Bus session bus and an unlocked gnome-keyring of their own: real rootless podman (`podman
login --get-login`, `podman logout`, `podman logout --all`, with the helper in credHelpers, and
`podman unshare` for a `store`), and `unshare --user --map-root-user`, which puts the helper in a
user namespace the way podman does. A wrapper records each call's uid map, to prove the helper ran
inside a namespace. The seccomp tests run the release binary under a filter that refuses add_key,
request_key and keyctl (kernel_keys.refuse_key_calls)."""
import errno
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import kernel_keys
from conftest import HOST, NOT_FOUND, end_process, require

PYTHON = "/usr/bin/python3"  # Debian's, which the test user may run
E2E = Path(__file__).resolve().parent
REGISTRY, OTHER = "reg.example", "other.example"
NAMESPACE_WARNING = "kernel keyring cannot be reached"


def subordinate_ids(user):
    """Gives `user` a range of subordinate uids and gids (rootless podman maps them), once."""
    for path, base in (("/etc/subuid", 200_000), ("/etc/subgid", 200_000)):
        lines = Path(path).read_text().splitlines() if os.path.exists(path) else []
        if any(line.split(":")[0] == user.name for line in lines):
            continue
        taken = [int(line.split(":")[1]) + int(line.split(":")[2]) for line in lines if line.count(":") == 2]
        start = max([base, *taken])
        with open(path, "a") as handle:
            handle.write(f"{user.name}:{start}:65536\n")


class UserSession:
    """A non-root user's session: a directory of theirs, a D-Bus session bus and an unlocked
    gnome-keyring of theirs, and the release binary run as them, outside or inside a namespace."""

    def __init__(self, user, binary: Path):
        for command, package in (("podman", "podman"), ("newuidmap", "uidmap"), ("unshare", "util-linux"),
                                 ("dbus-daemon", "dbus"), ("gnome-keyring-daemon", "gnome-keyring"), ("gdbus", "libglib2.0-bin")):
            require(command, f"apt-get install {package}")
        if not os.access(PYTHON, os.X_OK):
            pytest.fail(f"{PYTHON} is required: run `apt-get install python3`")
        subordinate_ids(user)
        self.user = user
        self.root = Path(tempfile.mkdtemp(prefix="ecr-ns-", dir="/tmp"))
        self.root.chmod(0o755)
        self.home, self.runtime, self.bin = self.root / "home", self.root / "run", self.root / "bin"
        for directory in (self.home, self.runtime, self.bin):
            directory.mkdir()
        self.runtime.chmod(0o700)
        shutil.copy(binary, self.bin / "docker-credential-ecr")
        # The helper podman runs (credHelpers "ecrprobe"): it notes the action and the uid map, then runs this one.
        self.probe_log = self.root / "probe.log"
        self.probe_log.touch(mode=0o666)
        self.probe_log.chmod(0o666)
        probe = self.bin / "docker-credential-ecrprobe"
        probe.write_text(f"#!/bin/sh\n{{ echo \"action $1\"; cat /proc/self/uid_map; }} >> {self.probe_log}\n"
                         f"exec {self.bin}/docker-credential-ecr \"$@\"\n")
        for program in self.bin.iterdir():
            program.chmod(0o755)
        for directory in (self.home, self.runtime):
            os.chown(directory, user.uid, user.gid)
        self.processes = []
        self.address = None
        self.base = {"HOME": str(self.home), "XDG_RUNTIME_DIR": str(self.runtime), "LANG": "C.UTF-8",
                     "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin"}
        bus = subprocess.Popen(user.command("dbus-daemon", "--session", "--nofork", "--print-address=1",
                                            f"--address=unix:path={self.runtime}/bus"),
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=self.base)
        self.processes.append(bus)
        self.address = bus.stdout.readline().strip()
        if not self.address:
            pytest.fail("dbus-daemon did not start as the test user")
        keyring = subprocess.Popen(user.command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"),
                                   stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env())
        keyring.stdin.write(b"pw")
        keyring.stdin.close()
        self.processes.append(keyring)
        deadline = time.monotonic() + 10
        while "true" not in self.run("gdbus", "call", "--session", "--dest", "org.freedesktop.DBus", "--object-path",
                                     "/org/freedesktop/DBus", "--method", "org.freedesktop.DBus.NameHasOwner",
                                     "org.freedesktop.secrets").stdout.decode():
            if time.monotonic() > deadline or keyring.poll() is not None:
                pytest.fail("gnome-keyring-daemon did not claim org.freedesktop.secrets for the test user")
            time.sleep(0.05)
        self.scope = kernel_keys.scope(self.address)

    def env(self, **extra) -> dict:
        env = dict(self.base)
        if self.address:
            env["DBUS_SESSION_BUS_ADDRESS"] = self.address
        env.update(extra)
        return env

    def run(self, *argv, stdin: bytes = b"", inside=None, timeout: float = 60, **extra) -> subprocess.CompletedProcess:
        """`argv` as the user; `inside` "podman" (podman unshare: podman's own user namespace) or
        "unshare" (unshare --user --map-root-user) runs it in a user namespace."""
        prefix = {None: [], "podman": ["podman", "unshare"], "unshare": ["unshare", "--user", "--map-root-user"]}[inside]
        return subprocess.run(self.user.command(*prefix, *argv), input=stdin, capture_output=True, timeout=timeout,
                              env=self.env(**extra), cwd=self.root)

    def helper(self, *arguments, stdin: str = "", inside=None, **extra) -> subprocess.CompletedProcess:
        return self.run(str(self.bin / "docker-credential-ecr"), *arguments, stdin=stdin.encode(), inside=inside, **extra)

    def store(self, server: str, username: str, secret: str, inside=None) -> subprocess.CompletedProcess:
        return self.helper("store", stdin=json.dumps({"ServerURL": server, "Username": username, "Secret": secret}), inside=inside)

    def get(self, server: str, inside=None, **extra):
        """(parsed JSON or None, stdout, stderr, status) of `get`."""
        result = self.helper("get", stdin=server, inside=inside, **extra)
        document = json.loads(result.stdout) if result.returncode == 0 else None
        return document, result.stdout.decode(), result.stderr.decode(), result.returncode

    def listed(self, inside=None) -> dict:
        result = self.helper("list", inside=inside)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def podman(self, *arguments) -> subprocess.CompletedProcess:
        """podman with the helper named for both registries in the auth file podman writes
        (`podman logout --all` empties it, so it is written before every call)."""
        auth = self.runtime / "containers/auth.json"
        auth.parent.mkdir(exist_ok=True)
        auth.write_text(json.dumps({"credHelpers": {REGISTRY: "ecrprobe", OTHER: "ecrprobe"}}))
        for path in (auth.parent, auth):
            os.chown(path, self.user.uid, self.user.gid)
        return self.run("podman", *arguments)

    def probed(self) -> list:
        """(action, uid map lines) of each call podman made to the helper, then forgets them."""
        calls = []
        for line in self.probe_log.read_text().splitlines():
            if line.startswith("action "):
                calls.append((line.split(" ", 1)[1], []))
            elif calls:
                calls[-1][1].append(" ".join(line.split()))
        self.probe_log.write_text("")
        return calls

    def kernel_entries(self) -> dict:
        """The user's kernel keyring entries of this session's scope (read as the user, outside)."""
        script = f"import json, sys; sys.path.insert(0, {str(E2E)!r}); import kernel_keys; " \
                 f"print(json.dumps({{k: v[1].decode() for k, v in kernel_keys.entries({self.scope!r}).items()}}))"
        result = self.run(PYTHON, "-c", script)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    @property
    def generation_file(self) -> Path:
        return self.home / ".cache/docker-credential-ecr/kernel-generation"

    def close(self):
        pause = self.runtime / "libpod/tmp/pause.pid"
        if pause.exists():
            try:
                os.kill(int(pause.read_text().strip()), signal.SIGKILL)
            except (ValueError, ProcessLookupError):
                pass
        if self.address:
            script = f"import sys; sys.path.insert(0, {str(E2E)!r}); import kernel_keys; kernel_keys.clear({self.scope!r})"
            self.run(PYTHON, "-c", script)
        for process in reversed(self.processes):
            end_process(process)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def session(other_user, binary):
    desktop = UserSession(other_user, binary)
    yield desktop
    desktop.close()


def in_a_user_namespace(calls, action):
    """Whether podman ran the helper for `action`, each time inside a user namespace (a uid map
    other than the initial namespace's identity map)."""
    maps = [uid_map for done, uid_map in calls if done == action]
    return bool(maps) and all(uid_map and uid_map != ["0 0 4294967295"] for uid_map in maps)


def own_lines(stderr: bytes) -> list:
    """What the helper itself said on stderr (podman adds lines of its own)."""
    return [line for line in stderr.decode().splitlines() if line.startswith("docker-credential-ecr")]


def assert_logged_in(session, server, username, secret):
    document, out, err, status = session.get(server)
    assert status == 0, err
    assert document == {"ServerURL": server, "Username": username, "Secret": secret}


def assert_logged_out(session, server):
    document, out, err, status = session.get(server)
    assert status == 1 and out.strip() == NOT_FOUND, (out, err)
    assert server not in session.listed()


# --- rootless podman ---------------------------------------------------------------------------

def test_podman_logout_of_a_registry_is_seen_outside_at_once(session):
    assert session.store(REGISTRY, "me", "pw-reg").returncode == 0
    assert session.store(OTHER, "she", "pw-other").returncode == 0
    assert_logged_in(session, REGISTRY, "me", "pw-reg")  # now copied into the kernel keyring
    assert_logged_in(session, OTHER, "she", "pw-other")
    assert session.kernel_entries()[f"login:-:{REGISTRY}"].endswith("pw-reg")

    login = session.podman("login", "--get-login", REGISTRY)
    assert login.returncode == 0 and login.stdout.decode().strip() == "me", login.stderr
    logout = session.podman("logout", REGISTRY)
    assert logout.returncode == 0, logout.stderr
    assert logout.stdout.decode().strip() == f"Removed login credentials for {REGISTRY}"
    assert NAMESPACE_WARNING not in logout.stderr.decode()
    calls = session.probed()
    assert in_a_user_namespace(calls, "get") and in_a_user_namespace(calls, "erase"), calls

    assert_logged_out(session, REGISTRY)
    assert_logged_in(session, OTHER, "she", "pw-other")  # nothing else is lost
    assert session.listed() == {OTHER: "she"}


def test_podman_logout_all_is_seen_outside_at_once(session):
    for server, user in ((REGISTRY, "me"), (OTHER, "she")):
        assert session.store(server, user, f"pw-{user}").returncode == 0
        assert_logged_in(session, server, user, f"pw-{user}")
    assert session.listed() == {REGISTRY: "me", OTHER: "she"}
    logout = session.podman("logout", "--all")
    assert logout.returncode == 0, logout.stderr
    assert NAMESPACE_WARNING not in logout.stderr.decode()
    assert in_a_user_namespace(session.probed(), "erase")
    assert_logged_out(session, REGISTRY)
    assert_logged_out(session, OTHER)
    assert session.listed() == {}


def test_a_login_stored_in_podmans_namespace_is_not_shadowed_outside(session):
    """The namespace writes the generation file first here: outside, its owner (the user, seen
    as uid 0 inside) is the user's own."""
    assert session.podman("login", "--get-login", REGISTRY).returncode != 0  # nothing stored yet
    assert session.generation_file.stat().st_uid == session.user.uid
    assert session.get(REGISTRY)[3] == 1
    assert session.kernel_entries()[f"login:-:{REGISTRY}"].split("\n")[2] == "none"  # "no login", noted outside

    stored = session.store(REGISTRY, "me", "stored-inside", inside="podman")
    assert stored.returncode == 0 and own_lines(stored.stderr) == [], stored.stderr
    assert_logged_in(session, REGISTRY, "me", "stored-inside")
    assert session.listed() == {REGISTRY: "me"}
    login = session.podman("login", "--get-login", REGISTRY)
    assert login.returncode == 0 and login.stdout.decode().strip() == "me"


def test_a_store_outside_retires_the_copy_podmans_namespace_keeps(session):
    """The other way: podman's namespace lives on (its pause process), and with it whatever
    keyring of its own the kernel gives it; a new login stored outside must be what it answers."""
    assert session.store(REGISTRY, "me", "first").returncode == 0
    assert session.podman("login", "--get-login", REGISTRY).stdout.decode().strip() == "me"
    assert session.store(REGISTRY, "you", "second").returncode == 0
    login = session.podman("login", "--get-login", REGISTRY)
    assert login.returncode == 0 and login.stdout.decode().strip() == "you", login.stderr
    assert session.helper("erase", stdin=REGISTRY).returncode == 0
    assert session.podman("login", "--get-login", REGISTRY).returncode != 0


# --- the helper in a user namespace, as podman runs it ------------------------------------------

@pytest.mark.parametrize("inside", ["unshare", "podman"])
def test_each_write_in_a_user_namespace_is_seen_outside(session, inside):
    # erase
    assert session.store(REGISTRY, "me", "pw1").returncode == 0
    assert_logged_in(session, REGISTRY, "me", "pw1")
    erased = session.helper("erase", stdin=REGISTRY, inside=inside)
    assert erased.returncode == 0 and own_lines(erased.stderr) == [], erased.stderr
    assert_logged_out(session, REGISTRY)
    # store, over the note outside that there was none
    assert session.kernel_entries()[f"login:-:{REGISTRY}"].split("\n")[2] == "none"
    stored = session.store(REGISTRY, "you", "pw2", inside=inside)
    assert stored.returncode == 0 and own_lines(stored.stderr) == [], stored.stderr
    assert_logged_in(session, REGISTRY, "you", "pw2")
    assert session.listed() == {REGISTRY: "you"}
    # logout
    logout = session.helper("logout", REGISTRY, "--logins", inside=inside)
    assert logout.returncode == 0 and own_lines(logout.stderr) == [], logout.stderr
    assert_logged_out(session, REGISTRY)
    # and the namespace itself answers from the Secret Service, the same
    assert session.get(REGISTRY, inside=inside)[3] == 1


# --- seccomp -----------------------------------------------------------------------------------

LOGIN = {"ServerURL": "https://registry.example", "Username": "me", "Secret": "s3cret-login"}


@pytest.fixture
def tier(helper, keyring):
    scope = kernel_keys.scope(keyring.address)
    kernel_keys.clear(scope)
    yield scope
    kernel_keys.clear(scope)


def refused(helper, *arguments, stdin: str = "", **extra) -> subprocess.CompletedProcess:
    """The release binary under a seccomp filter that refuses the key calls (EPERM, as Docker's
    default profile)."""
    return subprocess.run([str(helper.binary), *arguments], input=stdin.encode(), capture_output=True, timeout=30,
                          env=helper.environment(**extra), preexec_fn=lambda: kernel_keys.refuse_key_calls(errno.EPERM))


def listed(helper) -> dict:
    result = helper.run("list")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_an_erase_under_seccomp_is_seen_outside(helper, keyring, tier):
    assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
    assert helper.get("registry.example")[0]["Secret"] == "s3cret-login"
    assert kernel_keys.entries(tier)["login:-:registry.example"][1].endswith(b"s3cret-login")
    result = refused(helper, "erase", stdin="registry.example")
    assert result.returncode == 0 and result.stderr == b"", result.stderr  # no warning
    document, out, err, status = helper.get("registry.example")
    assert status == 1 and out.strip() == NOT_FOUND
    assert "registry.example" not in listed(helper)


def test_a_store_under_seccomp_is_not_shadowed_outside(helper, keyring, tier):
    assert helper.get("registry.example")[3] == 1
    assert kernel_keys.entries(tier)["login:-:registry.example"][1].split(b"\n")[2] == b"none"
    result = refused(helper, "store", stdin=json.dumps(LOGIN))
    assert result.returncode == 0 and result.stderr == b"", result.stderr
    assert helper.get("registry.example")[0]["Secret"] == "s3cret-login"
    assert listed(helper) == {"https://registry.example": "me"}
    changed = refused(helper, "store", stdin=json.dumps(dict(LOGIN, Secret="changed-in-a-sandbox")))
    assert changed.returncode == 0 and changed.stderr == b""
    assert helper.get("registry.example")[0]["Secret"] == "changed-in-a-sandbox"


def test_a_logout_under_seccomp_is_seen_outside(helper, keyring, emulator, tier):
    first = helper.get(HOST, **emulator.env())
    assert first[3] == 0
    assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
    assert helper.get("registry.example")[3] == 0
    assert len(emulator.token_requests()) == 1
    result = refused(helper, "logout", "--all", "--logins", **emulator.env())
    assert result.returncode == 0, result.stderr
    assert NAMESPACE_WARNING not in result.stderr.decode()
    assert helper.get("registry.example")[3] == 1
    assert listed(helper) == {}
    again = helper.get(HOST, **emulator.env())  # the kernel's copy of the old token no longer answers
    assert again[3] == 0 and again[0]["Secret"] != first[0]["Secret"]
    assert len(emulator.token_requests()) == 2


def test_gets_racing_sandboxed_writes_never_leave_a_stale_copy(helper, keyring, tier, tmp_path):
    """Readers outside copy from the Secret Service into the kernel while a sandboxed process
    stores and erases: whatever the interleaving, once the writes are over the next `get` outside
    answers what the last write left (a copy made from an answer older than a write carries the
    generation read before it, which that write retired)."""
    server = tmp_path / "server.txt"
    server.write_text("registry.example")
    for round in range(12):
        readers = []
        for _ in range(4):
            with open(server, "rb") as stdin:
                readers.append(subprocess.Popen([str(helper.binary), "get"], stdin=stdin, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL, env=helper.environment()))
        if round % 2 == 0:
            written = refused(helper, "store", stdin=json.dumps(dict(LOGIN, Secret=f"round-{round}")))
        else:
            written = refused(helper, "erase", stdin="registry.example")
        assert written.returncode == 0 and written.stderr == b"", written.stderr
        for reader in readers:
            reader.wait(timeout=30)
        document, out, err, status = helper.get("registry.example")
        if round % 2 == 0:
            assert status == 0 and document["Secret"] == f"round-{round}", (round, out, err)
        else:
            assert status == 1 and out.strip() == NOT_FOUND, (round, out, err)
        assert helper.get("registry.example")[0] == document  # and again, from the copy just made


def test_doctor_says_once_that_writes_here_still_reach_the_copies_outside(helper, keyring, emulator, tier):
    assert helper.get(HOST, **emulator.env())[3] == 0
    result = refused(helper, "doctor", HOST, "--json", **emulator.env(AWS_ENDPOINT_URL=emulator.url))
    [cache] = [check for check in json.loads(result.stdout)["checks"] if check["name"] == "cache"]
    path = helper.cache_dir / "kernel-generation"
    assert ("kernel keyring: not usable here (kernel keyring keyctl search failed: Operation not permitted); the Secret Service "
            f"is asked every time, and `store`, `erase` and `logout` here retire the copies other processes keep through {path}") \
        in cache["details"], cache


# --- the generation file ---------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["missing", "torn", "planted link", "another user's"])
def test_a_damaged_generation_file_loses_nothing_and_trusts_no_copy(helper, keyring, tier, damage, other_user):
    assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
    assert helper.get("registry.example")[3] == 0
    path = helper.cache_dir / "kernel-generation"
    valid = path.read_bytes()
    # The Secret Service changes behind the tool's back (another program), so a copy that
    # answered would be seen: the kernel's is the old login.
    subprocess.run(["secret-tool", "clear", "registry", "registry.example"], env={**os.environ, **keyring.env()}, check=True, timeout=10)
    assert kernel_keys.entries(tier)["login:-:registry.example"][1].endswith(b"s3cret-login")
    path.unlink()
    if damage == "torn":
        path.write_bytes(valid[:30])
    elif damage == "planted link":
        (helper.cache_dir / "elsewhere").write_bytes(valid)
        path.symlink_to(helper.cache_dir / "elsewhere")
    elif damage == "another user's":
        path.write_bytes(valid)
        os.chown(path, other_user.uid, other_user.gid)
    result = helper.run("get", stdin="registry.example", DOCKER_CREDENTIAL_ECR_LOG="debug")
    assert result.returncode == 1, result.stdout  # the kernel's old copy did not answer
    assert "registry.example" not in listed(helper)
    # A later copy writes a fresh generation, the user's own, and is used again.
    assert helper.run("store", stdin=json.dumps(dict(LOGIN, Secret="again"))).returncode == 0
    assert path.is_file() and not path.is_symlink() and path.stat().st_uid == os.geteuid()
    assert path.read_bytes() != valid
    with_copy = helper.run("get", stdin="registry.example", DOCKER_CREDENTIAL_ECR_LOG="debug")
    assert json.loads(with_copy.stdout)["Secret"] == "again"
    assert b"using the login stored by `store` (kernel keyring)" in with_copy.stderr


def test_a_write_that_cannot_change_the_generation_says_so(helper, keyring, tier):
    """The one case left for a warning: the generation file cannot be replaced (the cache
    directory is mounted read-only here), so copies other processes keep outside would answer
    until they expire. The copies this keyring holds are still removed."""
    if os.geteuid() != 0:
        pytest.fail("this test needs root, to mount the cache directory read-only")
    helper.cache_dir.mkdir(parents=True, mode=0o700)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(helper.cache_dir)], check=True, timeout=10)
    try:
        assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
        assert helper.get("registry.example")[3] == 0
        assert (helper.cache_dir / "kernel-generation").is_file()
        subprocess.run(["mount", "-o", "remount,ro", str(helper.cache_dir)], check=True, timeout=10)
        result = helper.run("erase", stdin="registry.example")
    finally:
        subprocess.run(["umount", "-l", str(helper.cache_dir)], timeout=10)
    assert result.returncode == 0, result.stdout
    [warning] = result.stderr.decode().splitlines()
    assert warning.startswith("docker-credential-ecr: the kernel keyring generation cannot be changed (")
    assert "Read-only file system" in warning
    assert warning.endswith("copies other processes of this user keep in the kernel keyring are not retired: they expire "
                            "within 60 minutes (logins) or with their token")
    assert "login:-:registry.example" not in kernel_keys.entries(tier)
    assert helper.get("registry.example")[3] == 1
