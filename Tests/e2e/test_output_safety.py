"""What the programs print never carries a secret or a terminal control sequence: text from
servers (an STS ARN with escapes, an error that echoes the request) and from the user's files
(config.json headers and proxies) passes one sanitizer and one redaction on its way out."""
import json

import pytest

from conftest import HOST

# A window title, a cleared screen, the one-character CSI, and a right-to-left override.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\u009b31m\u202eevil"
UNSAFE = [b"\x1b", b"\x07", "\u009b".encode(), "\u202e".encode()]


def assert_terminal_safe(data: bytes):
    for sequence in UNSAFE:
        assert sequence not in data, (sequence, data[-3000:])


@pytest.fixture
def hostile_identity(emulator):
    emulator.settings(caller_arn=f"arn:aws:iam::123456789012:user/{HOSTILE}")
    return emulator


def configured(helper):
    (helper.home / ".docker").mkdir(exist_ok=True)
    (helper.home / ".docker/config.json").write_text(json.dumps({"credHelpers": {HOST: "ecr"}}))


def test_doctor_prints_no_escape_from_an_arn(helper, hostile_identity):
    configured(helper)
    result = helper.run("doctor", HOST, **hostile_identity.env(AWS_ENDPOINT_URL=hostile_identity.url))
    assert b"arn:aws:iam::123456789012:user/" in result.stdout
    assert_terminal_safe(result.stdout + result.stderr)


def test_doctor_json_escapes_what_a_terminal_would_act_on(helper, hostile_identity):
    configured(helper)
    result = helper.run("doctor", "--json", HOST, **hostile_identity.env(AWS_ENDPOINT_URL=hostile_identity.url))
    assert_terminal_safe(result.stdout + result.stderr)
    [identity] = [check for check in json.loads(result.stdout)["checks"] if check["name"] == "identity"]
    assert identity["summary"].startswith("arn:aws:iam::123456789012:user/")


def test_configure_discover_prints_no_escape_from_an_arn(helper, hostile_identity):
    result = helper.run("configure", "--discover", "--dry-run", "--region", "us-west-2",
                        **hostile_identity.env(AWS_ENDPOINT_URL=hostile_identity.url))
    assert result.returncode == 0, result.stderr.decode()
    assert b"AWS identity arn:aws:iam::123456789012:user/" in result.stdout
    assert_terminal_safe(result.stdout + result.stderr)


def test_a_dry_run_shows_no_header_value_and_no_proxy_password(helper):
    (helper.home / ".docker").mkdir()
    (helper.home / ".docker/config.json").write_text(json.dumps({
        "HttpHeaders": {"Authorization": "Bearer SECRET-HEADER-1", "X-Registry-Key": "SECRET-HEADER-2"},
        "proxies": {"default": {"httpProxy": "user:SECRET-PROXY-3@proxy.internal:3128",
                                "httpsProxy": "http://user:p@SECRET-PROXY-4@proxy.internal:3128",
                                "ftpProxy": "https://SECRET-TOKEN-5@proxy.internal"}},
        "note": f"hostile {HOSTILE}",
    }))
    result = helper.run("configure", "--dry-run", HOST)
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert "SECRET-" not in out, out
    assert '"httpProxy": "user:<redacted>@proxy.internal:3128"' in out
    assert '"httpsProxy": "http://user:<redacted>@proxy.internal:3128"' in out
    assert '"Authorization": "<redacted>"' in out
    assert_terminal_safe(result.stdout)
    assert json.loads(out[out.index("{"):])["note"] == f"hostile {HOSTILE}"  # escaped, not lost


def jwt(subject: str) -> str:
    import base64

    def part(document):
        return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'kid': 'k'})}.{part({'sub': subject, 'aud': ['sts.amazonaws.com']})}.c2lnbmF0dXJl"


def test_an_echoed_web_identity_token_is_not_logged(helper, emulator, tmp_path):
    emulator.settings(echo_refused_web_identity=True)
    token = jwt("system:serviceaccount:shop:frontend")
    (tmp_path / "token").write_text(token)
    _, _, err, status = helper.get(HOST, AWS_ENDPOINT_URL=emulator.url, AWS_ROLE_ARN="arn:aws:iam::123456789012:role/ci",
                                   AWS_WEB_IDENTITY_TOKEN_FILE=str(tmp_path / "token"), AWS_EC2_METADATA_DISABLED="true")
    assert status == 1 and "InvalidIdentityToken" in err and "Incorrect token audience in request" in err
    assert token not in err and token.split(".")[1] not in err


def test_an_echoed_service_account_token_is_not_in_the_kubelet_log(helper, emulator):
    from pathlib import Path
    import subprocess
    plugin = Path(helper.binary).with_name("ecr-credential-provider")
    emulator.settings(echo_refused_web_identity=True)
    token = jwt("system:serviceaccount:shop:frontend")
    body = json.dumps({"apiVersion": "credentialprovider.kubelet.k8s.io/v1", "kind": "CredentialProviderRequest",
                       "image": f"{HOST}/app:1", "serviceAccountToken": token,
                       "serviceAccountAnnotations": {"eks.amazonaws.com/ecr-role-arn": "arn:aws:iam::123456789012:role/x"}})
    result = subprocess.run([str(plugin)], input=body.encode(), capture_output=True, timeout=60,
                            env=helper.environment(AWS_ENDPOINT_URL=emulator.url))
    err = result.stderr.decode()
    assert result.returncode == 1 and "Incorrect token audience in request" in err
    assert token not in err and token.split(".")[1] not in err


def test_an_endpoint_with_a_password_is_refused_without_showing_it(helper, emulator):
    url = "http://admin:SECRET-ENDPOINT-6@127.0.0.1:1"
    _, _, err, status = helper.get(HOST, **emulator.env(AWS_ENDPOINT_URL_ECR=url))
    assert status == 1 and "user info is not allowed" in err and "SECRET-ENDPOINT-6" not in err
    configured(helper)
    doctor = helper.run("doctor", HOST, **emulator.env(AWS_ENDPOINT_URL_ECR=url))
    assert b"user info is not allowed" in doctor.stdout + doctor.stderr
    assert b"SECRET-ENDPOINT-6" not in doctor.stdout + doctor.stderr


def test_configure_prints_no_escape_from_the_file_or_its_path(helper, tmp_path):
    directory = tmp_path / "docker\x1b]0;X\x07\u202e\u009by"
    directory.mkdir()
    (directory / "config.json").write_text(json.dumps({
        "credsStore": "evil\x1b]0;T\x07\u202e\u009b",
        "credHelpers": {HOST: "other\x1b[31m\u202e\u2066", "evil\x1b]2;x\x07.example\u202e": "ecr"}}))
    for arguments in (("--dry-run", HOST), ("--dry-run", "--creds-store"), ("--remove",), (HOST,), (HOST,)):
        result = helper.run("configure", *arguments, DOCKER_CONFIG=str(directory))
        assert result.returncode == 0, result.stderr.decode()
        assert_terminal_safe(result.stdout + result.stderr)


def test_a_proxy_password_quoted_by_libcurl_is_redacted(helper, emulator):
    for proxy in ("http://u:proxypass1@127.0.0.1:9 ", "htps://u:proxypass1@127.0.0.1:9", "http://u:proxypass1@bad_host!:99999"):
        _, _, err, status = helper.get(HOST, **emulator.env(ALL_PROXY=proxy, HTTPS_PROXY=proxy, HTTP_PROXY=proxy))
        assert status == 1 and "proxypass1" not in err, err


def test_an_echoed_secret_followed_by_a_combining_mark_is_still_redacted(helper, emulator):
    token = "SESSIONTOKENxyz123"
    emulator.fail_next({"status": 400, "code": "AccessDeniedException", "message": f"token {token}\u0301 and \u200d{token}"})
    _, _, err, status = helper.get(HOST, **emulator.env(AWS_SESSION_TOKEN=token))
    assert status == 1 and "AccessDeniedException" in err
    assert token not in err


@pytest.mark.parametrize("program,arguments", [
    ("docker-credential-ecr", ["\x1b]0;X\x07\u202e"]),
    ("docker-credential-ecr", ["configure", "--\x1b]0;X\x07"]),
    ("docker-credential-ecr", ["doctor", "--\u009b2J"]),
    ("ecr-credential-provider", ["\x1b]0;X\x07"]),
    ("ecr-credential-provider", ["config", "--\x1b[2J"]),
])
def test_a_mistyped_argument_is_quoted_back_without_control_characters(helper, program, arguments):
    from pathlib import Path
    import subprocess
    result = subprocess.run([str(Path(helper.binary).with_name(program)), *arguments], capture_output=True, timeout=30,
                            env=helper.environment())
    assert result.returncode != 0
    assert result.stdout or result.stderr
    assert_terminal_safe(result.stdout + result.stderr)
