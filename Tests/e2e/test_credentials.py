"""Every credential source, end to end: the binary against moto, the emulator and real files."""
import hashlib
import json
import os
import stat
import time

import pytest

from conftest import HOST, NOT_FOUND

OTHER = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def sso_cache(helper, key: str, **document):
    path = helper.home / ".aws/sso/cache" / (hashlib.sha1(key.encode()).hexdigest() + ".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def in_hours(hours: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + hours * 3600))


# --- assumed roles, against moto with signature enforcement ---------------------------------

def role_profiles(helper, moto, extra=""):
    key, secret = moto.users["puller"]
    helper.write_aws_file("credentials", f"[base]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n")
    helper.write_aws_file("config", f"""
[profile pull]
role_arn = arn:aws:iam::123456789012:role/pull
source_profile = base
region = us-east-1

[profile chained]
role_arn = arn:aws:iam::123456789012:role/hop
source_profile = pull

[profile denied]
role_arn = arn:aws:iam::123456789012:role/nopull
source_profile = base
{extra}""")


def test_assumed_role_second_get_is_a_cache_hit_with_no_request(helper, moto):
    role_profiles(helper, moto)
    moto.proxy.clear()
    env = {"AWS_PROFILE": "pull", "AWS_ENDPOINT_URL": moto.proxy.url}
    first = helper.get(HOST, **env)
    assert first[3] == 0, first[1] + first[2]
    assert first[0]["Secret"] == "123456789012-auth-token"
    assert moto.proxy.actions() == ["AssumeRole", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"]
    moto.proxy.clear()
    second = helper.get(HOST, **env)
    assert second[0] == first[0]
    assert moto.proxy.actions() == []  # no STS, no ECR: the peer never manages this


def test_a_chain_of_two_roles(helper, moto):
    role_profiles(helper, moto)
    moto.proxy.clear()
    document, out, err, status = helper.get(HOST, AWS_PROFILE="chained", AWS_ENDPOINT_URL=moto.proxy.url)
    assert status == 0, out + err
    assert moto.proxy.actions() == ["AssumeRole", "AssumeRole", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"]


def test_a_role_without_the_permission_names_it(helper, moto):
    role_profiles(helper, moto)
    document, out, err, status = helper.get(HOST, AWS_PROFILE="denied", AWS_ENDPOINT_URL=moto.url)
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert "assumed-role/nopull" in err and "AmazonEC2ContainerRegistryPullOnly" in err


def test_credential_source_environment(helper, moto):
    key, secret = moto.users["puller"]
    helper.write_aws_file("config", "[profile ci]\nrole_arn = arn:aws:iam::123456789012:role/pull\ncredential_source = Environment\n")
    keys = {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}
    # As in the AWS SDKs, keys in the environment win over AWS_PROFILE: no role is assumed.
    moto.proxy.clear()
    document, out, err, status = helper.get(HOST, AWS_PROFILE="ci", AWS_ENDPOINT_URL=moto.proxy.url, **keys)
    assert status == 0, out + err
    assert moto.proxy.actions() == ["AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"]
    # A profile chosen for the registry is used as written: its role assumed with the environment's keys.
    helper.run("logout", "--all")
    moto.proxy.clear()
    document, out, err, status = helper.get(HOST, DOCKER_CREDENTIAL_ECR_PROFILE="ci", AWS_ENDPOINT_URL=moto.proxy.url, **keys)
    assert status == 0, out + err
    assert document["Username"] == "AWS" and document["ServerURL"] == HOST and document["Secret"]
    assert moto.proxy.actions() == ["AssumeRole", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"]
    # Without those keys the profile has no source: the message names the setting, and nothing is asked.
    helper.run("logout", "--all")
    moto.proxy.clear()
    document, out, err, status = helper.get(HOST, DOCKER_CREDENTIAL_ECR_PROFILE="ci", AWS_ENDPOINT_URL=moto.proxy.url)
    assert (status, out) == (1, "credentials not found in native keychain\n"), out + err
    assert 'profile "ci" has credential_source = Environment but AWS_ACCESS_KEY_ID is not set' in err, err
    assert moto.proxy.actions() == []


def test_role_chain_cycles_and_mfa_fail_at_once(helper, moto, timing):
    role_profiles(helper, moto, extra="""
[profile loop-a]
role_arn = arn:aws:iam::123456789012:role/pull
source_profile = loop-b
[profile loop-b]
role_arn = arn:aws:iam::123456789012:role/pull
source_profile = loop-a
[profile mfa]
role_arn = arn:aws:iam::123456789012:role/pull
source_profile = base
mfa_serial = arn:aws:iam::123456789012:mfa/me
""")
    moto.proxy.clear()
    started = time.monotonic()
    _, out, err, status = helper.get(HOST, AWS_PROFILE="loop-a", AWS_ENDPOINT_URL=moto.proxy.url)
    assert status == 1 and 'the role chain loops: "loop-a" -> "loop-b" -> "loop-a"' in err
    _, out, err, status = helper.get(HOST, AWS_PROFILE="mfa", AWS_ENDPOINT_URL=moto.proxy.url)
    assert status == 1 and "needs an MFA code (mfa_serial)" in err and "credential_process" in err
    assert time.monotonic() - started < timing.limit(runs=2)
    assert moto.proxy.actions() == []


# --- web identity (IRSA), against the emulator's unsigned-only STS ------------------------

def test_web_identity_rereads_the_token_file(helper, emulator):
    token_file = helper.home / "token"
    token_file.write_text("web-identity-token\n")
    env = emulator.credential_env(AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file),
                                  AWS_ROLE_ARN="arn:aws:iam::123456789012:role/irsa", AWS_ROLE_SESSION_NAME="pod-1")
    document, out, err, status = helper.get(HOST, **env)
    assert status == 0, out + err
    [call] = emulator.calls("sts")
    assert call["role"] == "arn:aws:iam::123456789012:role/irsa" and call["session"] == "pod-1"  # accepted: it was unsigned
    # The token rotates; the next fetch must read the new one.
    token_file.write_text("rotated-token")
    emulator.settings(web_identity_token="rotated-token")
    document, out, err, status = helper.get(HOST, AWS_ECR_DISABLE_CACHE="1", **env)
    assert status == 0, out + err
    assert [c["error"] for c in emulator.calls("sts")] == [None, None]


def test_web_identity_errors_are_precise(helper, emulator):
    env = emulator.credential_env(AWS_WEB_IDENTITY_TOKEN_FILE=str(helper.home / "missing"), AWS_ROLE_ARN="arn:aws:iam::1:role/x")
    _, out, err, status = helper.get(HOST, **env)
    assert status == 1 and f"the web identity token file {helper.home / 'missing'} does not exist" in err
    (helper.home / "empty").write_text("\n")
    _, out, err, status = helper.get(HOST, **dict(env, AWS_WEB_IDENTITY_TOKEN_FILE=str(helper.home / "empty")))
    assert status == 1 and f"the web identity token file {helper.home / 'empty'} is empty" in err
    (helper.home / "a-directory").mkdir()  # unreadable as a file, even for root
    _, out, err, status = helper.get(HOST, **dict(env, AWS_WEB_IDENTITY_TOKEN_FILE=str(helper.home / "a-directory")))
    assert status == 1 and f"refusing {helper.home / 'a-directory'}: it is a directory, not a regular file" in err
    (helper.home / "bad").write_text("wrong")
    _, out, err, status = helper.get(HOST, **dict(env, AWS_WEB_IDENTITY_TOKEN_FILE=str(helper.home / "bad")))
    assert status == 1 and "InvalidIdentityToken" in err


# --- SSO --------------------------------------------------------------------------------

SSO_CONFIG = """
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1

[profile dev]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = ECRPull

[profile legacy]
sso_start_url = https://old.awsapps.com/start
sso_region = us-east-1
sso_account_id = 123456789012
sso_role_name = ECRPull
"""


def test_sso_profile_and_its_cache_hit(helper, emulator):
    helper.write_aws_file("config", SSO_CONFIG)
    sso_cache(helper, "corp", startUrl="https://corp.awsapps.com/start", region="eu-west-1",
              accessToken="sso-access-token", expiresAt=in_hours(8))
    env = emulator.credential_env(AWS_PROFILE="dev")
    document, out, err, status = helper.get(HOST, **env)
    assert status == 0, out + err
    [call] = emulator.calls("sso")
    assert (call["account"], call["role"]) == ("123456789012", "ECRPull")
    # Second get: no SSO call, no ECR call.
    before = len(emulator.requests)
    assert helper.get(HOST, **env)[0] == document
    assert len(emulator.requests) == before


def test_an_expiring_sso_session_is_refreshed_and_written_back(helper, emulator):
    helper.write_aws_file("config", SSO_CONFIG)
    path = sso_cache(helper, "corp", startUrl="https://corp.awsapps.com/start", region="eu-west-1",
                     accessToken="old-token", expiresAt=in_hours(-1), clientId="client-id", clientSecret="client-secret",
                     refreshToken="refresh-token", registrationExpiresAt=in_hours(24 * 30), futureField={"kept": [1, 2]})
    document, out, err, status = helper.get(HOST, umask=0o000, **emulator.credential_env(AWS_PROFILE="dev"))
    assert status == 0, out + err
    [refresh] = emulator.calls("oidc")
    saved = json.loads(path.read_text())
    assert saved["accessToken"] == refresh["access"] and saved["refreshToken"] == "refresh-token-2"
    assert saved["clientId"] == "client-id" and saved["startUrl"] == "https://corp.awsapps.com/start"
    assert saved["futureField"] == {"kept": [1, 2]}  # what the AWS CLI keeps there and this tool does not know stays
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_sso_cache_file_with_a_byte_order_mark_is_refreshed_and_written_back(helper, emulator):
    """Read with the mark, the refreshed tokens must be saved too (they were dropped with a warning),
    and without it: the AWS CLI's own reader refuses a byte order mark."""
    helper.write_aws_file("config", SSO_CONFIG)
    path = sso_cache(helper, "corp", startUrl="https://corp.awsapps.com/start", region="eu-west-1",
                     accessToken="old-token", expiresAt=in_hours(-1), clientId="client-id", clientSecret="client-secret",
                     refreshToken="refresh-token", registrationExpiresAt=in_hours(24 * 30))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    document, out, err, status = helper.get(HOST, **emulator.credential_env(AWS_PROFILE="dev"))
    assert status == 0, out + err
    assert "could not save" not in err
    [refresh] = emulator.calls("oidc")
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    saved = json.loads(raw)
    assert saved["accessToken"] == refresh["access"] and saved["refreshToken"] == "refresh-token-2"


def test_an_expired_legacy_sso_login_says_how_to_log_in(helper, emulator):
    helper.write_aws_file("config", SSO_CONFIG)
    sso_cache(helper, "https://old.awsapps.com/start", accessToken="sso-access-token", expiresAt=in_hours(-2))
    document, out, err, status = helper.get(HOST, **emulator.credential_env(AWS_PROFILE="legacy"))
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert "run `aws sso login --profile legacy`" in err
    assert emulator.calls("sso") == []


def test_a_revoked_sso_token_says_how_to_log_in(helper, emulator):
    helper.write_aws_file("config", SSO_CONFIG)
    sso_cache(helper, "corp", accessToken="revoked", expiresAt=in_hours(4))
    _, out, err, status = helper.get(HOST, **emulator.credential_env(AWS_PROFILE="dev"))
    assert status == 1 and "no longer valid; run `aws sso login --profile dev`" in err


# --- credential_process -----------------------------------------------------------------

def process_script(helper, body: str):
    script = helper.home / "creds.py"
    script.write_text("#!/usr/bin/env python3\nimport json, sys, pathlib\n"
                      f"pathlib.Path({str(helper.home / 'runs')!r}).open('a').write('run\\n')\n" + body)
    script.chmod(0o755)
    return script


def test_credential_process_runs_only_on_a_miss(helper, emulator):
    script = process_script(helper, f"print(json.dumps({{'Version': 1, 'AccessKeyId': {emulator.key!r}, "
                                    f"'SecretAccessKey': {emulator.secret!r}}}))\n")
    helper.write_aws_file("config", f"[default]\ncredential_process = \"{script}\" --profile 'with space'\n")
    for _ in range(3):
        document, out, err, status = helper.get(HOST, **emulator.credential_env())
        assert status == 0, out + err
    assert (helper.home / "runs").read_text() == "run\n"


@pytest.mark.parametrize("body, message", [
    ("sys.stderr.write('MFA token expired, run aws-vault login\\n'); sys.exit(3)",
     "exited with status 3: MFA token expired, run aws-vault login"),
    ("print('not json')", "printed something that is not the expected JSON object"),
    ("print(json.dumps({'Version': 2, 'AccessKeyId': 'A', 'SecretAccessKey': 'S'}))", 'printed "Version": 2; only 1 is supported'),
    ("print(json.dumps({'Version': 1, 'AccessKeyId': 'A'}))", "printed no SecretAccessKey"),
    ("print(json.dumps({'Version': 1, 'AccessKeyId': 'A', 'SecretAccessKey': 'S', 'Expiration': 'soon'}))",
     "gave an Expiration that is not an ISO 8601 time: soon"),
])
def test_credential_process_failures_are_explained(helper, emulator, body, message):
    script = process_script(helper, body + "\n")
    helper.write_aws_file("config", f"[default]\ncredential_process = {script}\n")
    document, out, err, status = helper.get(HOST, **emulator.credential_env())
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert 'credential_process of profile "default"' in err and message in err


def test_a_missing_credential_process_program(helper, emulator):
    helper.write_aws_file("config", "[default]\ncredential_process = /nonexistent/tool --x\n")
    _, out, err, status = helper.get(HOST, **emulator.credential_env())
    assert status == 1 and "cannot run /nonexistent/tool: No such file or directory" in err


# --- container and instance metadata ----------------------------------------------------------

def test_container_credentials_with_a_token_file(helper, emulator):
    token = helper.home / "pod-token"
    token.write_text("container-token")
    env = emulator.credential_env(AWS_CONTAINER_CREDENTIALS_FULL_URI=f"{emulator.url}/container/credentials",
                                  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(token))
    document, out, err, status = helper.get(HOST, **env)
    assert status == 0, out + err
    token.write_text("rotated")
    emulator.settings(container_authorization="rotated")
    assert helper.get(HOST, AWS_ECR_DISABLE_CACHE="1", **env)[3] == 0
    assert [c["error"] for c in emulator.calls("container")] == [None, None]


def test_container_full_uri_must_not_leave_the_host_unencrypted(helper, emulator):
    _, out, err, status = helper.get(HOST, AWS_CONTAINER_CREDENTIALS_FULL_URI="http://198.51.100.7/creds")
    assert status == 1 and "must use https, or http to a loopback address" in err


def imds_env(emulator, **extra):
    env = emulator.credential_env(AWS_EC2_METADATA_DISABLED=None, AWS_EC2_METADATA_SERVICE_ENDPOINT=emulator.url)
    env.update(extra)
    return env


def test_instance_metadata_v2(helper, emulator):
    document, out, err, status = helper.get(HOST, **imds_env(emulator))
    assert status == 0, out + err
    assert [c["path"] for c in emulator.calls("imds")] == [
        "/latest/api/token", "/latest/meta-data/iam/security-credentials/", "/latest/meta-data/iam/security-credentials/node-role"]
    before = len(emulator.requests)
    assert helper.get(HOST, **imds_env(emulator))[0] == document
    assert len(emulator.requests) == before


def test_instance_metadata_behind_a_hop_limit_falls_back_to_v1(helper, emulator, timing):
    emulator.settings(imds_mode="hop-limit")
    started = time.monotonic()
    document, out, err, status = helper.get(HOST, **imds_env(emulator))
    assert status == 0, out + err
    assert 1 <= time.monotonic() - started < timing.limit(wait=1)
    assert all(c.get("v1", True) for c in emulator.calls("imds")[1:])


def test_instance_without_a_role(helper, emulator):
    emulator.settings(imds_mode="no-role")
    _, out, err, status = helper.get(HOST, **imds_env(emulator))
    assert status == 1 and "this EC2 instance has no IAM role (instance profile)" in err


def test_off_ec2_with_metadata_refused_fails_fast(helper, emulator, timing):
    from conftest import free_port
    started = time.monotonic()
    _, out, err, status = helper.get(HOST, AWS_EC2_METADATA_DISABLED=None,
                                     AWS_EC2_METADATA_SERVICE_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    elapsed = time.monotonic() - started
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert "no AWS credentials in the environment" in err and "Connection refused" in err
    assert elapsed < timing.limit()


def test_off_ec2_with_metadata_silent_fails_within_the_budget(helper, silent_port, timing):
    started = time.monotonic()
    _, out, err, status = helper.get(HOST, AWS_EC2_METADATA_DISABLED=None,
                                     AWS_EC2_METADATA_SERVICE_ENDPOINT=f"http://127.0.0.1:{silent_port}")
    elapsed = time.monotonic() - started
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert "no AWS credentials in the environment" in err
    assert elapsed < timing.limit(wait=2)


# --- per-registry identities -----------------------------------------------------------------

def test_each_registry_uses_its_configured_identity(helper, emulator):
    emulator.emulator.credentials["AKIAPROD"] = "prod-secret"
    emulator.emulator.credentials["AKIADEV"] = "dev-secret"
    helper.write_aws_file("credentials", "[prod]\naws_access_key_id = AKIAPROD\naws_secret_access_key = prod-secret\n"
                                         "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = dev-secret\n")
    config = helper.home / ".config/docker-credential-ecr/config"
    config.parent.mkdir(parents=True)
    config.write_text(f"[registry {HOST}]\nprofile = prod\n\n[registry *.dkr.ecr.eu-*.amazonaws.com]\nprofile = dev\n")
    for host in (HOST, OTHER):
        document, out, err, status = helper.get(host, **emulator.credential_env())
        assert status == 0, out + err
    assert [r["key"] for r in emulator.token_requests()] == ["AKIAPROD", "AKIADEV"]
    # The environment override wins over the file.
    helper.run("erase", stdin=HOST)
    assert helper.get(HOST, DOCKER_CREDENTIAL_ECR_PROFILE="dev", **emulator.credential_env())[3] == 0
    assert emulator.token_requests()[-1]["key"] == "AKIADEV"


def test_a_registry_role_is_assumed_on_top_of_the_chain(helper, moto):
    key, secret = moto.users["puller"]
    config = helper.home / ".config/docker-credential-ecr/config"
    config.parent.mkdir(parents=True)
    config.write_text("[account 123456789012]\nrole_arn = arn:aws:iam::123456789012:role/pull\n")
    moto.proxy.clear()
    document, out, err, status = helper.get(HOST, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret, AWS_ENDPOINT_URL=moto.proxy.url)
    assert status == 0, out + err
    assert moto.proxy.actions()[0] == "AssumeRole"


def test_a_mistake_in_the_tool_config_names_the_line(helper, emulator):
    config = helper.home / ".config/docker-credential-ecr/config"
    config.parent.mkdir(parents=True)
    config.write_text("[registry x]\nprofile = a\n\n[registry y]\nrol_arn = arn\n")
    before = config.read_bytes()
    _, out, err, status = helper.get(HOST, **emulator.env())
    assert status == 1 and f"{config}:4: unknown setting rol_arn in [registry y]" in err
    assert config.read_bytes() == before


def test_web_identity_from_a_profile(helper, emulator):
    token_file = helper.home / "token"
    token_file.write_text("web-identity-token")
    helper.write_aws_file("config", f"[profile irsa]\nrole_arn = arn:aws:iam::123456789012:role/from-profile\n"
                                    f"web_identity_token_file = {token_file}\nrole_session_name = build-7\n")
    document, out, err, status = helper.get(HOST, **emulator.credential_env(AWS_PROFILE="irsa"))
    assert status == 0, out + err
    [call] = emulator.calls("sts")
    assert (call["role"], call["session"]) == ("arn:aws:iam::123456789012:role/from-profile", "build-7")
