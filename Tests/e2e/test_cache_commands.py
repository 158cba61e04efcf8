"""`docker-credential-ecr login` warms the token cache; `logout` clears it (not stored logins unless asked)."""
import json
import re
import subprocess
import sys
import time

from conftest import HOST, NOT_FOUND

OTHER = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
LOGIN = {"ServerURL": "registry.example", "Username": "me", "Secret": "pw"}


def test_login_fetches_then_get_is_a_cache_hit(helper, emulator):
    result = helper.run("login", HOST, f"https://{OTHER}/v2/", **emulator.env())
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 2
    for line, host in zip(lines, (HOST, OTHER)):
        assert re.fullmatch(rf"{re.escape(host)}: token valid until \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(fetched\)", line), line
    assert len(emulator.token_requests()) == 2
    document, _, _, status = helper.get(HOST, **emulator.env())
    assert status == 0 and len(emulator.token_requests()) == 2  # served from what login cached
    again = helper.run("login", HOST, **emulator.env())
    assert again.stdout.decode().endswith("(cached)\n")


def test_login_reports_each_failure_and_exits_1(helper, emulator):
    result = helper.run("login", HOST, **emulator.env(AWS_ACCESS_KEY_ID="AKIADENIED", AWS_SECRET_ACCESS_KEY="denied-secret"))
    assert result.returncode == 1
    out = result.stdout.decode()
    assert out.startswith(f"{HOST}: no token: ECR GetAuthorizationToken failed: AccessDeniedException")
    assert "AmazonEC2ContainerRegistryPullOnly" in out


def test_login_reports_what_is_not_ecr_on_its_line_and_fetches_the_rest(helper, emulator):
    result = helper.run("login", HOST, "docker.io", **emulator.env())
    assert result.returncode == 1
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith(f"{HOST}: token valid until ")
    assert lines[1] == 'docker.io: no token: "docker.io" is not an ECR registry host'
    assert len(emulator.token_requests()) == 1


def test_logout_clears_tokens_but_keeps_stored_logins(helper, emulator):
    helper.get(HOST, **emulator.env())
    helper.get(OTHER, **emulator.env())
    assert helper.run("store", stdin=json.dumps(LOGIN)).returncode == 0
    result = helper.run("logout", HOST)
    assert (result.returncode, result.stdout.decode()) == (0, "removed 1 cached entry\n")
    assert set(json.loads(helper.run("list").stdout)) == {OTHER, "registry.example"}
    assert helper.run("logout", "--all").stdout.decode() == "removed 1 cached entry\n"
    assert json.loads(helper.run("list").stdout) == {"registry.example": "me"}
    assert helper.run("logout", "--all", "--logins").stdout.decode() == "removed 1 cached entry\n"
    assert json.loads(helper.run("list").stdout) == {}
    # The next get fetches again.
    helper.get(HOST, **emulator.env())
    assert len(emulator.token_requests()) == 3


def test_logout_needs_registries_or_all(helper):
    result = helper.run("logout")
    assert result.returncode != 0 and "name the registries, or use --all" in result.stderr.decode()


# --- a removal waits for a fetch still running ---------------------------------------------------

FETCH_SECONDS = 2.0


def start(helper, *arguments, stdin="", **extra):
    """The binary running in the background, its stdin written and closed."""
    process = subprocess.Popen([str(helper.binary), *arguments], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=helper.environment(**extra))
    process.stdin.write(stdin.encode())
    process.stdin.close()
    return process


def fetch_in_flight(helper, emulator, server=HOST):
    """A `get` of `server` whose GetAuthorizationToken call ECR takes FETCH_SECONDS to answer,
    returned once that call has arrived (the get holds its fetch lock by then), with the time
    it arrived."""
    emulator.settings(delay=FETCH_SECONDS)
    get = start(helper, "get", stdin=server, **emulator.env())
    deadline = time.monotonic() + 10
    while not emulator.arrivals():
        assert time.monotonic() < deadline and get.poll() is None, get.stderr.read().decode()
        time.sleep(0.01)
    return get, emulator.arrivals()[0]


def cached_tokens(helper):
    return sorted(path.name for path in helper.cache_dir.glob("*@token-*.json"))


def test_logout_waits_for_a_get_still_fetching_and_removes_its_token(helper, emulator, timing):
    get, arrived = fetch_in_flight(helper, emulator)
    started = time.monotonic()
    logout = helper.run("logout", "--all")
    finished = time.time()
    took = time.monotonic() - started
    out, err = get.stdout.read(), get.stderr.read()
    assert get.wait(timeout=30) == 0, err.decode()
    assert json.loads(out)["Username"] == "AWS"
    # logout waited for the fetch (ECR answered FETCH_SECONDS after the call arrived), then removed its token.
    assert (logout.returncode, logout.stdout.decode(), logout.stderr.decode()) == (0, "removed 1 cached entry\n", "")
    assert finished - arrived >= FETCH_SECONDS
    assert took < timing.limit(wait=FETCH_SECONDS)
    assert cached_tokens(helper) == []
    assert json.loads(helper.run("list").stdout) == {}
    assert len(emulator.token_requests()) == 1
    # A get after the logout fetches again.
    emulator.settings(delay=0)
    assert helper.get(HOST, **emulator.env())[3] == 0
    assert len(emulator.token_requests()) == 2
    assert len(cached_tokens(helper)) == 1


def test_logout_of_a_registry_waits_only_for_that_registrys_fetches(helper, emulator, timing):
    get, _ = fetch_in_flight(helper, emulator, server=OTHER)
    started = time.monotonic()
    logout = helper.run("logout", HOST)
    assert (logout.returncode, logout.stdout.decode(), logout.stderr.decode()) == (0, "removed 0 cached entries\n", "")
    assert time.monotonic() - started < timing.limit()
    assert get.poll() is None  # still fetching: logout did not wait for it
    assert get.wait(timeout=30) == 0
    assert set(json.loads(helper.run("list").stdout)) == {OTHER}


def test_erase_waits_for_a_get_still_fetching_and_removes_its_token(helper, emulator, timing):
    get, arrived = fetch_in_flight(helper, emulator)
    started = time.monotonic()
    erase = helper.run("erase", stdin=HOST)
    finished = time.time()
    took = time.monotonic() - started
    assert get.wait(timeout=30) == 0, get.stderr.read().decode()
    assert (erase.returncode, erase.stdout.decode(), erase.stderr.decode()) == (0, "", "")
    assert finished - arrived >= FETCH_SECONDS
    assert took < timing.limit(wait=FETCH_SECONDS)
    assert cached_tokens(helper) == []
    assert json.loads(helper.run("list").stdout) == {}
    emulator.settings(delay=0)
    assert helper.get(HOST, **emulator.env())[3] == 0
    assert len(emulator.token_requests()) == 2


def test_logout_never_takes_a_lock_through_a_symbolic_link(helper, emulator, timing, tmp_path):
    """A link under a lock file's name, to a file someone holds locked: logout neither follows it
    nor waits for it, and says so."""
    assert helper.get(HOST, **emulator.env())[3] == 0
    [lock] = list((helper.cache_dir / "locks").glob(f"{HOST}@*.lock"))
    target = tmp_path / "held.lock"
    target.touch()
    link = lock.with_name(f"{OTHER}@{'0' * 32}.lock")
    link.symlink_to(target)
    code = "import fcntl, sys, time; f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        logout = helper.run("logout", "--all")
        assert time.monotonic() - started < timing.limit()
        assert (logout.returncode, logout.stdout.decode()) == (0, "removed 1 cached entry\n")
        assert logout.stderr.decode() == (f"docker-credential-ecr: ignoring the lock file {link}: refusing {link}: "
                                          "it is a symbolic link, not a lock file of this tool\n")
        assert link.is_symlink() and target.read_bytes() == b""
    finally:
        holder.kill()
        holder.wait()


def test_logout_and_erase_pass_thousands_of_lock_files_one_open_file_at_a_time(helper, emulator):
    """Every identity that ever fetched leaves a lock file (a rotated AWS_SESSION_TOKEN is a new
    identity). logout and erase take them one at a time and let each free one go: with 1,100 of
    them and 256 open files allowed, both still remove the token."""
    assert helper.get(HOST, **emulator.env())[3] == 0
    for index in range(1100):
        (helper.cache_dir / "locks" / f"{HOST}@{index:032x}.lock").touch(mode=0o600)
    for arguments, stdin in ((("logout", "--all"), ""), (("erase",), HOST)):
        assert helper.get(HOST, **emulator.env())[3] == 0
        assert len(cached_tokens(helper)) == 1
        removal = helper.run(*arguments, stdin=stdin, prefix=("prlimit", "--nofile=256:256"))
        assert removal.returncode == 0, removal.stderr.decode()
        assert removal.stderr.decode() == ""
        assert cached_tokens(helper) == []
