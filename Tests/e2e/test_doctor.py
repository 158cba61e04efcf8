"""`docker-credential-ecr doctor`: each failure a pull can meet, its hint, and the exit status."""
import json
import os

from conftest import HOST

CHECKS = ["registry", "docker-config", "credentials", "identity", "cache", "token"]


def doctor(helper, *arguments, **extra):
    result = helper.run("doctor", *arguments, "--json", **extra)
    report = json.loads(result.stdout)
    return result.returncode, report, {check["name"]: check for check in report["checks"]}


def configured(helper, **config):
    directory = helper.home / ".docker"
    directory.mkdir(exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config or {"credHelpers": {HOST: "ecr"}}))


def assert_schema(report):
    assert list(report)[:1] == ["ok"] and isinstance(report["ok"], bool)
    for check in report["checks"]:
        assert list(check)[:4] == ["name", "status", "summary", "details"]
        assert set(check) <= {"name", "status", "summary", "details", "hint"}
        assert check["status"] in ("ok", "warning", "problem") and check["name"] in CHECKS
        assert all(isinstance(line, str) for line in check["details"])


def test_a_healthy_set_up(helper, emulator):
    configured(helper)
    status, report, checks = doctor(helper, HOST, **emulator.env(AWS_ENDPOINT_URL=emulator.url))
    assert status == 0, report
    assert_schema(report)
    assert report["ok"] is True and report["registry"] == HOST
    assert [c["name"] for c in report["checks"]] == CHECKS
    assert all(c["status"] == "ok" for c in report["checks"]), report
    assert checks["credentials"]["summary"] == "environment variables"
    assert checks["identity"]["summary"] == "arn:aws:iam::123456789012:user/AKIAEMULATOR (account 123456789012)"
    assert checks["token"]["summary"].startswith(f"ECR issued a token for {HOST}, valid until ")
    # The text form says the same, for people.
    text = helper.run("doctor", HOST, **emulator.env(AWS_ENDPOINT_URL=emulator.url)).stdout.decode()
    assert text.splitlines()[0] == f"ok       registry: {HOST}"


def test_access_denied(helper, emulator):
    configured(helper)
    status, report, checks = doctor(helper, HOST, **emulator.env(AWS_ENDPOINT_URL=emulator.url, AWS_ACCESS_KEY_ID="AKIADENIED",
                                                                  AWS_SECRET_ACCESS_KEY="denied-secret"))
    assert status == 1 and report["ok"] is False
    hint = checks["token"]["hint"]
    assert "arn:aws:iam::123456789012:user/AKIADENIED needs ecr:GetAuthorizationToken" in hint
    assert "AmazonEC2ContainerRegistryPullOnly" in hint and "ecr:BatchImportUpstreamImage" in hint


def test_an_expired_sso_login(helper, emulator):
    from test_credentials import SSO_CONFIG, in_hours, sso_cache
    configured(helper)
    helper.write_aws_file("config", SSO_CONFIG)
    sso_cache(helper, "corp", startUrl="https://corp.awsapps.com/start", region="eu-west-1", accessToken="x", expiresAt=in_hours(-1))
    status, report, checks = doctor(helper, HOST, **emulator.credential_env(AWS_PROFILE="dev"))
    assert status == 1
    assert checks["identity"]["hint"] == "run `aws sso login --profile dev`"
    assert checks["token"]["hint"] == "run `aws sso login --profile dev`"


def test_a_wrong_clock_is_measured(helper, emulator):
    configured(helper)
    emulator.settings(clock_offset=3600)  # AWS is an hour ahead of this machine
    status, report, checks = doctor(helper, HOST, **emulator.env(AWS_ENDPOINT_URL=emulator.url))
    assert status == 1
    hint = checks["identity"]["hint"]
    assert hint.startswith("the clock is off by ") and "seconds (behind AWS, measured from the answer's Date)" in hint
    seconds = int(hint.split("off by ")[1].split(" ")[0])
    assert 3595 <= seconds <= 3605


def test_an_unknown_access_key_says_where_it_came_from(helper, emulator):
    configured(helper)
    helper.write_aws_file("credentials", "[default]\naws_access_key_id = AKIAGONE\naws_secret_access_key = x\n")
    status, report, checks = doctor(helper, HOST, AWS_ENDPOINT_URL=emulator.url)
    assert status == 1
    assert 'AWS does not know the access key id from profile "default" (static keys)' in checks["identity"]["hint"]


def test_no_credentials_lists_what_was_tried(helper):
    configured(helper)
    status, report, checks = doctor(helper, HOST)
    assert status == 1
    hint = checks["credentials"]["hint"]
    assert hint.startswith("tried, in order: environment variables (AWS_ACCESS_KEY_ID is not set); web identity")
    assert "EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)" in hint
    assert "identity" not in checks and "token" not in checks  # nothing to test them with


def test_not_an_ecr_host_gets_the_nearest_form(helper):
    status, report, checks = doctor(helper, "123456789012.dkr.ecr.us-east-1")
    assert status == 1
    assert checks["registry"]["hint"] == "use 123456789012.dkr.ecr.us-east-1.amazonaws.com"


def test_a_helper_that_is_not_on_path(helper, emulator):
    configured(helper, credHelpers={HOST: "ecr", "ghcr.io": "gh-magic"})
    status, report, checks = doctor(helper, HOST, **emulator.env(AWS_ENDPOINT_URL=emulator.url))
    assert status == 1
    assert checks["docker-config"]["details"] == ["docker-credential-gh-magic is not on PATH, but ghcr.io names it"]


def test_no_configuration_at_all_is_a_problem(helper):
    status, report, checks = doctor(helper)
    assert status == 1
    assert checks["docker-config"]["summary"].endswith("no credHelpers entry and no credsStore names this helper")
    assert "configure" in checks["docker-config"]["hint"]


def test_the_registry_comes_from_the_docker_config_and_says_so(helper, emulator):
    configured(helper)
    status, report, checks = doctor(helper, **emulator.env(AWS_ENDPOINT_URL=emulator.url))
    assert status == 0, report
    assert [c["name"] for c in report["checks"]] == CHECKS
    assert checks["registry"]["summary"] == f"{HOST} (the first ECR registry of docker's config file)"


def test_another_helper_of_the_same_name_first_on_path(helper, emulator, tmp_path):
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "docker-credential-ecr").write_text("#!/bin/sh\nexit 1\n")
    os.chmod(shadow / "docker-credential-ecr", 0o755)
    configured(helper)
    env = emulator.env(AWS_ENDPOINT_URL=emulator.url, PATH=f"{shadow}:{helper.env['PATH']}")
    status, report, checks = doctor(helper, HOST, **env)
    check = checks["docker-config"]
    assert check["status"] == "warning"
    assert f"docker will run {shadow}/docker-credential-ecr, which is not this program" in check["details"][0]


def test_creds_store_and_a_conflicting_cred_helpers_entry(helper, emulator):
    bin_dir = helper.home / "bin"
    (bin_dir / "docker-credential-ecr-login").write_text("#!/bin/sh\nexit 1\n")
    os.chmod(bin_dir / "docker-credential-ecr-login", 0o755)
    configured(helper, credsStore="ecr", credHelpers={HOST: "ecr-login"})
    status, report, checks = doctor(helper, HOST, **emulator.env(AWS_ENDPOINT_URL=emulator.url))
    assert status == 1
    check = checks["docker-config"]
    assert f"credHelpers sends {HOST} to docker-credential-ecr-login, not to this helper" in check["summary"]
    assert f"credsStore names this helper, but the credHelpers entry for {HOST} wins over it" in check["details"]
    assert check["hint"] == f"run `docker-credential-ecr configure {HOST}`"


def test_the_cache_check_lists_entries_without_secrets(helper, emulator):
    configured(helper)
    document, _, _, _ = helper.get(HOST, **emulator.env())
    status, report, checks = doctor(helper, HOST, **emulator.env(AWS_ENDPOINT_URL=emulator.url))
    assert status == 0
    lines = checks["cache"]["details"]
    assert any(line.startswith(f"file: token for {HOST}, valid, expires ") for line in lines), lines
    assert document["Secret"] not in json.dumps(report)


def test_a_credential_source_that_fails_is_the_problem_on_its_own_row(helper, emulator):
    """A bare machine whose metadata service refuses every request (403, as when it is turned
    off): the credentials row names the source and why it failed, rather than `ok` above an
    identity row that carries the cause."""
    configured(helper)
    env = emulator.credential_env(AWS_EC2_METADATA_DISABLED=None, AWS_EC2_METADATA_SERVICE_ENDPOINT=emulator.url)
    status, report, checks = doctor(helper, HOST, **env)
    assert checks["credentials"]["status"] == "ok", report  # a metadata service that answers
    assert checks["credentials"]["summary"] == f"EC2 instance metadata ({emulator.url})"
    emulator.settings(outages={"imds": {"status": 403, "code": "Forbidden", "message": ""}})
    status, report, checks = doctor(helper, HOST, **env)
    assert status == 1 and report["ok"] is False
    credentials = checks["credentials"]
    assert credentials["status"] == "problem", report
    assert f"EC2 instance metadata ({emulator.url}): the role name was answered with HTTP 403" in credentials["summary"]
    assert credentials["hint"].startswith("tried, in order: environment variables (AWS_ACCESS_KEY_ID is not set)")
    assert [line for line in credentials["details"] if line.startswith("EC2 instance metadata is used")]
    assert checks["identity"]["status"] == "problem"
    text = helper.run("doctor", HOST, **env).stdout.decode().splitlines()
    [row] = [line for line in text if not line.startswith(" ") and line[9:].startswith("credentials:")]
    assert row.startswith("PROBLEM  credentials: ") and "HTTP 403" in row
