"""Fixtures for the end-to-end tests: the built binary, an isolated home, and real peers.

Every peer these tests need (moto_server, skopeo, the docker CLI, the Python docker package) is
required: a missing one fails the test with the command that installs it; nothing is skipped.
"""
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from emulators.aws_emulator import AWSEmulator  # noqa: E402
from emulators.recording_proxy import RecordingProxy  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[2]
HOST = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
NOT_FOUND = "credentials not found in native keychain"


def end_process(process):
    """Terminates a daemon a test started (if it is still running), killing it after 10 s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def require(command: str, install: str) -> str:
    path = shutil.which(command)
    if path is None:
        pytest.fail(f"{command} is required for this test: run `{install}`")
    return path


@pytest.fixture(scope="session")
def binary() -> Path:
    """The release binary that `./install` installs (DOCKER_CREDENTIAL_ECR overrides)."""
    path = Path(os.environ.get("DOCKER_CREDENTIAL_ECR", REPOSITORY / ".build/release/docker-credential-ecr"))
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `swift build -c release --static-swift-stdlib` or ./test")
    return path


class Timing:
    """Time bounds relative to how fast this machine starts the binary, measured just before.

    A bound is the time a run must wait by design (timeouts, a lock holder) plus the work of a
    run, counted in process starts, so a slow or busy CI machine widens every bound alike.
    """

    def __init__(self, binary: Path):
        samples = []
        for _ in range(3):
            started = time.monotonic()
            subprocess.run([str(binary), "version"], capture_output=True, check=True, timeout=30)
            samples.append(time.monotonic() - started)
        self.startup = statistics.median(samples)

    def limit(self, wait: float = 0.0, runs: int = 1) -> float:
        """`wait` seconds plus, for each of `runs` runs, 50 process starts (at least 0.25 s)."""
        return wait + runs * max(50 * self.startup, 0.25)


@pytest.fixture
def timing(binary) -> Timing:
    return Timing(binary)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Helper:
    """Runs the binary as docker would, in a private HOME with a minimal environment."""

    def __init__(self, binary: Path, home: Path):
        self.binary = binary
        self.home = home
        self.bin_dir = home / "bin"
        self.bin_dir.mkdir()
        (self.bin_dir / "docker-credential-ecr").symlink_to(binary)
        self.env = {
            "HOME": str(home),
            "PATH": f"{self.bin_dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_DATA_HOME": str(home / ".local/share"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    @property
    def cache_dir(self) -> Path:
        return self.home / ".cache/docker-credential-ecr"

    def environment(self, **extra) -> dict:
        env = dict(self.env)
        for name, value in extra.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def run(self, *arguments, stdin: str = "", timeout: float = 30, umask: int = -1, prefix=(), **extra) -> subprocess.CompletedProcess:
        """Runs the binary (under `prefix`, a command such as strace, when given); `umask` sets the
        child's umask only (never this process's: tests share it)."""
        return subprocess.run([*prefix, str(self.binary), *arguments], input=stdin.encode(), capture_output=True,
                              env=self.environment(**extra), timeout=timeout, umask=umask)

    def get(self, server: str, **extra):
        """Runs `get`; returns (parsed JSON or None, stdout text, stderr text, exit status)."""
        result = self.run("get", stdin=server, **extra)
        out, err = result.stdout.decode(), result.stderr.decode()
        document = json.loads(out) if result.returncode == 0 else None
        return document, out, err, result.returncode

    def age_cached_tokens(self, age_hours: float = 8.0, left_hours: float = 4.0):
        """Makes every cached token file look issued `age_hours` ago with `left_hours` of life left
        (negative: expired that long ago)."""
        now = time.time()
        paths = list(self.cache_dir.glob("*.json"))
        assert paths, "nothing was cached"
        for path in paths:
            record = json.loads(path.read_text())
            record["issuedAt"] = now - age_hours * 3600
            record["expiresAt"] = now + left_hours * 3600
            path.write_text(json.dumps(record))

    def write_aws_file(self, name: str, text: str) -> Path:
        path = self.home / ".aws" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        return path


@pytest.fixture
def helper(binary, tmp_path) -> Helper:
    home = tmp_path / "home"
    home.mkdir()
    return Helper(binary, home)


class Emulator:
    """Test-side handle on the in-process ECR emulator."""

    def __init__(self, emulator: AWSEmulator):
        self.emulator = emulator
        self.url = emulator.url
        self.key, self.secret = next(iter(emulator.credentials.items()))

    @property
    def requests(self):
        return list(self.emulator.requests)

    def token_requests(self):
        """Successful GetAuthorizationToken calls."""
        return [r for r in self.requests if r["kind"] == "ecr" and r["error"] is None]

    def arrivals(self):
        """When each GetAuthorizationToken call arrived (time.time()), before its delay: a fetch
        in flight shows here before it shows in `requests`."""
        return list(self.emulator.arrivals)

    def calls(self, kind):
        """Every request of one kind: ecr, sts, sso, oidc, container, imds."""
        return [r for r in self.requests if r["kind"] == kind]

    def credential_env(self, **extra) -> dict:
        """Endpoints only: credentials must come from the chain under test."""
        env = {"AWS_ENDPOINT_URL": self.url}
        env.update(extra)
        return env

    def fail_next(self, *faults):
        self.emulator.faults.extend(faults)

    def settings(self, **values):
        for name, value in values.items():
            setattr(self.emulator, name, value)

    def env(self, **extra) -> dict:
        env = {"AWS_ACCESS_KEY_ID": self.key, "AWS_SECRET_ACCESS_KEY": self.secret,
               "AWS_ENDPOINT_URL_ECR": self.url, "AWS_ENDPOINT_URL_ECR_PUBLIC": self.url}
        env.update(extra)
        return env


@pytest.fixture(scope="session")
def aws_emulator_server():
    server = AWSEmulator({"AKIAEMULATOR": "emulator-secret", "AKIADENIED": "denied-secret"})
    server.denied_keys.add("AKIADENIED")
    server.serve()
    yield server
    server.stop()


@pytest.fixture
def emulator(aws_emulator_server) -> Emulator:
    aws_emulator_server.reset()
    return Emulator(aws_emulator_server)


class Moto:
    """A real moto_server on a loopback port with SigV4 enforcement switched on."""

    def __init__(self, url: str):
        self.url = url
        self.users = {}

    def client(self, service: str, key="testing", secret="testing"):
        import boto3
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id=key, aws_secret_access_key=secret)

    def enforce_signatures(self):
        request = urllib.request.Request(f"{self.url}/moto-api/reset-auth", data=b"0", method="POST",
                                         headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(request, timeout=5).read()


class SessionBus:
    """A private D-Bus session bus (dbus-daemon), optionally with a real gnome-keyring-daemon."""

    def __init__(self, directory: Path):
        require("dbus-daemon", "apt-get install dbus")
        self.directory = directory
        self.processes = []
        socket_path = directory / "bus"
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1",
                                f"--address=unix:path={socket_path}"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.processes.append(bus)
        self.address = bus.stdout.readline().strip()
        if not self.address:
            pytest.fail("dbus-daemon did not start")

    def env(self) -> dict:
        return {"DBUS_SESSION_BUS_ADDRESS": self.address}

    def call(self, *arguments) -> str:
        gdbus = require("gdbus", "apt-get install libglib2.0-bin")
        result = subprocess.run([gdbus, "call", "--session", *arguments], capture_output=True, text=True, timeout=10,
                                env={**os.environ, **self.env()})
        if result.returncode != 0:
            raise RuntimeError(result.stderr)
        return result.stdout

    def secrets_running(self) -> bool:
        return "true" in self.call("--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus",
                                   "--method", "org.freedesktop.DBus.NameHasOwner", "org.freedesktop.secrets")

    def start_keyring(self, home: Path, password: str = "pw"):
        """gnome-keyring-daemon for `home`, unlocked with `password` (creating the keyring the first time)."""
        daemon = require("gnome-keyring-daemon", "apt-get install gnome-keyring")
        process = subprocess.Popen([daemon, "--foreground", "--unlock", "--components=secrets"],
                                   stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env={"HOME": str(home), "PATH": os.environ["PATH"], **self.env()})
        process.stdin.write(password.encode())
        process.stdin.close()
        self.processes.append(process)
        deadline = time.monotonic() + 10
        while not self.secrets_running():
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("gnome-keyring-daemon did not claim org.freedesktop.secrets")
            time.sleep(0.05)
        return process

    def stop_keyring(self, process):
        process.terminate()
        process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while self.secrets_running() and time.monotonic() < deadline:
            time.sleep(0.05)

    def lock_default_collection(self):
        self.call("--dest", "org.freedesktop.secrets", "--object-path", "/org/freedesktop/secrets",
                  "--method", "org.freedesktop.Secret.Service.Lock", "['/org/freedesktop/secrets/collection/login']")

    def close(self):
        for process in reversed(self.processes):
            end_process(process)


@pytest.fixture
def session_bus(tmp_path):
    bus = SessionBus(tmp_path)
    yield bus
    bus.close()


@pytest.fixture
def keyring(session_bus, helper):
    """A real, unlocked gnome-keyring on a private session bus; the helper's env points at it.
    The copies the helper keeps in the kernel keyring (shared by every test of this user) are
    removed afterwards."""
    session_bus.start_keyring(helper.home)
    helper.env.update(session_bus.env())
    yield session_bus
    import kernel_keys
    kernel_keys.clear(kernel_keys.scope(session_bus.address))


def secret_tool(bus, *arguments) -> str:
    tool = require("secret-tool", "apt-get install libsecret-tools")
    result = subprocess.run([tool, *arguments], capture_output=True, text=True, timeout=10, env={**os.environ, **bus.env()})
    return result.stdout + result.stderr  # secret-tool prints the attributes on stderr


@pytest.fixture
def silent_port():
    """A port that accepts connections and never answers (a metadata service that hangs)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture(scope="session")
def moto():
    """moto_server with IAM users `puller` (may pull) and `nobody` (may not); then enforcement."""
    server = require("moto_server", "pip install 'moto[server]'")
    port = free_port()
    log = open(os.devnull, "wb")
    process = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("moto_server did not start")
            time.sleep(0.1)
    handle = Moto(url)
    iam = handle.client("iam")
    policy = iam.create_policy(PolicyName="pull", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "sts:AssumeRole"], "Resource": "*"}],
    }))["Policy"]["Arn"]
    for user in ("puller", "nobody"):
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        handle.users[user] = (key["AccessKeyId"], key["SecretAccessKey"])
    iam.attach_user_policy(UserName="puller", PolicyArn=policy)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
    allow = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "sts:AssumeRole"], "Resource": "*"}]})
    for role in ("pull", "hop"):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
        iam.put_role_policy(RoleName=role, PolicyName="allow", PolicyDocument=allow)
    iam.create_role(RoleName="nopull", AssumeRolePolicyDocument=trust)
    handle.enforce_signatures()
    handle.proxy = RecordingProxy(url).serve()
    yield handle
    handle.proxy.stop()
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


class OtherUser:
    """A second local account (made with useradd once, kept between runs), for what crosses users."""

    def __init__(self, name: str):
        import pwd
        entry = pwd.getpwnam(name)
        self.name, self.uid, self.gid, self.home = name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir)

    def command(self, *arguments) -> list:
        """`arguments` run as this user (no other groups), keeping the caller's session keyring."""
        return [require("setpriv", "apt-get install util-linux"), f"--reuid={self.uid}", f"--regid={self.gid}",
                "--clear-groups", "--", *arguments]


def local_user(name: str) -> OtherUser:
    if os.geteuid() != 0:
        pytest.fail("this test needs root, to add and act as other local users")
    if subprocess.run(["id", name], capture_output=True).returncode != 0:
        subprocess.run([require("useradd", "apt-get install passwd"), "--create-home", "--shell", "/bin/sh", name],
                       check=True, capture_output=True, timeout=60)
    return OtherUser(name)


@pytest.fixture(scope="session")
def other_user() -> OtherUser:
    """A second local user with a home directory; the tests that need one run as root."""
    return local_user("ecr-test-other")


@pytest.fixture(scope="session")
def third_user() -> OtherUser:
    """A third local user, for what one user could make root do to another."""
    return local_user("ecr-test-third")


# --- kernel keyrings one user plants in another's ------------------------------------------------

TOOL_KEYRING = "docker-credential-ecr"


def user_keyring_links(uid: int) -> list:
    """(serial, `type;uid;gid;perm;description`) of each key linked in `uid`'s user keyring, read
    as that uid with keyctl, possessing the keyring (so a key planted with possessor rights only
    shows too); the description is "" for a key that cannot be described. Needs root for any uid
    but this process's own."""
    keyctl = require("keyctl", "apt-get install keyutils")
    script = 'keyctl link @u @s >/dev/null || exit 90; for k in $(keyctl rlist @u); do printf "%s;" "$k"; ' \
             'keyctl rdescribe "$k" 2>/dev/null || echo; done'
    command = [keyctl, "session", "-", "sh", "-c", script]
    if uid != os.geteuid():
        command = [require("setpriv", "apt-get install util-linux"), f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--",
                   *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"cannot read the user keyring of uid {uid}: {result.stderr.strip()}")
    links = []
    for line in result.stdout.splitlines():
        serial, _, description = line.partition(";")
        if serial.strip().isdigit():
            links.append((int(serial), description))
    return links


def planted_keyrings(uid: int) -> set:
    """(uid, serial, owner) of each keyring named docker-credential-ecr in `uid`'s user keyring
    that another uid owns (what another user who possesses that keyring after a plain `su` can
    put there), and of each key there that cannot be described (whose owner is unknown, "?")."""
    found = set()
    for serial, description in user_keyring_links(uid):
        fields = description.split(";", 4)
        if len(fields) != 5:
            found.add((uid, serial, "?"))
        elif fields[0] == "keyring" and fields[4] == TOOL_KEYRING and int(fields[1]) != uid:
            found.add((uid, serial, fields[1]))
    return found


def every_planted_keyring() -> set:
    """`planted_keyrings` of every uid the kernel keeps keys for (/proc/key-users); only this
    process's own uid when it is not root. A uid whose keyring cannot be read (key calls refused
    here, its key quota full) is named on stderr and left out."""
    if os.geteuid() != 0:
        uids = [os.geteuid()]
    else:
        uids = [int(line.split(":")[0]) for line in Path("/proc/key-users").read_text().splitlines() if line.strip()]
    found = set()
    for uid in uids:
        try:
            found |= planted_keyrings(uid)
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            print(f"\nnot checked for planted kernel keyrings: {error}", file=sys.stderr)
    return found


@pytest.fixture(scope="session", autouse=True)
def no_keyring_left_planted():
    """Fails the run when a tool keyring of one uid is left in another uid's user keyring: it
    would stay there (user keyrings outlive the processes and users they belong to) and keep the
    kernel tier off for a user made later with that uid. What was there before the run is not
    this run's doing and is only named."""
    if shutil.which("keyctl") is None and os.environ.get("CI") != "true":
        yield
        return
    before = every_planted_keyring()
    if before:
        print(f"\nkernel keyrings planted before this run (left alone): {sorted(before)}", file=sys.stderr)
    yield
    left = every_planted_keyring() - before
    if left:
        pytest.fail("the run left tool keyrings of one uid in another uid's user keyring (uid, serial, owner): "
                    f"{sorted(left)}; remove them with `keyctl unlink SERIAL` as that uid", pytrace=False)


class KernelPlants:
    """What a test plants in another user's user keyring as `owner`; `sweep` removes it."""

    def __init__(self, owner: "OtherUser"):
        self.owner = owner
        self.serials = []
        self.victims = set()

    def planted(self, serial: int, victim: "OtherUser"):
        """Notes a keyring or key `owner` planted in `victim`'s user keyring."""
        self.serials.append(serial)
        self.victims.add(victim)

    def sweep(self) -> set:
        """Unlinks every key of another uid from each victim's user keyring (as the victim, who
        owns that keyring) and invalidates what was noted (as its owner); returns what is left."""
        keyctl = require("keyctl", "apt-get install keyutils")
        for victim in self.victims:
            for serial, _, _ in planted_keyrings(victim.uid):
                subprocess.run(victim.command(keyctl, "unlink", str(serial), "@u"), capture_output=True, timeout=30)
        for serial in self.serials:
            subprocess.run(self.owner.command(keyctl, "invalidate", str(serial)), capture_output=True, timeout=30)
        # An invalidated key stays linked, and can no longer be described ("?"), until the
        # kernel's key garbage collector (a work queue) unlinks it: give it a few seconds.
        deadline = time.monotonic() + 5
        while True:
            left = set()
            for victim in self.victims:
                left |= planted_keyrings(victim.uid)
            if not left or time.monotonic() > deadline or any(owner != "?" for _, _, owner in left):
                return left
            time.sleep(0.1)


@pytest.fixture
def kernel_plants(third_user):
    """Keys the third user plants in another user's user keyring: removed after the test, even
    when it failed, and the test errs if any is left."""
    plants = KernelPlants(third_user)
    yield plants
    left = plants.sweep()
    assert not left, f"planted keys left in a user keyring (uid, serial, owner): {sorted(left)}"
