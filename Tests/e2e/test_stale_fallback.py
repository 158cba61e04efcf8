"""A cached token past its half-life is still served when the refresh fails for a passing reason.

Whatever layer fails (ECR itself, STS under an assumed role or a web identity, the SSO portal or
its OIDC refresh, container credentials, the instance metadata service) a throttling answer, a 5xx
or an unreachable endpoint must not break a pull while a valid token sits in the cache: the
release binary serves it, with one warning line on stderr. An expired token is never served, and
a final failure (denied access) is never papered over.
"""
import json
import time

import pytest

from conftest import HOST, NOT_FOUND, free_port
from emulators.aws_emulator import AWSEmulator
from emulators.recording_proxy import RecordingProxy
from test_credentials import SSO_CONFIG, imds_env, in_hours, process_script, role_profiles, sso_cache

WARNING = f"docker-credential-ecr: {HOST}: refreshing the token failed ("


def assert_served_stale(result, first, cause):
    document, out, err, status = result
    assert status == 0, out + err
    assert document == first
    assert err.startswith(WARNING) and cause in err, err
    assert err.count("\n") == 1, err  # one line
    assert "valid until" in err


def assert_not_served(result, cause):
    document, out, err, status = result
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert cause in err and "using the cached one" not in err, err


# --- ECR itself ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fault", [
    {"status": 500, "code": "ServerException", "message": "internal"},
    {"status": 400, "code": "ThrottlingException", "message": "Rate exceeded"},
])
def test_ecr_failing_serves_the_cached_token(helper, emulator, fault):
    first = helper.get(HOST, **emulator.env())[0]
    helper.age_cached_tokens()
    emulator.fail_next(*[fault] * 3)
    assert_served_stale(helper.get(HOST, **emulator.env()), first, fault["code"])
    assert len(emulator.requests) == 4  # one fetch, then three tries


def test_ecr_unreachable_serves_the_cached_token(helper):
    private = AWSEmulator({"AKIAEMULATOR": "emulator-secret"})
    private.serve()
    env = {"AWS_ACCESS_KEY_ID": "AKIAEMULATOR", "AWS_SECRET_ACCESS_KEY": "emulator-secret", "AWS_ENDPOINT_URL_ECR": private.url}
    first = helper.get(HOST, **env)[0]
    private.stop()  # the same endpoint (part of the cache key) now refuses connections
    helper.age_cached_tokens()
    assert_served_stale(helper.get(HOST, **env), first, "cannot reach " + private.url)


def test_parallel_gets_during_an_outage_call_ecr_once(helper, emulator, timing):
    """The processes that waited for the lock reuse the holder's failure instead of repeating it."""
    import subprocess
    first = helper.get(HOST, **emulator.env())[0]
    helper.age_cached_tokens()
    emulator.settings(delay=0.5)
    emulator.fail_next(*[{"status": 503, "code": "ServiceUnavailable", "message": "busy"}] * 3)
    started = time.monotonic()
    runs = []
    for _ in range(4):
        run = subprocess.Popen([str(helper.binary), "get"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=helper.environment(**emulator.env()))
        run.stdin.write(HOST.encode())
        run.stdin.close()  # all four run at once, as parallel pulls do
        runs.append(run)
        time.sleep(0.05)
    results = [(run.stdout.read(), run.stderr.read()) for run in runs]
    for run in runs:
        run.wait(timeout=60)
    elapsed = time.monotonic() - started
    for run, (out, err) in zip(runs, results):
        assert run.returncode == 0, err.decode()
        assert json.loads(out) == first
        assert "using the cached one" in err.decode()
    assert len(emulator.requests) == 1 + 3  # the first fetch, then one process's three tries
    assert elapsed < timing.limit(wait=3 * 0.5 + 0.6, runs=4)
    # A pull a moment later does not retry either; one after the failure is 10 s old does.
    assert helper.get(HOST, **emulator.env())[0] == first and len(emulator.requests) == 4


def test_an_expired_token_is_never_served(helper, emulator):
    helper.get(HOST, **emulator.env())
    helper.age_cached_tokens(age_hours=11.99, left_hours=0.01)  # 36 s left: inside the 5-minute margin
    emulator.fail_next(*[{"status": 503, "code": "ServiceUnavailableException", "message": "busy"}] * 3)
    assert_not_served(helper.get(HOST, **emulator.env()), "ServiceUnavailableException")


def test_with_no_valid_token_left_a_throttled_refresh_keeps_trying(helper, emulator):
    """An expired token is not served, so the refresh has the whole throttling budget (10 s)."""
    helper.get(HOST, **emulator.env())
    helper.age_cached_tokens(age_hours=11.99, left_hours=0.01)
    emulator.fail_next(*[{"status": 400, "code": "ThrottlingException", "message": "Rate exceeded"}] * 20)
    started = time.monotonic()
    assert_not_served(helper.get(HOST, **emulator.env()), "ThrottlingException")
    elapsed, calls = time.monotonic() - started, len(emulator.requests) - 1
    assert calls == 6 or elapsed >= 7, (calls, elapsed)


def test_access_denied_is_never_papered_over(helper, emulator):
    helper.get(HOST, **emulator.env())
    helper.age_cached_tokens()
    emulator.fail_next({"status": 400, "code": "AccessDeniedException", "message": "User: arn:aws:iam::123456789012:user/x is not authorized"})
    assert_not_served(helper.get(HOST, **emulator.env()), "AccessDeniedException")


# --- STS under an assumed role (moto behind the recording proxy) -------------------------------

def test_sts_throttled_while_refreshing_an_assumed_role(helper, moto):
    role_profiles(helper, moto)
    env = {"AWS_PROFILE": "pull", "AWS_ENDPOINT_URL": moto.proxy.url}
    first = helper.get(HOST, **env)[0]
    assert first is not None
    helper.age_cached_tokens()
    moto.proxy.clear()
    moto.proxy.outages["AssumeRole"] = (400, "Throttling", "Rate exceeded")
    result = helper.get(HOST, **env)
    moto.proxy.outages.clear()
    assert_served_stale(result, first, "Throttling: Rate exceeded")
    assert "assuming role arn:aws:iam::123456789012:role/pull" in result[2]
    assert moto.proxy.actions() == ["AssumeRole"] * 3  # retried, then fell back; ECR never asked


def test_sts_unreachable_while_refreshing_an_assumed_role(helper, moto):
    role_profiles(helper, moto)
    sts = RecordingProxy(moto.url).serve()
    env = {"AWS_PROFILE": "pull", "AWS_ENDPOINT_URL": moto.proxy.url, "AWS_ENDPOINT_URL_STS": sts.url}
    first = helper.get(HOST, **env)[0]
    assert first is not None
    sts.stop()
    helper.age_cached_tokens()
    assert_served_stale(helper.get(HOST, **env), first, "cannot reach " + sts.url)


def test_sts_denying_the_role_is_never_papered_over(helper, moto):
    role_profiles(helper, moto)
    env = {"AWS_PROFILE": "pull", "AWS_ENDPOINT_URL": moto.proxy.url}
    assert helper.get(HOST, **env)[3] == 0
    helper.age_cached_tokens()
    moto.proxy.outages["AssumeRole"] = (403, "AccessDenied", "not authorized to perform sts:AssumeRole")
    result = helper.get(HOST, **env)
    moto.proxy.outages.clear()
    assert_not_served(result, "AccessDenied")


# --- web identity, SSO, container and instance metadata (the loopback emulator) ----------------

def test_web_identity_sts_throttled(helper, emulator):
    token_file = helper.home / "token"
    token_file.write_text("web-identity-token")
    env = emulator.credential_env(AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file), AWS_ROLE_ARN="arn:aws:iam::123456789012:role/irsa")
    first = helper.get(HOST, **env)[0]
    helper.age_cached_tokens()
    emulator.emulator.outages["sts"] = {"status": 400, "code": "Throttling", "message": "Rate exceeded"}
    assert_served_stale(helper.get(HOST, **env), first, "Throttling")
    assert len(emulator.calls("sts")) == 1 + 3


def test_the_sso_portal_failing(helper, emulator):
    helper.write_aws_file("config", SSO_CONFIG)
    sso_cache(helper, "corp", startUrl="https://corp.awsapps.com/start", region="eu-west-1",
              accessToken="sso-access-token", expiresAt=in_hours(8))
    env = emulator.credential_env(AWS_PROFILE="dev")
    first = helper.get(HOST, **env)[0]
    helper.age_cached_tokens()
    emulator.emulator.outages["sso"] = {"status": 500, "code": "InternalServerException", "message": "portal down"}
    assert_served_stale(helper.get(HOST, **env), first, "InternalServerException")


def test_the_sso_token_refresh_failing(helper, emulator):
    helper.write_aws_file("config", SSO_CONFIG)
    path = sso_cache(helper, "corp", startUrl="https://corp.awsapps.com/start", region="eu-west-1",
                     accessToken="sso-access-token", expiresAt=in_hours(8), clientId="client-id",
                     clientSecret="client-secret", refreshToken="refresh-token", registrationExpiresAt=in_hours(24 * 30))
    env = emulator.credential_env(AWS_PROFILE="dev")
    first = helper.get(HOST, **env)[0]
    helper.age_cached_tokens()
    # The access token has expired since; OIDC is down, so it cannot be refreshed.
    document = json.loads(path.read_text())
    document["expiresAt"] = in_hours(-1)
    path.write_text(json.dumps(document))
    emulator.emulator.outages["oidc"] = {"status": 503, "code": "ServiceUnavailable", "message": "try later"}
    result = helper.get(HOST, **env)
    assert_served_stale(result, first, "refreshing it failed")
    assert "aws sso login" not in result[2]  # the login itself may well be fine


def test_an_expired_sso_login_is_never_papered_over(helper, emulator):
    helper.write_aws_file("config", SSO_CONFIG)
    path = sso_cache(helper, "corp", startUrl="https://corp.awsapps.com/start", region="eu-west-1",
                     accessToken="sso-access-token", expiresAt=in_hours(8))
    env = emulator.credential_env(AWS_PROFILE="dev")
    helper.get(HOST, **env)
    helper.age_cached_tokens()
    path.write_text(json.dumps({"startUrl": "https://corp.awsapps.com/start", "accessToken": "sso-access-token",
                                "expiresAt": in_hours(-1)}))
    assert_not_served(helper.get(HOST, **env), "run `aws sso login --profile dev`")


def test_a_credential_process_that_times_out(helper, emulator, timing):
    """The program hangs past its 30 s limit: passing (its own backend may answer next time)."""
    script = process_script(helper, "import os, time\n"
                                    f"if os.path.exists({str(helper.home / 'hang')!r}): time.sleep(120)\n"
                                    f"print(json.dumps({{'Version': 1, 'AccessKeyId': {emulator.key!r}, "
                                    f"'SecretAccessKey': {emulator.secret!r}}}))\n")
    helper.write_aws_file("config", f"[default]\ncredential_process = {script}\n")
    env = emulator.credential_env()
    first = helper.get(HOST, **env)[0]
    assert first is not None
    helper.age_cached_tokens()
    (helper.home / "hang").touch()
    started = time.monotonic()
    result = helper.get(HOST, timeout=90, **env)
    assert_served_stale(result, first, "did not finish within 30 s and was stopped")
    assert time.monotonic() - started < timing.limit(wait=30)


def test_container_credentials_failing(helper, emulator):
    env = emulator.credential_env(AWS_CONTAINER_CREDENTIALS_FULL_URI=f"{emulator.url}/container/credentials",
                                  AWS_CONTAINER_AUTHORIZATION_TOKEN="container-token")
    first = helper.get(HOST, **env)[0]
    helper.age_cached_tokens()
    emulator.emulator.outages["container"] = {"status": 503, "code": "ServiceUnavailable", "message": "agent restarting"}
    assert_served_stale(helper.get(HOST, **env), first, "ServiceUnavailable")


def test_instance_metadata_timing_out(helper, emulator, timing):
    first = helper.get(HOST, **imds_env(emulator))[0]
    helper.age_cached_tokens()
    emulator.emulator.outages["imds"] = "silent"
    started = time.monotonic()
    result = helper.get(HOST, **imds_env(emulator))
    elapsed = time.monotonic() - started
    assert_served_stale(result, first, "EC2 instance metadata")
    # A token request and one IMDSv1 try, 1 s each at most.
    assert elapsed < timing.limit(wait=2), elapsed
    assert [c["error"] for c in emulator.calls("imds")][-2:] == ["NoAnswer", "NoAnswer"]
