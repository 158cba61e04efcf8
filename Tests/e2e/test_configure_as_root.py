"""`configure` run by root on another user's docker directory (provisioning scripts do this): it
writes with that user's rights, so nothing the user swaps in (a symbolic link, at any moment) can
make it change a file outside the user's own; and `configure` beside a program that rewrites the
file at the same time (`docker login`) loses neither side's change.

These tests run as root with a real second user (useradd), as CI does."""
import json
import os
import subprocess
import threading
import time
import tempfile
import uuid
from pathlib import Path

import pytest

from conftest import HOST, require

OTHER = "210987654321.dkr.ecr.eu-west-1.amazonaws.com"


@pytest.fixture
def user_docker(other_user):
    """A docker config directory of the second user's, inside their home; removed afterwards."""
    base = other_user.home / f"case-{uuid.uuid4().hex[:12]}"
    directory = base / ".docker"
    directory.mkdir(parents=True)
    for path in (base, directory):
        os.chown(path, other_user.uid, other_user.gid)
    yield directory
    subprocess.run(["rm", "-rf", str(base)], check=True)


@pytest.fixture
def root_directory():
    """A directory of root's that anyone may pass through, as /etc/docker; removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="ecr-root-", dir="/tmp"))
    os.chmod(directory, 0o755)
    yield directory
    subprocess.run(["rm", "-rf", str(directory)], check=True)


def root_file(directory, name="target", text='{"root": "only"}\n'):
    """A file of root's, 0600."""
    path = directory / name
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


def configure_as_root(helper, directory, *arguments, prefix=(), **extra):
    environment = helper.environment(DOCKER_CONFIG=str(directory), **extra)
    return subprocess.run([*prefix, str(helper.binary), "configure", *arguments], env=environment, capture_output=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def test_root_setting_up_a_users_docker_leaves_the_files_to_the_user(helper, other_user, user_docker):
    first = configure_as_root(helper, user_docker, HOST)
    assert first.returncode == 0, first.stderr.decode()
    info = (user_docker / "config.json").stat()
    assert (info.st_uid, info.st_gid) == (other_user.uid, other_user.gid)
    assert configure_as_root(helper, user_docker, OTHER).returncode == 0
    backup = (user_docker / "config.json.bak").stat()
    assert (backup.st_uid, backup.st_gid) == (other_user.uid, other_user.gid)
    assert set(json.loads((user_docker / "config.json").read_text())["credHelpers"]) == {HOST, OTHER}


def test_root_never_changes_an_owner_by_path_in_the_users_directory(helper, other_user, user_docker, tmp_path):
    """chown(2) by path follows whatever link the user put there a moment before."""
    strace = require("strace", "apt-get install strace")
    log = tmp_path / "calls"
    (user_docker / "config.json").write_text('{"auths": {}}\n')
    os.chown(user_docker / "config.json", other_user.uid, other_user.gid)
    first = configure_as_root(helper, user_docker, HOST, prefix=(strace, "-f", "-qq", "-o", str(log),
                                                                   "-e", "trace=chown,lchown,fchownat,chmod,fchmodat"))
    assert first.returncode == 0, first.stderr.decode()
    by_path = [line for line in log.read_text().splitlines() if str(user_docker) in line]
    assert by_path == []


def test_a_link_swapped_in_for_the_backup_never_gives_the_user_roots_file(helper, other_user, user_docker, root_directory):
    """The user replaces config.json.bak with a link to a root file again and again while root's
    configure runs, each of its renames and owner changes slowed down (strace) to widen the race."""
    strace = require("strace", "apt-get install strace")
    target = root_file(root_directory)
    (user_docker / "config.json").write_text('{"auths": {}}\n')
    os.chown(user_docker / "config.json", other_user.uid, other_user.gid)
    stop = threading.Event()

    def swap():
        count = 0
        while not stop.is_set():
            link = user_docker / f"swap.{count}"
            os.symlink(target, link)
            os.lchown(link, other_user.uid, other_user.gid)
            os.rename(link, user_docker / "config.json.bak")
            count += 1
            time.sleep(0.01)

    swapper = threading.Thread(target=swap)
    swapper.start()
    try:
        for arguments in ((HOST,), ("--remove", HOST)):
            configure_as_root(helper, user_docker, *arguments, prefix=(
                strace, "-f", "-qq", "-o", "/dev/null", "-e", "inject=chown,rename,renameat2:delay_enter=300000"))
    finally:
        stop.set()
        swapper.join(timeout=10)
    info = target.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (0, 0, 0o600)
    assert target.read_text() == '{"root": "only"}\n'


def test_root_does_not_follow_the_users_link_to_a_file_of_roots(helper, other_user, user_docker, root_directory):
    daemon = root_file(root_directory, "daemon.json", '{"log-driver": "json-file"}\n')
    link = user_docker / "config.json"
    os.symlink(daemon, link)
    os.lchown(link, other_user.uid, other_user.gid)
    for arguments in ((HOST,), ("--dry-run", HOST), ("--remove",)):
        result = configure_as_root(helper, user_docker, *arguments)
        assert result.returncode == 1, result
        assert f"it is a symbolic link of uid {other_user.uid} to {daemon}, which uid 0 owns" in result.stderr.decode()
    assert daemon.read_text() == '{"log-driver": "json-file"}\n'
    assert not (daemon.parent / "daemon.json.bak").exists()
    # A link of the user's to a file of their own is theirs: it is followed, as for the user.
    own = user_docker / "dotfiles.json"
    own.write_text("{}\n")
    os.chown(own, other_user.uid, other_user.gid)
    link.unlink()
    os.symlink(own, link)
    os.lchown(link, other_user.uid, other_user.gid)
    assert configure_as_root(helper, user_docker, HOST).returncode == 0
    assert link.is_symlink() and HOST in json.loads(own.read_text())["credHelpers"]
    assert own.stat().st_uid == other_user.uid


def test_a_program_rewriting_the_file_meanwhile_loses_nothing(helper, tmp_path):
    """A writer that replaces config.json as docker login does (a new file renamed over it, no
    lock) runs flat out while configure adds and removes entries, every rename of configure's
    slowed down (strace) so the writer lands between configure's last look and its write."""
    strace = require("strace", "apt-get install strace")
    directory = helper.home / ".docker"
    directory.mkdir()
    path = directory / "config.json"
    path.write_text('{"auths": {}}\n')
    stop = threading.Event()
    written = []

    def writer():
        count = 0
        while not stop.is_set():
            document = json.loads(path.read_text())
            document.setdefault("auths", {})[f"writer-{count}.example"] = {}
            temporary = directory / f".writer.{count}"
            temporary.write_text(json.dumps(document, indent="\t"))
            os.rename(temporary, path)
            written.append(f"writer-{count}.example")
            count += 1
            time.sleep(0.2)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        results = [helper.run("configure", *arguments, prefix=(strace, "-f", "-qq", "-o", "/dev/null", "-e",
                                                                  "inject=rename,renameat2:delay_enter=30000"))
                   for arguments in ((HOST,), ("--remove", HOST)) * 5]
    finally:
        stop.set()
        thread.join(timeout=10)
    failures = [result.stderr.decode() for result in results if result.returncode != 0]
    assert all("another program rewrote it" in failure for failure in failures), failures
    assert len(failures) < len(results)
    final = json.loads(path.read_text())
    assert written and [name for name in written if name not in final["auths"]] == []


def test_a_compact_file_stays_compact_and_readable(helper):
    directory = helper.home / ".docker"
    directory.mkdir()
    path = directory / "config.json"
    # 940 KB on one line, as some provisioning tools write it: indenting it would pass 1 MiB.
    auths = {f"registry-{n:06d}.example": {"auth": "dXNlcjpwYXNzd29yZA=="} for n in range(17_000)}
    path.write_text(json.dumps({"auths": auths}, separators=(",", ":")))
    assert 900_000 < path.stat().st_size < 1_000_000
    added = helper.run("configure", HOST)
    assert added.returncode == 0, added.stderr.decode()
    text = path.read_text()
    assert text.count("\n") == 1 and len(text) < 1 << 20
    assert json.loads(text)["credHelpers"] == {HOST: "ecr"}
    doctor = helper.run("doctor", "--json", HOST)
    [check] = [c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "docker-config"]
    assert check["status"] == "ok", check
    removed = helper.run("configure", "--remove", HOST)
    assert removed.returncode == 0, removed.stderr.decode()
    assert "credHelpers" not in json.loads(path.read_text()) and path.read_text().count("\n") == 1


def test_a_change_that_would_pass_the_size_limit_is_refused_and_changes_nothing(helper):
    directory = helper.home / ".docker"
    directory.mkdir()
    path = directory / "config.json"
    filler = "x" * ((1 << 20) - 40)
    original = json.dumps({"f": filler}, separators=(",", ":"))
    path.write_text(original)
    result = helper.run("configure", HOST)
    assert result.returncode == 1
    assert "more than the 1048576 this tool reads back; not changing it" in result.stderr.decode()
    assert path.read_text() == original and not (directory / "config.json.bak").exists()


def test_doctor_does_not_claim_docker_cannot_read_a_large_file(helper):
    directory = helper.home / ".docker"
    directory.mkdir()
    (directory / "config.json").write_text(json.dumps({"f": "x" * (1 << 20)}))
    doctor = helper.run("doctor", "--json", HOST)
    [check] = [c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "docker-config"]
    assert check["status"] == "problem" and "larger than" in check["summary"]
    assert "docker cannot read it either" not in check["hint"]


def test_doctor_says_docker_reads_a_file_that_is_not_utf8_with_replacements(helper):
    directory = helper.home / ".docker"
    directory.mkdir()
    (directory / "config.json").write_bytes(b'{"x": "caf\xe9"}\n')
    doctor = helper.run("doctor", "--json", HOST)
    [check] = [c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "docker-config"]
    assert check["status"] == "problem" and "the byte 0xE9 is not UTF-8" in check["summary"]
    assert check["hint"] == "fix the file by hand; docker reads it with U+FFFD in place of what is wrong"


@pytest.fixture
def user_case(other_user, third_user):
    """A fresh directory in each of two users' homes: (attacker's, victim's); removed afterwards."""
    cases = []
    for user in (other_user, third_user):
        directory = user.home / f"case-{uuid.uuid4().hex[:12]}"
        directory.mkdir()
        os.chown(directory, user.uid, user.gid)
        os.chmod(directory, 0o700)
        cases.append(directory)
    yield cases
    for directory in cases:
        subprocess.run(["rm", "-rf", str(directory)], check=True)


def owned_by(user, *paths):
    for path in paths:
        os.lchown(path, user.uid, user.gid)


def test_a_users_link_into_another_users_directory_does_not_make_root_act_as_that_user(helper, other_user, third_user, user_case):
    """The attacker's ~/.config is a link to the victim's: root run on the attacker's podman file
    must work with the attacker's rights, which cannot reach the victim's file."""
    attacker, victim = user_case
    containers = victim / ".config/containers"
    containers.mkdir(parents=True)
    secret = '{"auths": {"quay.io": {"auth": "c2VjcmV0"}}, "victim-note": "only-the-victim-reads-this"}\n'
    (containers / "auth.json").write_text(secret)
    owned_by(third_user, victim / ".config", containers, containers / "auth.json")
    os.chmod(victim / ".config", 0o700)
    os.chmod(containers, 0o700)
    os.chmod(containers / "auth.json", 0o600)
    os.symlink(victim / ".config", attacker / ".config")
    owned_by(other_user, attacker / ".config")
    # The attacker's home, as many are, open for others to pass through.
    home_mode = other_user.home.stat().st_mode & 0o7777
    os.chmod(other_user.home, 0o755)
    os.chmod(attacker, 0o755)
    environment = {"REGISTRY_AUTH_FILE": str(attacker / ".config/containers/auth.json")}
    try:
        for arguments in (("--podman", "--dry-run", HOST), ("--podman", HOST), ("--podman", "--remove")):
            result = subprocess.run([str(helper.binary), "configure", *arguments], env=helper.environment(**environment),
                                    capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
            assert result.returncode == 1, result
            assert b"only-the-victim-reads-this" not in result.stdout + result.stderr
            assert b"Permission denied" in result.stderr
    finally:
        os.chmod(other_user.home, home_mode)
    assert (containers / "auth.json").read_text() == secret
    assert not (containers / "auth.json.bak").exists()


def test_a_users_link_behind_a_link_of_roots_does_not_make_root_edit_its_own_files(helper, other_user, user_case, root_directory):
    """Root's layout links to the user's directory, and the user's link there leads back into a
    directory of root's: root must still act as the user, who cannot reach it."""
    attacker, _ = user_case
    private = root_directory / "root-docker"
    private.mkdir()
    os.chmod(private, 0o700)
    secret = '{"auths": {"x": {"auth": "cm9vdDpwdw=="}}, "root-note": "only-root-reads-this"}\n'
    (private / "config.json").write_text(secret)
    os.chmod(private / "config.json", 0o600)
    os.symlink(private, attacker / ".dock2")
    owned_by(other_user, attacker / ".dock2")
    os.symlink(attacker / ".dock2", root_directory / "user-docker")  # a link of root's
    for arguments in (("--dry-run", HOST), (HOST,), ("--remove",)):
        result = configure_as_root(helper, root_directory / "user-docker", *arguments)
        assert result.returncode == 1, result
        assert b"only-root-reads-this" not in result.stdout + result.stderr
    assert (private / "config.json").read_text() == secret
    assert not (private / "config.json.bak").exists()


@pytest.mark.parametrize("mode,existing", [(0o1777, False), (0o777, True), (0o775, True)])
def test_root_does_not_follow_a_path_others_may_change(helper, root_directory, other_user, mode, existing):
    """A path through a directory of root's that others may write to (`/tmp`): what is missing
    there anyone could create as a link to a file of root's, and without the sticky bit anyone
    could replace what is there. Root refuses such a path rather than race them."""
    shared = root_directory / "shared"
    shared.mkdir()
    os.chmod(shared, mode)
    if mode == 0o775:
        os.chown(shared, 0, other_user.gid)
    docker = shared / "cfg"
    if existing:
        docker.mkdir()
        os.chmod(docker, 0o700)
    result = configure_as_root(helper, docker, HOST)
    assert result.returncode == 1, result
    assert b"is writable by users other than root, who could put a link there meanwhile" in result.stderr
    assert not (docker / "config.json").exists()


def test_root_still_uses_its_own_directories_in_tmp(helper, root_directory):
    """An existing directory of root's in a sticky /tmp-like directory is root's alone."""
    os.chmod(root_directory, 0o1777)
    docker = root_directory / "cfg"
    docker.mkdir()
    os.chmod(docker, 0o700)
    result = configure_as_root(helper, docker, HOST)
    assert result.returncode == 0, result.stderr.decode()
    assert HOST in json.loads((docker / "config.json").read_text())["credHelpers"]
