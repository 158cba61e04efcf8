"""The docker credential helper protocol, exactly: actions, texts, exit codes, streams."""
import json
import re

import pytest

from conftest import HOST, NOT_FOUND


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
