"""Fault injection through the release binary: servers that fail, stall, reset, lie or echo secrets.

Each test states what the user sees (stdout, the stderr line, the exit status), bounds the time
against the start-up of the same binary measured in the same test, and checks that nothing was
lost or written on disk.
"""
import base64
import json
import os
import subprocess
import time

import pytest

from conftest import HOST, NOT_FOUND
from emulators.hostile_server import HostileServer

ECR_REPLY = {"authorizationData": [{"authorizationToken": base64.b64encode(b"AWS:pw").decode(),
                                    "expiresAt": time.time() + 12 * 3600, "proxyEndpoint": f"https://{HOST}"}]}


def startup(helper) -> float:
    """The time the binary takes to start and answer `version`: the baseline of time bounds."""
    started = time.monotonic()
    assert helper.run("version").returncode == 0
    return time.monotonic() - started


def timed_get(helper, server=HOST, **env):
    started = time.monotonic()
    result = helper.get(server, **env)
    return result, time.monotonic() - started


def static_env(url, **extra):
    env = {"AWS_ACCESS_KEY_ID": "AKIAFAULTS", "AWS_SECRET_ACCESS_KEY": "fault-secret",
           "AWS_ENDPOINT_URL_ECR": url}
    env.update(extra)
    return env


def cache_files(helper):
    return sorted(p.name for p in helper.cache_dir.glob("*.json")) if helper.cache_dir.exists() else []


@pytest.fixture
def hostile():
    servers = []

    def start(behaviour, **options):
        server = HostileServer(behaviour, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# --- error answers ---------------------------------------------------------------------------

@pytest.mark.parametrize("status, code, message", [
    (500, "ServerException", "internal"),
    (503, "ServiceUnavailableException", "try later"),
])
def test_server_faults_are_retried_three_times_then_explained(helper, emulator, status, code, message):
    base = startup(helper)
    emulator.fail_next(*[{"status": status, "code": code, "message": message}] * 3)
    (document, out, err, exit_status), elapsed = timed_get(helper, **emulator.env())
    assert (exit_status, out) == (1, NOT_FOUND + "\n")
    assert err == f"docker-credential-ecr: {HOST}: ECR GetAuthorizationToken failed: {code}: {message}\n"
    assert len([r for r in emulator.requests if r["kind"] == "ecr"]) == 3
    assert elapsed < base + 5  # two jittered pauses of at most 0.4 s and 0.8 s
    assert cache_files(helper) == []


def test_throttling_is_retried_for_ten_seconds_then_explained(helper, emulator):
    """With no cached token to serve, a throttled fetch keeps trying inside the helper's 10 s budget."""
    base = startup(helper)
    emulator.fail_next(*[{"status": 400, "code": "ThrottlingException", "message": "Rate exceeded"}] * 20)
    (document, out, err, exit_status), elapsed = timed_get(helper, **emulator.env())
    assert (exit_status, out) == (1, NOT_FOUND + "\n")
    assert err == f"docker-credential-ecr: {HOST}: ECR GetAuthorizationToken failed: ThrottlingException: Rate exceeded\n"
    calls = len([r for r in emulator.requests if r["kind"] == "ecr"])
    assert 2 <= calls <= 6
    # It stops when less than 3 s (a 2 s window and 1 s for the attempt) are left, or after six tries.
    assert calls == 6 or elapsed >= 7, (calls, elapsed)
    assert elapsed < base + 10 + 2  # no retry starts after the budget; the last answer is immediate
    assert cache_files(helper) == []


def test_a_fault_then_success_serves_the_token(helper, emulator):
    base = startup(helper)
    emulator.fail_next({"status": 503, "code": "ServiceUnavailableException", "message": "try later"})
    (document, out, err, status), elapsed = timed_get(helper, **emulator.env())
    assert status == 0 and err == "", out + err
    assert document["Username"] == "AWS"
    assert elapsed < base + 3
    assert len(cache_files(helper)) == 1


def test_a_failed_refresh_keeps_the_cached_token(helper, emulator):
    first = helper.get(HOST, **emulator.env())
    assert first[3] == 0
    [name] = cache_files(helper)
    before = (helper.cache_dir / name).read_bytes()
    emulator.fail_next(*[{"status": 500, "code": "ServerException", "message": "internal"}] * 3)
    # A fresh fetch is forced by making the cached token look half-used: nothing may be lost.
    record = json.loads(before)
    record["issuedAt"] = record["expiresAt"] - 3 * 86400
    (helper.cache_dir / name).write_text(json.dumps(record))
    document, out, err, status = helper.get(HOST, **emulator.env())
    assert status == 0 and document["Secret"] == first[0]["Secret"]
    assert "refreshing the token failed" in err and "using the cached one" in err
    assert json.loads((helper.cache_dir / name).read_text()) == record


# --- broken transports -------------------------------------------------------------------------

def test_a_server_that_never_answers(helper, hostile):
    base = startup(helper)
    server = hostile(("silent",))
    (document, out, err, status), elapsed = timed_get(helper, timeout=90, **static_env(server.url))
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert err.startswith(f"docker-credential-ecr: {HOST}: no answer from {server.url}/ in time: ")
    assert err.count("\n") == 1
    assert len(server.requests) == 1  # a timed-out attempt is not repeated
    assert elapsed < base + 10 + 3  # one attempt of at most 10 s
    assert cache_files(helper) == []


@pytest.mark.parametrize("behaviour, expected", [
    (("reset", 200, json.dumps(ECR_REPLY)), "Connection reset by peer"),
    (("truncated", 200, json.dumps(ECR_REPLY)[:40], 4000), "transfer closed with"),
])
def test_a_connection_dropped_mid_body(helper, hostile, behaviour, expected):
    base = startup(helper)
    server = hostile(behaviour)
    (document, out, err, status), elapsed = timed_get(helper, **static_env(server.url))
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert err.startswith(f"docker-credential-ecr: {HOST}: ") and expected in err and err.count("\n") == 1
    assert len(server.requests) == 3  # retried: it may be a passing glitch
    assert elapsed < base + 5
    assert cache_files(helper) == []


@pytest.mark.parametrize("body", ["", "not json", json.dumps(ECR_REPLY)[:-9], "[]", '{"authorizationData": []}',
                                  '{"authorizationData": [{"authorizationToken": "bm9jb2xvbg==", "expiresAt": 1}]}'])
def test_bodies_that_are_not_a_token(helper, hostile, body):
    base = startup(helper)
    server = hostile(("answer", 200, "application/x-amz-json-1.1", body))
    (document, out, err, status), elapsed = timed_get(helper, **static_env(server.url))
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert err.startswith(f"docker-credential-ecr: {HOST}: ECR returned an unusable GetAuthorizationToken reply: ")
    assert len(server.requests) == 1
    assert elapsed < base + 2
    assert cache_files(helper) == []


@pytest.mark.parametrize("expires_at", ["1e20", "1e308", "-1", "253402300800"])
def test_an_expiry_out_of_range_is_refused_not_a_crash(helper, hostile, expires_at):
    body = json.dumps(ECR_REPLY).replace(str(ECR_REPLY["authorizationData"][0]["expiresAt"]), expires_at)
    server = hostile(("answer", 200, "application/x-amz-json-1.1", body))
    document, out, err, status = helper.get(HOST, **static_env(server.url, DOCKER_CREDENTIAL_ECR_LOG="debug"))
    assert (status, out) == (1, NOT_FOUND + "\n")  # before: SIGILL, exit status -4
    assert "expiresAt is not a time between 1970 and 9999" in err
    assert cache_files(helper) == []


def test_an_html_error_page_from_a_proxy(helper, hostile):
    base = startup(helper)
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>\n<hr>nginx</body></html>"
    server = hostile(("answer", 502, "text/html", page))
    (document, out, err, status), elapsed = timed_get(helper, **static_env(server.url))
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert err == f"docker-credential-ecr: {HOST}: ECR GetAuthorizationToken failed: HTTP 502\n"
    assert len(server.requests) == 3
    assert elapsed < base + 5


def make_certificate(directory, name):
    key, certificate = directory / f"{name}.key", directory / f"{name}.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(certificate),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return certificate, key


def test_a_server_certificate_from_another_ca(helper, hostile, tmp_path):
    server_certificate, server_key = make_certificate(tmp_path, "server")
    other_ca, _ = make_certificate(tmp_path, "other")
    server = hostile(("answer", 200, "application/x-amz-json-1.1", json.dumps(ECR_REPLY)),
                     certificate=str(server_certificate), key=str(server_key))
    base = startup(helper)
    (document, out, err, status), elapsed = timed_get(helper, **static_env(server.url, AWS_CA_BUNDLE=str(other_ca)))
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert err.startswith(f"docker-credential-ecr: {HOST}: ") and "certificate" in err and err.count("\n") == 1
    assert elapsed < base + 2  # a TLS failure is final: no retry
    assert cache_files(helper) == []
    # The right CA works, so the failure above was the CA's.
    document, out, err, status = helper.get(HOST, **static_env(server.url, AWS_CA_BUNDLE=str(server_certificate)))
    assert status == 0, out + err


def test_a_fifo_as_ca_bundle_does_not_hang(helper, hostile, tmp_path):
    fifo = tmp_path / "ca.pem"
    os.mkfifo(fifo)
    server = hostile(("answer", 200, "application/x-amz-json-1.1", json.dumps(ECR_REPLY)))
    base = startup(helper)
    (document, out, err, status), elapsed = timed_get(helper, **static_env(server.url, AWS_CA_BUNDLE=str(fifo)))
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert f"the CA bundle (AWS_CA_BUNDLE) cannot be used: refusing {fifo}: it is a FIFO, not a regular file" in err
    assert elapsed < base + 2
    assert server.requests == []


# --- server text -------------------------------------------------------------------------------

def test_a_signature_error_echoing_the_session_token_never_shows_it(helper, hostile):
    def echo(request):
        canonical = ("POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:x\n"
                     f"x-amz-security-token:{request['headers'].get('x-amz-security-token')}\n")
        return ("answer", 403, "application/x-amz-json-1.1", json.dumps({
            "__type": "InvalidSignatureException",
            "message": "The request signature we calculated does not match the signature you provided.\n\n"
                       f"The Canonical String for this request should have been\n'{canonical}'\n\n"
                       f"The String-to-Sign should have been\n'AWS4-HMAC-SHA256 {request['headers'].get('authorization')}'"}))
    server = hostile(echo)
    token = "SESSIONTOKEN" + "x" * 40
    for level in ("warning", "debug"):
        document, out, err, status = helper.get(HOST, **static_env(server.url, AWS_SESSION_TOKEN=token,
                                                                   DOCKER_CREDENTIAL_ECR_LOG=level))
        assert (status, out) == (1, NOT_FOUND + "\n")
        assert token not in err and token not in out and "Signature=" not in err
        assert ("ECR GetAuthorizationToken failed: InvalidSignatureException: The request signature we calculated "
                "does not match the signature you provided.; the secret access key does not match the access key id") in err


def test_control_characters_from_a_server_never_reach_the_terminal(helper, hostile):
    message = "denied \x1b[2J\x1b]0;owned\x07 by\r\npolicy\u202e"
    server = hostile(("answer", 400, "application/x-amz-json-1.1",
                      json.dumps({"__type": "AccessDeniedException\x1b[31m", "message": message})))
    document, out, err, status = helper.get(HOST, **static_env(server.url))
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert err.count("\n") == 1 and err.endswith("\n")
    assert not any(ord(c) < 0x20 and c != "\n" or 0x7f <= ord(c) <= 0x9f or c == "\u202e" for c in err)
    assert "denied" in err


# --- credential sources that misbehave ---------------------------------------------------------

def test_container_uri_that_only_looks_like_loopback_is_refused(helper, hostile):
    server = hostile(("answer", 200, "application/json", "{}"))
    for url in ("http://127.0.0.1.evil.example/creds?token=QUERYSECRET", "http://127.1/creds?token=QUERYSECRET",
                "http://localhost.evil.example/creds?token=QUERYSECRET"):
        document, out, err, status = helper.get(HOST, AWS_CONTAINER_CREDENTIALS_FULL_URI=url,
                                                AWS_CONTAINER_AUTHORIZATION_TOKEN="auth-secret")
        assert (status, out) == (1, NOT_FOUND + "\n")
        assert "must use https, or http to a loopback address" in err
        assert "QUERYSECRET" not in err and "auth-secret" not in err
    assert server.requests == []


def test_container_messages_do_not_show_the_query_string(helper, hostile):
    server = hostile(("answer", 500, "text/plain", "oops"))
    document, out, err, status = helper.get(
        HOST, AWS_CONTAINER_CREDENTIALS_FULL_URI=f"{server.url}/creds?token=QUERYSECRET", DOCKER_CREDENTIAL_ECR_LOG="debug")
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert f"container credentials ({server.url}/creds)" in err
    assert "QUERYSECRET" not in err
    assert server.requests and server.requests[0]["path"] == "/creds?token=QUERYSECRET"


def test_imds_session_token_with_a_line_break_is_refused(helper, hostile):
    def imds(request):
        if request["method"] == "PUT":
            return ("answer", 200, "text/plain", "token\r\nX-Injected: yes")
        return ("answer", 200, "text/plain", "role")
    server = hostile(imds)
    document, out, err, status = helper.get(HOST, AWS_EC2_METADATA_DISABLED=None, AWS_EC2_METADATA_SERVICE_ENDPOINT=server.url)
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert "the session token is not a valid header value" in err
    assert [r["method"] for r in server.requests] == ["PUT"]


def process_config(helper, script_text):
    script = helper.home / "creds.sh"
    script.write_text("#!/bin/sh\n" + script_text)
    script.chmod(0o755)
    helper.write_aws_file("config", f"[default]\ncredential_process = {script}\n")


def test_credential_process_leaving_a_background_child_succeeds_at_once(helper, emulator):
    process_config(helper, "sleep 60 &\n"
                   f"echo '{{\"Version\": 1, \"AccessKeyId\": \"{emulator.key}\", \"SecretAccessKey\": \"{emulator.secret}\"}}'\n")
    base = startup(helper)
    (document, out, err, status), elapsed = timed_get(helper, **emulator.credential_env())
    assert status == 0, out + err
    assert elapsed < base + 2  # before: the 30 s limit, then a failure


def test_credential_process_that_closes_its_pipes_and_sleeps_is_stopped(helper, emulator):
    process_config(helper, "exec >&- 2>&-\nsleep 120\n")
    base = startup(helper)
    (document, out, err, status), elapsed = timed_get(helper, timeout=150, **emulator.credential_env())
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert "did not finish within 30 s and was stopped" in err
    assert 30 <= elapsed < base + 33  # before: 120 s


def test_a_pathological_tool_config_pattern_is_instant(helper, emulator):
    # 12 × `*a` then `*b` against a 31-letter label: exponential backtracking took seconds of CPU.
    region = "a" * 14 + "-" + "a" * 14 + "-1"
    config = helper.home / ".config/docker-credential-ecr/config"
    config.parent.mkdir(parents=True)
    config.write_text(f"[registry 123456789012.dkr.ecr.{'*a' * 12}*b.amazonaws.com]\nprofile = nope\n")
    host = f"123456789012.dkr.ecr.{region}.amazonaws.com"
    base = startup(helper)
    (document, out, err, status), elapsed = timed_get(helper, host, **emulator.env(DOCKER_CREDENTIAL_ECR_LOG="debug"))
    assert f"{host}: credentials from environment" in err, err  # the pattern did not match; the default chain ran
    assert elapsed < base + 1


def test_a_line_break_in_a_cached_sso_token_never_becomes_a_header(helper, emulator):
    from test_credentials import SSO_CONFIG, in_hours, sso_cache
    helper.write_aws_file("config", SSO_CONFIG)
    sso_cache(helper, "corp", startUrl="https://corp.awsapps.com/start", region="eu-west-1",
              accessToken="sso-access-token\r\nX-Injected: yes", expiresAt=in_hours(8))
    document, out, err, status = helper.get(HOST, **emulator.credential_env(AWS_PROFILE="dev"))
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert "a header value contains a line break; not sent" in err
    assert emulator.calls("sso") == []
