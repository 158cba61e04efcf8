"""Hostile ground on disk: FIFOs, planted records, foreign and symlinked directories, read-only
and full file systems, torn writes, colliding names, and old file names after an upgrade.

Each test states what the user sees (stdout, the stderr line, the exit status), bounds the time
against the start-up of the same binary measured in the same test, and checks what is on disk.
"""
import base64
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import HOST, NOT_FOUND

OTHER_UID = 4242
LOGIN = {"ServerURL": "https://registry.example", "Username": "me", "Secret": "s3cret"}


def startup(helper) -> float:
    """The time the binary takes to start and answer `version`: the baseline of time bounds."""
    started = time.monotonic()
    assert helper.run("version").returncode == 0
    return time.monotonic() - started


def timed(function, *arguments, **keywords):
    started = time.monotonic()
    result = function(*arguments, **keywords)
    return result, time.monotonic() - started


def login_dir(helper) -> Path:
    return helper.home / ".local/share/docker-credential-ecr"


def files(directory: Path):
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def require_root():
    if os.geteuid() != 0:
        pytest.fail("this test plants files owned by another user and mounts file systems: run it as root (CI does)")


# --- FIFOs -------------------------------------------------------------------------------------

def fifo_at(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


@pytest.mark.parametrize("where, expected_status", [
    ("aws config", 1), ("aws credentials", 1), ("tool config", 1), ("web identity token", 1), ("login file", 0),
    ("token file", 0),
])
def test_a_fifo_anywhere_never_hangs_get(helper, emulator, where, expected_status):
    env = emulator.env()
    if where == "aws config":
        fifo_at(helper.home / ".aws/config")
        env = emulator.credential_env()
    elif where == "aws credentials":
        fifo_at(helper.home / ".aws/credentials")
        env = emulator.credential_env()
    elif where == "tool config":
        fifo_at(helper.home / ".config/docker-credential-ecr/config")
    elif where == "web identity token":
        fifo_at(helper.home / "token")
        env = emulator.credential_env(AWS_WEB_IDENTITY_TOKEN_FILE=str(helper.home / "token"),
                                      AWS_ROLE_ARN="arn:aws:iam::123456789012:role/r")
    elif where == "login file":
        assert helper.run("store", stdin=json.dumps({**LOGIN, "ServerURL": HOST})).returncode == 0
        [name] = files(login_dir(helper))
        (login_dir(helper) / name).unlink()
        os.mkfifo(login_dir(helper) / name)
    elif where == "token file":
        assert helper.get(HOST, **env)[3] == 0
        [name] = [n for n in files(helper.cache_dir) if n.endswith(".json")]
        (helper.cache_dir / name).unlink()
        os.mkfifo(helper.cache_dir / name)
    base = startup(helper)
    (document, out, err, status), elapsed = timed(helper.get, HOST, timeout=20, **env)
    assert status == expected_status, out + err
    if status:
        assert out == NOT_FOUND + "\n"
        assert "it is a FIFO, not a regular file" in err, err
    else:
        assert document["Username"] == "AWS"
    assert elapsed < base + 2  # before: blocked forever in open(2)


def test_a_fifo_as_sso_cache_never_hangs(helper, emulator):
    helper.write_aws_file("config", "[default]\nsso_session = s\nsso_account_id = 123456789012\nsso_role_name = R\n"
                          "[sso-session s]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n")
    import hashlib
    fifo_at(helper.home / ".aws/sso/cache" / (hashlib.sha1(b"s").hexdigest() + ".json"))
    base = startup(helper)
    (document, out, err, status), elapsed = timed(helper.get, HOST, timeout=20, **emulator.credential_env())
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert 'SSO profile "default"' in err and "it is a FIFO, not a regular file" in err
    assert elapsed < base + 2


# --- planted records and foreign directories ---------------------------------------------------

def plant_login(directory: Path, registry="registry.example", secret="planted"):
    directory.mkdir(parents=True, exist_ok=True)
    record = {"version": 1, "kind": "login", "registry": registry, "serverURL": registry, "identity": "",
              "username": "attacker", "secret": secret, "issuedAt": time.time()}
    path = directory / f"{registry}@login-any.json"
    path.write_text(json.dumps(record))
    path.chmod(0o600)
    return path


def test_a_login_planted_by_another_user_is_not_served(helper):
    require_root()
    path = plant_login(login_dir(helper))
    os.chown(path, OTHER_UID, OTHER_UID)
    document, out, err, status = helper.get("registry.example")
    assert (status, out) == (1, NOT_FOUND + "\n")  # before: {"Username":"attacker","Secret":"planted"}
    assert "planted" not in out


def test_a_directory_owned_by_another_user_is_refused_with_the_reason(helper):
    require_root()
    directory = login_dir(helper)
    plant_login(directory)
    directory.chmod(0o777)
    os.chown(directory, OTHER_UID, OTHER_UID)
    document, out, err, status = helper.get("registry.example")
    assert (status, out) == (1, NOT_FOUND + "\n")
    result = helper.run("store", stdin=json.dumps(LOGIN))
    assert result.returncode == 1
    assert f"refusing {directory}: the directory is owned by uid {OTHER_UID} and writable by others, not by you (uid 0)" \
        in result.stdout.decode()
    assert json.loads((directory / "registry.example@login-any.json").read_text())["secret"] == "planted"  # untouched


def test_a_symlinked_login_file_is_not_followed(helper, tmp_path):
    elsewhere = plant_login(tmp_path / "elsewhere")
    directory = login_dir(helper)
    directory.mkdir(parents=True)
    link = directory / "registry.example@login-any.json"
    # The same record as a file of its own at that path is served: the path is the one read...
    link.write_bytes(elsewhere.read_bytes())
    link.chmod(0o600)
    document, out, err, status = helper.get("registry.example")
    assert status == 0 and document["Secret"] == "planted", out + err
    # ...and as a link to it, it is refused, with the reason, not found as if absent.
    link.unlink()
    link.symlink_to(elsewhere)
    document, out, err, status = helper.get("registry.example")
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert f"refusing {link}: it is a symbolic link" in err, err
    assert link.is_symlink() and elsewhere.read_bytes()  # both left as they were


def test_a_symlinked_cache_directory_of_the_user_works_and_is_narrowed(helper, emulator, tmp_path):
    target = tmp_path / "real-cache"
    target.mkdir(mode=0o755)
    helper.cache_dir.parent.mkdir(parents=True)
    helper.cache_dir.symlink_to(target)
    document, out, err, status = helper.get(HOST, **emulator.env())
    assert status == 0 and err == "", out + err
    assert len([n for n in files(target) if n.endswith(".json")]) == 1
    assert target.stat().st_mode & 0o777 == 0o700


def test_a_symlinked_cache_directory_of_another_user_is_refused(helper, emulator, tmp_path):
    require_root()
    target = tmp_path / "their-cache"
    target.mkdir(mode=0o777)
    os.chown(target, OTHER_UID, OTHER_UID)
    helper.cache_dir.parent.mkdir(parents=True)
    helper.cache_dir.symlink_to(target)
    document, out, err, status = helper.get(HOST, **emulator.env())
    assert status == 0, out + err  # the token is served, just not cached there
    assert f"refusing {helper.cache_dir}: the directory is owned by uid {OTHER_UID}" in err
    assert files(target) == []


# --- read-only, full, torn ---------------------------------------------------------------------

@pytest.fixture
def small_mount(tmp_path):
    """A 64 KiB tmpfs (needs root, as CI has)."""
    require_root()
    mounts = []

    def mount(path: Path, options="size=64k"):
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=True, timeout=10)
        mounts.append(path)
        return path

    yield mount
    for path in reversed(mounts):
        subprocess.run(["umount", "-l", str(path)], timeout=10)


def test_a_read_only_cache_directory(helper, emulator, small_mount):
    assert helper.get(HOST, **emulator.env())[3] == 0
    [name] = [n for n in files(helper.cache_dir) if n.endswith(".json")]
    saved = (helper.cache_dir / name).read_bytes()
    # Remount the cache read-only with the same content, then force a refresh.
    record = json.loads(saved)
    record["issuedAt"] = record["expiresAt"] - 3 * 86400
    small_mount(helper.cache_dir)
    (helper.cache_dir / name).write_text(json.dumps(record))
    os.chmod(helper.cache_dir, 0o700)
    subprocess.run(["mount", "-o", "remount,ro", str(helper.cache_dir)], check=True, timeout=10)
    base = startup(helper)
    (document, out, err, status), elapsed = timed(helper.get, HOST, **emulator.env())
    assert status == 0, out + err
    assert document["Secret"] != json.loads(saved)["secret"] or len(emulator.token_requests()) == 2
    assert "could not cache the token" in err and "Read-only file system" in err
    assert json.loads((helper.cache_dir / name).read_text()) == record  # nothing lost
    assert elapsed < base + 2


def test_a_full_cache_file_system_keeps_the_old_file_whole(helper, emulator, small_mount):
    small_mount(helper.cache_dir)
    assert helper.get(HOST, **emulator.env())[3] == 0
    [name] = [n for n in files(helper.cache_dir) if n.endswith(".json")]
    record = json.loads((helper.cache_dir / name).read_text())
    record["issuedAt"] = record["expiresAt"] - 3 * 86400
    (helper.cache_dir / name).write_text(json.dumps(record))
    # Fill the file system to the last byte.
    filler = os.open(helper.cache_dir / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(filler, b"\0" * 512)
    except OSError:
        pass
    finally:
        os.close(filler)
    base = startup(helper)
    (document, out, err, status), elapsed = timed(helper.get, HOST, **emulator.env())
    assert status == 0, out + err
    assert "could not cache the token" in err and "No space left on device" in err
    assert json.loads((helper.cache_dir / name).read_text()) == record  # the old file, whole
    assert not [n for n in files(helper.cache_dir) if n.endswith(".tmp")]  # no debris
    assert elapsed < base + 2


@pytest.mark.parametrize("cut", [0, 1, 17, -2])
def test_a_cache_file_truncated_mid_write_is_replaced(helper, emulator, cut):
    assert helper.get(HOST, **emulator.env())[3] == 0
    [name] = [n for n in files(helper.cache_dir) if n.endswith(".json")]
    text = (helper.cache_dir / name).read_bytes()
    (helper.cache_dir / name).write_bytes(text[:cut])
    (helper.cache_dir / (name + ".123.456.tmp")).write_bytes(text[:cut])  # a writer's leftover
    document, out, err, status = helper.get(HOST, **emulator.env())
    assert status == 0 and err == "", out + err
    assert len(emulator.token_requests()) == 2
    assert json.loads((helper.cache_dir / name).read_text())["secret"] == document["Secret"]


def test_the_cache_directory_is_private_even_when_the_first_fetch_fails(helper, emulator):
    os.umask(0o022)
    emulator.fail_next(*[{"status": 400, "code": "AccessDeniedException", "message": "no"}] * 3)
    assert helper.get(HOST, **emulator.env())[3] == 1
    for directory in (helper.cache_dir, helper.cache_dir / "locks"):
        if directory.exists():
            assert directory.stat().st_mode & 0o777 == 0o700, directory


# --- names -------------------------------------------------------------------------------------

def test_colliding_registry_names_keep_separate_logins(helper):
    """`reg.example.com_5000` once shared a file name with `reg.example.com:5000`; it is no
    registry host now (no '_'), so store refuses it and get and erase never reach the other's login."""
    assert helper.run("store", stdin=json.dumps({"ServerURL": "reg.example.com:5000", "Username": "u", "Secret": "colon"})).returncode == 0
    refused = helper.run("store", stdin=json.dumps({"ServerURL": "reg.example.com_5000", "Username": "u", "Secret": "underscore"}))
    assert refused.returncode == 1 and 'the host "reg.example.com_5000" has \'_\'' in refused.stdout.decode()
    assert helper.get("reg.example.com:5000")[0]["Secret"] == "colon"
    assert helper.get("reg.example.com_5000")[3] == 1
    assert helper.run("erase", stdin="reg.example.com_5000").returncode == 0
    assert helper.get("reg.example.com:5000")[0]["Secret"] == "colon"
    assert files(login_dir(helper)) == ["reg.example.com%3A5000@login-any.json"]


def test_a_login_stored_under_the_old_file_name_survives_the_upgrade(helper):
    directory = login_dir(helper)
    directory.mkdir(parents=True, mode=0o700)
    old = directory / "reg.example.com_5000@login-any.json"
    old.write_text(json.dumps({"version": 1, "kind": "login", "registry": "reg.example.com:5000",
                               "serverURL": "reg.example.com:5000", "identity": "", "username": "u", "secret": "old",
                               "issuedAt": time.time()}))
    old.chmod(0o600)
    assert helper.get("reg.example.com:5000")[0]["Secret"] == "old"
    assert helper.get("reg.example.com_5000")[3] == 1  # the old name does not leak to the other registry
    assert json.loads(helper.run("list").stdout) == {"reg.example.com:5000": "u"}
    assert helper.run("store", stdin=json.dumps({"ServerURL": "reg.example.com:5000", "Username": "u",
                                                 "Secret": "new"})).returncode == 0
    assert files(directory) == ["reg.example.com%3A5000@login-any.json"]  # moved to the new name
    assert helper.get("reg.example.com:5000")[0]["Secret"] == "new"
    assert helper.run("erase", stdin="reg.example.com:5000").returncode == 0
    assert files(directory) == []


def test_a_stored_ecr_login_with_an_absurd_expiration(helper):
    secret = base64.b64encode(json.dumps({"expiration": 1e20, "payload": "x"}).encode()).decode()
    result = helper.run("store", stdin=json.dumps({"ServerURL": HOST, "Username": "AWS", "Secret": secret}))
    assert result.returncode == 0, result.stdout + result.stderr
    document, out, err, status = helper.get(HOST)
    assert document["Secret"] == secret  # kept, with ECR's 12 hours assumed


# --- duplicate keys ------------------------------------------------------------------------------

def test_duplicate_keys_in_a_reply_are_refused(helper, hostile_reply):
    token = base64.b64encode(b"AWS:pw").decode()
    body = ('{"authorizationData":[{"authorizationToken":"%s","expiresAt":%d,"authorizationToken":"%s"}]}'
            % (token, time.time() + 3600, base64.b64encode(b"AWS:other").decode()))
    url = hostile_reply(body)
    document, out, err, status = helper.get(HOST, AWS_ACCESS_KEY_ID="AKIAX", AWS_SECRET_ACCESS_KEY="s",
                                            AWS_ENDPOINT_URL_ECR=url)
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert "ECR returned an unusable GetAuthorizationToken reply: not the expected JSON" in err


@pytest.fixture
def hostile_reply():
    from emulators.hostile_server import HostileServer
    servers = []

    def start(body):
        server = HostileServer(("answer", 200, "application/x-amz-json-1.1", body))
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


# --- the record file's bytes ---------------------------------------------------------------------

def foundation_json(record: dict) -> bytes:
    """A record as Foundation's JSONEncoder with sorted keys wrote it (the form of every earlier
    version): no white space, `/` escaped, control characters as \\b \\f \\n \\r \\t or \\u00xx,
    other characters as UTF-8, a whole Double without `.0`; then a newline."""
    def number(value):
        text = repr(float(value))
        return text[:-2] if text.endswith(".0") else text
    members = []
    for key in sorted(record):
        value = record[key]
        if isinstance(value, str):
            text = json.dumps(value, ensure_ascii=False).replace("/", "\\/")
        elif isinstance(value, float):
            text = number(value)
        else:
            text = json.dumps(value)
        members.append(json.dumps(key) + ":" + text)
    return ("{" + ",".join(members) + "}\n").encode()


HOSTILE_SECRET = 'pa/ss "quoted" \\ back\tslash\nnew\x01line\x7f é 😀 \u2028 </script>'


def test_a_stored_login_is_written_byte_for_byte_as_earlier_versions_wrote_it(helper):
    """Older and newer builds share the files: the new writer keeps JSONEncoder's bytes exactly."""
    login = {"ServerURL": "https://registry.example/v2/", "Username": "me/you", "Secret": HOSTILE_SECRET}
    assert helper.run("store", stdin=json.dumps(login)).returncode == 0
    [path] = list(login_dir(helper).glob("*@login-any.json"))
    written = path.read_bytes()
    record = json.loads(written)
    assert record["secret"] == HOSTILE_SECRET and record["serverURL"] == "https://registry.example/v2/"
    assert written == foundation_json(record)
    assert b"https:\\/\\/registry.example\\/v2\\/" in written
    assert helper.get("registry.example")[0]["Secret"] == HOSTILE_SECRET


def test_a_login_file_in_the_form_of_an_earlier_version_is_read(helper):
    directory = login_dir(helper)
    directory.mkdir(parents=True, mode=0o700)
    path = directory / "registry.example@login-any.json"
    record = {"version": 1, "kind": "login", "registry": "registry.example", "serverURL": "https://registry.example/",
              "identity": "", "username": "me", "secret": HOSTILE_SECRET, "issuedAt": 1795451224.6770496}
    path.write_bytes(foundation_json(record))
    path.chmod(0o600)
    assert helper.get("registry.example")[0] == {"ServerURL": "registry.example", "Username": "me", "Secret": HOSTILE_SECRET}
    assert json.loads(helper.run("list").stdout) == {"https://registry.example/": "me"}
