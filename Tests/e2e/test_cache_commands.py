"""`docker-credential-ecr login` warms the token cache; `logout` clears it (not stored logins unless asked)."""
import json
import re

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
