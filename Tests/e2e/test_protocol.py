"""The docker credential helper protocol, exactly: actions, texts, exit codes, streams."""
import json
import re
from pathlib import Path

import pytest

import kernel_keys
from conftest import HOST, NOT_FOUND, secret_tool


def test_version(helper):
    for arguments in (["version"], ["--version"], ["-v"]):
        result = helper.run(*arguments)
        assert result.returncode == 0, arguments
        # One line: the version and the commit it was built from (test_release.py checks which).
        assert re.fullmatch(r"docker-credential-ecr \d+\.\d+\.\d+ \(([0-9a-f]{7,40}(-dirty)?|commit unknown)\)\n",
                            result.stdout.decode()), (arguments, result.stdout)


def test_help_lists_the_actions(helper):
    result = helper.run("--help")
    assert result.returncode == 0
    # Each action on a line of its own, as the first word of that line.
    listed = {line.split()[0] for line in result.stdout.decode().splitlines() if line.strip()}
    for action in ("get", "store", "erase", "list", "version"):
        assert action in listed, result.stdout.decode()


@pytest.mark.parametrize("arguments", [[], ["bogus"], ["get", "extra"], ["store", "x", "y"]])
def test_wrong_arguments_print_usage_on_stdout_and_exit_1(helper, arguments):
    result = helper.run(*arguments)
    assert result.returncode == 1
    out = result.stdout.decode()
    assert out.endswith("Usage: docker-credential-ecr <get|store|erase|list|version>\n")
    assert out.count("\n") == 1  # one line, as docker-credential-helpers print
    if arguments == []:
        assert out == "Usage: docker-credential-ecr <get|store|erase|list|version>\n"
    if arguments == ["bogus"]:
        assert out.startswith('docker-credential-ecr: unknown action "bogus". ')


@pytest.mark.parametrize("stdin", ["", "   ", "\n"])
def test_empty_input(helper, stdin):
    for action in ("get", "erase"):
        result = helper.run(action, stdin=stdin)
        assert (result.returncode, result.stdout.decode()) == (1, "no credentials server URL\n")


@pytest.mark.parametrize("server", ["docker.io", "https://index.docker.io/v1/", "ghcr.io", "localhost:5000",
                                    f"{HOST}.evil.example", "garbage \x00\x01 input", "ftp://x", "a" * 5000])
def test_not_ecr_is_not_found_quietly(helper, server):
    document, out, err, status = helper.get(server)
    assert (status, out, err) == (1, NOT_FOUND + "\n", "")


def test_no_credentials_is_not_found_with_the_cause_on_stderr(helper):
    document, out, err, status = helper.get(HOST)
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert err.startswith(f"docker-credential-ecr: {HOST}: no AWS credentials")
    assert err.count("\n") == 1


def test_list_is_an_empty_object_and_ignores_stdin(helper):
    result = helper.run("list", stdin="unused")
    assert (result.returncode, result.stdout.decode()) == (0, "{}\n")


def test_oversized_input_is_refused(helper):
    result = helper.run("store", stdin="x" * (2 << 20))
    assert result.returncode == 1
    assert "standard input" in result.stdout.decode()


def test_store_get_erase_for_any_registry(helper):
    login = {"ServerURL": "https://registry.example:8443", "Username": "me", "Secret": "pw\"with\\quotes"}
    assert helper.run("store", stdin=json.dumps(login) + "\n").returncode == 0
    document, out, err, status = helper.get("registry.example:8443")
    assert document == {"ServerURL": "registry.example:8443", "Username": "me", "Secret": login["Secret"]}
    assert json.loads(helper.run("list").stdout) == {"https://registry.example:8443": "me"}
    assert helper.run("erase", stdin="https://registry.example:8443/").returncode == 0
    assert helper.get("registry.example:8443")[3] == 1
    assert helper.run("erase", stdin="registry.example:8443").returncode == 0


def test_ignore_creds_storage_makes_store_and_erase_no_ops(helper):
    login = json.dumps({"ServerURL": "registry.example", "Username": "me", "Secret": "pw"})
    assert helper.run("store", stdin=login, AWS_ECR_IGNORE_CREDS_STORAGE="true").returncode == 0
    assert helper.run("list").stdout == b"{}\n"


def test_unknown_cache_backend_is_a_clear_error(helper):
    result = helper.run("get", stdin=HOST, DOCKER_CREDENTIAL_ECR_CACHE="disk")
    assert result.returncode == 1
    assert result.stdout.decode() == "DOCKER_CREDENTIAL_ECR_CACHE=disk is not one of auto, keyring, file, none\n"


# --- store keeps registry logins only ------------------------------------------------------------

RULE = "a registry host is labels of letters, digits and '-' joined by single dots, or an IPv6 address in brackets"
NO_SECRET = 'no credentials secret (store needs a non-empty "Secret": the password or identity token)'
GOOD = {"ServerURL": "https://registry.example", "Username": "me", "Secret": "kept"}

# (what the client sends, what store answers on stdout): each was kept before.
REFUSED = [
    ({"ServerURL": "../x", "Username": "u", "Secret": "s"},
     f'invalid registry address "../x": the host ".." has an empty label; {RULE}'),
    ({"ServerURL": "https://reg_istry.example/v2/", "Username": "u", "Secret": "s"},
     f'invalid registry address "https://reg_istry.example/v2/": the host "reg_istry.example" has \'_\'; {RULE}'),
    ({"ServerURL": "-registry.example:5000", "Username": "u", "Secret": "s"},
     f'invalid registry address "-registry.example:5000": the host label "-registry" starts with \'-\'; {RULE}'),
    ({"ServerURL": "registry.example.", "Username": "u", "Secret": "s"},
     f'invalid registry address "registry.example.": the host "registry.example." has an empty label; {RULE}'),
    ({"ServerURL": "::1", "Username": "u", "Secret": "s"},
     f'invalid registry address "::1": the host ":" has \':\' (an IPv6 address goes in brackets, such as [::1]:5000); {RULE}'),
    ({"ServerURL": "[g::1]:5000", "Username": "u", "Secret": "s"},
     'invalid registry address "[g::1]:5000": "[g::1]" is not an IPv6 address (up to eight groups of hex digits joined by \':\', '
     "one '::' at most)"),
    ({"ServerURL": GOOD["ServerURL"], "Username": "me"}, NO_SECRET),
    ({"ServerURL": GOOD["ServerURL"], "Username": "me", "Secret": ""}, NO_SECRET),
    ({"ServerURL": GOOD["ServerURL"], "Username": "me", "Secret": None}, NO_SECRET),
    *(({"ServerURL": url, "Username": "me", "Secret": "s"},
        f"the ServerURL carries {part}; store takes the user name and secret as Username and Secret, and the registry as "
        "registry.example")
      for url, part in (("https://me:hunter2@registry.example/v2/", "user information (user@ or user:password@)"),
                        ("https://registry.example/v2/?password=hunter2", "a query (?...)"),
                        ("https://registry.example/#:hunter2", "a fragment (#...)"),
                        ("https://registry.example\\me:hunter2@x", "a backslash"))),
    ({"ServerURL": "registry." + "a" * 64 + ".example", "Username": "u", "Secret": "s"},
     f'invalid registry address "registry.{"a" * 64}.example": the host label "{"a" * 20}..." is longer than 63 characters; '
     f"{RULE}"),
]
REFUSED_IDS = ["dot-dot", "underscore", "leading-dash", "trailing-dot", "bare-ipv6", "bad-ipv6", "no-secret", "empty-secret",
               "null-secret", "userinfo", "query", "fragment", "backslash", "long-label"]


def tree(home: Path) -> dict:
    """Every file and directory under `home` (but the helper's bin/): mode, size, mtime, bytes."""
    found = {}
    for path in sorted(home.rglob("*")):
        if path.relative_to(home).parts[0] == "bin":
            continue
        info = path.lstat()
        found[str(path.relative_to(home))] = (info.st_mode, info.st_size, info.st_mtime_ns,
                                             path.read_bytes() if path.is_file() and not path.is_symlink() else None)
    return found


def refused_store(helper, request, message, **extra):
    result = helper.run("store", stdin=json.dumps(request) + "\n", **extra)
    assert (result.returncode, result.stdout.decode(), result.stderr.decode()) == (1, message + "\n", "")


def after_refusal_nothing_changed(helper, request):
    """The login stored before still answers; get and erase take the refused server as they take
    any input that is no registry (not found; success)."""
    document = helper.get("registry.example")[0]
    assert document == {"ServerURL": "registry.example", "Username": "me", "Secret": "kept"}
    assert json.loads(helper.run("list").stdout) == {GOOD["ServerURL"]: "me"}
    # (A URL with user information names a registry: get and erase take it as registry.example.)
    if request["ServerURL"] != GOOD["ServerURL"] and not any(part in request["ServerURL"] for part in "@?#\\"):
        assert helper.get(request["ServerURL"])[1:] == (NOT_FOUND + "\n", "", 1)
        assert helper.run("erase", stdin=request["ServerURL"]).returncode == 0
        assert helper.get("registry.example")[0] == document


def test_list_shows_a_login_kept_by_an_earlier_version_without_the_secrets_in_its_url(helper):
    """Earlier versions kept a ServerURL with user information, a query or a fragment as sent:
    list shows it without them, and the login still answers for its registry."""
    assert helper.run("store", stdin=json.dumps(GOOD)).returncode == 0
    [login] = list(helper.home.glob(".local/share/docker-credential-ecr/*@login-any.json"))
    record = json.loads(login.read_text())
    record["serverURL"] = "https://me:hunter2@registry.example/v2/?token=hunter3#hunter4"
    login.write_text(json.dumps(record, sort_keys=True, separators=(",", ":")))
    listed = helper.run("list")
    assert listed.returncode == 0, listed.stderr.decode()
    assert json.loads(listed.stdout) == {"https://registry.example/v2/": "me"}
    assert b"hunter" not in listed.stdout + listed.stderr
    assert helper.get("registry.example")[0] == {"ServerURL": "registry.example", "Username": "me", "Secret": "kept"}


def test_a_login_whose_secret_was_emptied_on_disk_is_not_served(helper):
    """`store` refuses an empty Secret, so a login file that holds one was changed by hand: get and
    list treat it as absent (docker then asks the user), as they treat a corrupt file; erase
    removes it."""
    assert helper.run("store", stdin=json.dumps(GOOD)).returncode == 0
    [login] = list(helper.home.glob(".local/share/docker-credential-ecr/*@login-any.json"))
    record = json.loads(login.read_text())
    record["secret"] = ""
    login.write_text(json.dumps(record, sort_keys=True, separators=(",", ":")))
    assert helper.get("registry.example")[1:] == (NOT_FOUND + "\n", "", 1)
    listed = helper.run("list")
    assert listed.returncode == 0 and json.loads(listed.stdout) == {}, listed
    assert helper.run("erase", stdin="registry.example").returncode == 0 and not login.exists()


@pytest.mark.parametrize("request_, message", REFUSED, ids=REFUSED_IDS)
def test_store_refuses_what_is_no_registry_login_and_keeps_nothing(helper, request_, message):
    assert helper.run("store", stdin=json.dumps(GOOD)).returncode == 0
    before = tree(helper.home)
    assert any(name.endswith("@login-any.json") for name in before), before  # the login file of GOOD
    refused_store(helper, request_, message)
    assert tree(helper.home) == before
    after_refusal_nothing_changed(helper, request_)


@pytest.mark.parametrize("request_, message", REFUSED, ids=REFUSED_IDS)
def test_a_refused_store_leaves_the_keyring_and_the_kernel_keyring_untouched(helper, keyring, request_, message):
    assert helper.run("store", stdin=json.dumps(GOOD)).returncode == 0
    scope = kernel_keys.scope(keyring.address)
    items = secret_tool(keyring, "search", "--all", "xdg:schema", "io.github.docker_credential_ecr.Credential")
    kernel = kernel_keys.entries(scope)
    assert "secret = kept" in items and "login:-:registry.example" in kernel, (items, kernel)
    before = tree(helper.home)
    refused_store(helper, request_, message)
    assert secret_tool(keyring, "search", "--all", "xdg:schema", "io.github.docker_credential_ecr.Credential") == items
    assert kernel_keys.entries(scope) == kernel
    assert tree(helper.home) == before
    after_refusal_nothing_changed(helper, request_)



STORE_USAGE = 'store expects JSON {"ServerURL":...,"Username":...,"Secret":...} on stdin'


@pytest.mark.parametrize("text", [
    '{"ServerURL":"https://registry.example","Username":"u","Secret":"s",}',
    '{"ServerURL":"https://registry.example","Username":"u","Secret":"s","Extra":[1,]}',
    '{"ServerURL":"https://registry.example","Username":"u","Secret":"s","Extra":01}',
    '{"ServerURL":"https://registry.example","Username":"u","Secret":"s","Secret":"t"}',
], ids=["trailing-comma", "trailing-comma-inside", "leading-zero", "key-twice"])
def test_store_refuses_text_that_is_not_json_and_keeps_nothing(helper, text):
    """Foundation's decoder took a comma before } and did not look at a number it was not asked
    for; the helper reads JSON as RFC 8259 has it, as Go and Python do."""
    assert helper.run("store", stdin=json.dumps(GOOD)).returncode == 0
    before = tree(helper.home)
    result = helper.run("store", stdin=text + "\n")
    assert (result.returncode, result.stdout.decode(), result.stderr.decode()) == (1, STORE_USAGE + "\n", "")
    assert tree(helper.home) == before
    assert helper.get("registry.example")[0] == {"ServerURL": "registry.example", "Username": "me", "Secret": "kept"}


def test_store_reads_keys_that_differ_only_in_unicode_normalisation_as_two_keys(helper):
    """"caf\u00e9" and "cafe\u0301" are two keys to Go and Python; Swift's == calls them equal, and
    the keys were once compared that way and the login refused as a key twice."""
    text = ('{"ServerURL":"https://registry.example","Username":"u","Secret":"s",'
            '"caf\\u00e9":1,"cafe\\u0301":2}')
    result = helper.run("store", stdin=text)
    assert result.returncode == 0, result.stdout + result.stderr
    assert helper.get("registry.example")[0] == {"ServerURL": "registry.example", "Username": "u", "Secret": "s"}


def test_store_takes_a_byte_order_mark_and_white_space_around_the_json(helper):
    text = "\ufeff \n\t" + json.dumps({"ServerURL": "https://registry.example", "Username": "u", "Secret": "s"}) + " \r\n"
    result = helper.run("store", stdin=text)
    assert result.returncode == 0, result.stdout + result.stderr
    assert helper.get("registry.example")[0] == {"ServerURL": "registry.example", "Username": "u", "Secret": "s"}
