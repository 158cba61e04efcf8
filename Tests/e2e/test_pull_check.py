"""The pull check (`doctor --image`) through the release binary, one test per row of the hint table.

Each test runs in a private network and mount namespace (ecr_node.py): the ECR registry host
resolves to a loopback registry (emulators/ecr_registry.py) serving TLS from a test CA and
answering as ECR does, and the AWS emulator issues the tokens it accepts.
"""
import json
import subprocess
import urllib.parse
from pathlib import Path

import pytest

from conftest import HOST, require
from test_doctor import configured

CHECKS = ["registry", "docker-config", "credentials", "identity", "cache", "token", "pull"]
PULL_FIELDS = ["name", "status", "summary", "details", "hint", "finding", "step", "httpStatus", "errorCode", "action"]
OTHER_REGION = "123456789012.dkr.ecr.eu-central-1.amazonaws.com"
USER_ARN = "arn:aws:iam::123456789012:user/AKIAEMULATOR"
READ = ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def make_tls(directory: Path, hosts):
    """A test CA, and a certificate for every name in `hosts` signed by it: (ca, certificate, key)."""
    openssl = require("openssl", "apt-get install openssl")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    subprocess.run([openssl, "req", "-x509", *ec, "-keyout", directory / "ca.key", "-out", directory / "ca.crt", "-days", "1",
                    "-subj", "/CN=pull check test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign"], check=True, capture_output=True)
    subprocess.run([openssl, "req", *ec, "-keyout", directory / "registry.key", "-out", directory / "registry.csr",
                    "-subj", f"/CN={hosts[0]}"], check=True, capture_output=True)
    (directory / "san.cnf").write_text("subjectAltName=" + ",".join(f"DNS:{host}" for host in hosts) + "\n")
    subprocess.run([openssl, "x509", "-req", "-in", directory / "registry.csr", "-CA", directory / "ca.crt",
                    "-CAkey", directory / "ca.key", "-CAcreateserial", "-out", directory / "registry.crt", "-days", "1",
                    "-extfile", directory / "san.cnf"], check=True, capture_output=True)
    return directory / "ca.crt", directory / "registry.crt", directory / "registry.key"


@pytest.fixture(scope="session")
def tls(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    hosts = [HOST, "prod-us-west-2-starport-layer-bucket.s3.us-west-2.amazonaws.com"]
    return make_tls(directory, hosts)


class Node:
    """Runs commands on the namespaced machine of ecr_node.py."""

    def __init__(self, tmp_path, tls):
        for command, package in (("unshare", "util-linux"), ("ip", "iproute2")):
            require(command, f"apt-get install {package}")
        self.tmp_path = tmp_path
        self.ca, self.certificate, self.key = tls

    def run(self, commands, **registry):
        settings = {
            "work": str(self.tmp_path), "certificate": str(self.certificate), "key": str(self.key),
            "registry_hosts": [HOST], "credentials": {"AKIAEMULATOR": "emulator-secret"},
            "repositories": {"team/app": {"tags": ["1"]}}, "result": str(self.tmp_path / "result.json"),
            "commands": commands,
        }
        settings.update(registry)
        (self.tmp_path / "settings.json").write_text(json.dumps(settings))
        node = subprocess.run(["unshare", "--net", "--mount", "--pid", "--fork", "--mount-proc", "--propagation", "private", "python3",
                               str(Path(__file__).parent / "ecr_node.py"), str(self.tmp_path / "settings.json")],
                              capture_output=True, text=True, timeout=300)
        assert node.returncode == 0, node.stderr
        return json.loads((self.tmp_path / "result.json").read_text())


@pytest.fixture
def node(tmp_path, tls):
    return Node(tmp_path, tls)


def doctor_command(helper, node, image, *arguments, trust=True, **env):
    configured(helper)
    settings = {"AWS_ACCESS_KEY_ID": "AKIAEMULATOR", "AWS_SECRET_ACCESS_KEY": "emulator-secret", "AWS_ENDPOINT_URL": "{aws}",
                "AWS_ENDPOINT_URL_ECR": "{aws}", "AWS_CA_BUNDLE": str(node.ca) if trust else None}
    settings.update(env)
    environment = helper.environment(**settings)
    return {"argv": [str(helper.binary), "doctor", "--image", image, *arguments],
            "env": {name: value for name, value in environment.items() if value is not None}}


def pull_check(helper, node, image=f"{HOST}/team/app:1", trust=True, **registry):
    """Runs `doctor --image IMAGE --json`; returns (exit status, report, the pull check, the result)."""
    result = node.run([doctor_command(helper, node, image, "--json", trust=trust)], **registry)
    [run] = result["runs"]
    report = json.loads(run["stdout"])
    assert_schema(report)
    return run["returncode"], report, report["checks"][-1], result


def assert_schema(report):
    """The documented schema: the pull check adds finding, step, httpStatus, errorCode, action (null when absent)."""
    assert list(report)[:1] == ["ok"] and isinstance(report["ok"], bool)
    assert [check["name"] for check in report["checks"]] == CHECKS
    pull = report["checks"][-1]
    assert [key for key in PULL_FIELDS if key in pull] == list(pull)
    assert set(PULL_FIELDS) - set(pull) <= {"hint"}
    assert pull["status"] in ("ok", "problem")
    assert pull["httpStatus"] is None or isinstance(pull["httpStatus"], int)
    for key in ("finding", "step", "errorCode", "action"):
        assert pull[key] is None or isinstance(pull[key], str)
    assert report["ok"] == all(check["status"] != "problem" for check in report["checks"])


def test_an_image_that_pulls(helper, node):
    status, report, pull, result = pull_check(helper, node)
    assert status == 0, report
    assert (pull["status"], pull["finding"], pull["step"], pull["httpStatus"]) == ("ok", "pulls", "download", 200)
    assert pull["summary"] == f"{HOST}/team/app:1 will pull: the registry took the token, and the manifest and config blob answered"
    log = [dict(entry, path=urllib.parse.unquote(entry["path"])) for entry in result["registry_log"]]
    assert [(entry["method"], entry["path"].split("?")[0]) for entry in log][:3] == [
        ("GET", "/v2/"), ("HEAD", "/v2/team/app/manifests/1"), ("GET", "/v2/team/app/manifests/1")]
    # This machine's manifest of the index, its config blob, and the redirect's download without the token.
    assert log[3]["path"].startswith("/v2/team/app/manifests/sha256:") and log[4]["path"].startswith("/v2/team/app/blobs/sha256:")
    assert log[5]["host"] == "prod-us-west-2-starport-layer-bucket.s3.us-west-2.amazonaws.com" and not log[5]["authorization"]
    assert len(log) == 6 and all(entry["authorization"] for entry in log[:5])
    assert "application/vnd.oci.image.index.v1+json" in log[1]["accept"]


def test_the_registry_comes_from_the_image_and_the_text_says_it_pulls(helper, node):
    command = doctor_command(helper, node, f"{HOST}/team/app:1")
    result = node.run([command])
    [run] = result["runs"]
    assert run["returncode"] == 0, run["stdout"]
    lines = run["stdout"].splitlines()
    assert lines[0] == f"ok       registry: {HOST}"
    assert any(line.startswith(f"ok       pull: {HOST}/team/app:1 will pull") for line in lines), run["stdout"]


def test_a_refused_token(helper, node):
    status, report, pull, _ = pull_check(helper, node, revoked=True)
    assert status == 1 and report["ok"] is False
    assert (pull["finding"], pull["step"], pull["httpStatus"], pull["errorCode"]) == ("token-refused", "registry", 401, "UNAUTHORIZED")
    assert pull["summary"] == 'the registry refused the token at the GET /v2/ of ' \
                              f'{HOST}/team/app:1 (HTTP 401 UNAUTHORIZED: "Not Authorized")'
    assert f"the token was issued for {HOST} (region us-west-2), the image's registry and region" in pull["hint"]


def test_a_node_role_without_pull_only(helper, node):
    """Karpenter's node role with a custom policy: GetAuthorizationToken but not BatchGetImage."""
    status, report, pull, _ = pull_check(helper, node, identity_actions={"AKIAEMULATOR": ["ecr:GetAuthorizationToken"]})
    assert status == 1
    assert (pull["finding"], pull["step"], pull["httpStatus"], pull["errorCode"], pull["action"]) == (
        "pull-only", "manifest", 403, "DENIED", "ecr:BatchGetImage")
    assert f"User: {USER_ARN} is not authorized to perform: ecr:BatchGetImage on resource: " \
           "arn:aws:ecr:us-west-2:123456789012:repository/team/app because no identity-based policy allows" in pull["summary"]
    assert pull["hint"].startswith(f"{USER_ARN} needs ecr:BatchGetImage: attach the managed policy AmazonEC2ContainerRegistryPullOnly")


def test_a_role_without_get_download_url_for_layer(helper, node):
    status, _, pull, _ = pull_check(helper, node, identity_actions={"AKIAEMULATOR": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage"]})
    assert status == 1
    assert (pull["finding"], pull["step"], pull["action"]) == ("pull-only", "config-blob", "ecr:GetDownloadUrlForLayer")
    assert "AmazonEC2ContainerRegistryPullOnly" in pull["hint"]


def test_a_repository_policy_that_denies(helper, node):
    status, _, pull, _ = pull_check(helper, node, repositories={"team/app": {"tags": ["1"], "deny": ["ecr:BatchGetImage"]}})
    assert status == 1
    assert (pull["finding"], pull["action"]) == ("repository-policy", "ecr:BatchGetImage")
    assert pull["hint"].startswith(f"the repository policy of team/app denies ecr:BatchGetImage to {USER_ARN}")


@pytest.mark.parametrize("actions, missing", [
    (READ, "ecr:BatchImportUpstreamImage"),
    (READ + ["ecr:BatchImportUpstreamImage"], "ecr:CreateRepository"),
])
def test_a_pull_through_first_pull_without_the_pair(helper, node, actions, missing):
    status, _, pull, _ = pull_check(helper, node, image=f"{HOST}/docker-hub/library/nginx:1",
                                    rules=[["docker-hub", "registry-1.docker.io"]], upstream={"library/nginx": ["1"]},
                                    identity_actions={"AKIAEMULATOR": actions})
    assert status == 1
    assert (pull["finding"], pull["step"], pull["httpStatus"], pull["action"]) == ("pull-through", "manifest", 403, missing)
    assert pull["hint"].startswith(f"{USER_ARN} needs {missing} for a first pull through the pull-through cache: attach "
                                   "AmazonEC2ContainerRegistryPullOnly (it grants ecr:BatchImportUpstreamImage) and allow "
                                   "ecr:CreateRepository on arn:aws:ecr:us-west-2:123456789012:repository/docker-hub/*")


def test_a_pull_through_first_pull_with_the_pair_pulls(helper, node):
    status, report, pull, _ = pull_check(helper, node, image=f"{HOST}/docker-hub/library/nginx:1",
                                         rules=[["docker-hub", "registry-1.docker.io"]], upstream={"library/nginx": ["1"]},
                                         identity_actions={"AKIAEMULATOR": READ + ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]})
    assert status == 0, report
    assert pull["finding"] == "pulls"


def test_a_kms_key_the_role_may_not_use(helper, node):
    status, _, pull, _ = pull_check(helper, node, repositories={"team/app": {"tags": ["1"], "kms": True}})
    assert status == 1
    assert (pull["finding"], pull["step"], pull["action"]) == ("kms-key", "config-blob", "kms:Decrypt")
    assert "team/app is encrypted with a KMS key that does not let" in pull["hint"] and "key policy" in pull["hint"]


def test_a_repository_that_does_not_exist_and_the_rules(helper, node):
    status, _, pull, _ = pull_check(helper, node, image=f"{HOST}/quay/org/app:1", rules=[["docker-hub", "registry-1.docker.io"]])
    assert status == 1
    assert (pull["finding"], pull["httpStatus"], pull["errorCode"]) == ("no-repository", 404, "NAME_UNKNOWN")
    assert "The repository with name 'quay/org/app' does not exist in the registry with id '123456789012'" in pull["summary"]
    assert pull["hint"].startswith("no pull-through cache rule has the prefix quay (the rules: docker-hub)")


def test_a_repository_under_a_rule_whose_upstream_lacks_it(helper, node):
    status, _, pull, _ = pull_check(helper, node, image=f"{HOST}/docker-hub/library/gone:1",
                                    rules=[["docker-hub", "registry-1.docker.io"]], upstream={})
    assert status == 1
    assert pull["finding"] == "no-repository"
    assert pull["hint"].startswith("docker-hub/library/gone is under the pull-through cache rule docker-hub -> registry-1.docker.io")


def test_a_tag_that_does_not_exist(helper, node):
    status, _, pull, _ = pull_check(helper, node, image=f"{HOST}/team/app:missing")
    assert status == 1
    assert (pull["finding"], pull["httpStatus"], pull["errorCode"]) == ("no-image", 404, "MANIFEST_UNKNOWN")
    assert pull["summary"] == 'team/app has no image missing (HTTP 404 MANIFEST_UNKNOWN: "Requested image not found")'


def test_an_untrusted_certificate(helper, node):
    status, _, pull, _ = pull_check(helper, node, trust=False)
    assert status == 1
    assert (pull["finding"], pull["step"], pull["httpStatus"]) == ("tls", "registry", None)
    assert pull["summary"].startswith(f"TLS failed with https://{HOST}/v2/")
    assert "AWS_CA_BUNDLE" in pull["hint"]


def test_an_unreachable_registry(helper, node):
    status, _, pull, _ = pull_check(helper, node, image=f"{OTHER_REGION}/team/app:1")
    assert status == 1
    assert (pull["finding"], pull["step"]) == ("unreachable", "registry")
    assert pull["summary"].startswith(f"cannot reach https://{OTHER_REGION}/v2/")
    assert "HTTPS_PROXY" in pull["hint"]


def test_no_token_means_no_pull_check(helper, node):
    command = doctor_command(helper, node, f"{HOST}/team/app:1", "--json", AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
    [run] = node.run([command])["runs"]
    report = json.loads(run["stdout"])
    assert run["returncode"] == 1
    pull = report["checks"][-1]
    assert (pull["name"], pull["status"], pull["finding"]) == ("pull", "problem", None)


def test_another_action_the_repository_requires(helper, node):
    """A 403 for an action outside the pull's own: the principal, the action and the resource, no managed-policy advice."""
    status, _, pull, _ = pull_check(helper, node, repositories={"team/app": {"tags": ["1"], "requires": "ecr:BatchCheckLayerAvailability"}})
    assert status == 1
    assert (pull["finding"], pull["step"], pull["httpStatus"], pull["errorCode"], pull["action"]) == (
        "other-action", "manifest", 403, "DENIED", "ecr:BatchCheckLayerAvailability")
    assert pull["hint"] == (f"{USER_ARN} needs ecr:BatchCheckLayerAvailability on "
                            "arn:aws:ecr:us-west-2:123456789012:repository/team/app: allow it in its policies")


def test_an_index_without_this_platform(helper, node):
    status, _, pull, _ = pull_check(helper, node, repositories={"team/app": {"tags": ["1"], "platforms": ["s390x"]}})
    assert status == 1
    assert (pull["finding"], pull["step"], pull["httpStatus"]) == ("no-platform", "manifest", None)
    assert pull["summary"] == f"the index of {HOST}/team/app:1 lists no manifest for this machine's platform"
    assert "the index lists: linux/s390x" in pull["details"]
    assert pull["hint"].startswith("push an image for this platform")


def test_a_registry_that_does_not_answer_in_time(helper, node):
    """The manifest request stalls past the 10 s request limit of the AWS calls."""
    status, _, pull, _ = pull_check(helper, node, repositories={"team/app": {"tags": ["1"], "stall": 13}})
    assert status == 1
    assert (pull["finding"], pull["step"], pull["httpStatus"]) == ("timeout", "manifest", None)
    assert "HTTPS_PROXY" in pull["hint"] and pull["hint"].startswith("a passing failure")


@pytest.mark.parametrize("code, hint", [
    (503, "a passing failure"),
    (418, "the registry answered in a way a pull does not expect"),
])
def test_an_unexpected_status(helper, node, code, hint):
    status, _, pull, _ = pull_check(helper, node, repositories={"team/app": {"tags": ["1"], "status": code}})
    assert status == 1
    assert (pull["finding"], pull["step"], pull["httpStatus"], pull["errorCode"]) == ("unexpected", "manifest", code, "UNKNOWN")
    assert pull["summary"] == f'unexpected answer at the manifest of {HOST}/team/app:1 (HTTP {code} UNKNOWN: "Service Unavailable")'
    assert pull["hint"].startswith(hint)


# -- a registry that misbehaves -----------------------------------------------------------------------------------

def hostile(mode, **extra):
    return {"repositories": {"team/app": {"tags": ["1"], "hostile": mode, **extra}}}


def text_and_json(helper, node, **registry):
    """Runs the doctor with --json and as text on the same registry: (status, pull check, text output)."""
    result = node.run([doctor_command(helper, node, f"{HOST}/team/app:1", "--json"), doctor_command(helper, node, f"{HOST}/team/app:1")],
                      **registry)
    json_run, text_run = result["runs"]
    report = json.loads(json_run["stdout"])
    assert_schema(report)
    return json_run["returncode"], report["checks"][-1], json_run["stdout"] + text_run["stdout"] + text_run["stderr"] + json_run["stderr"]


def test_a_registry_that_echoes_the_token_learns_nothing(helper, node):
    """The password, its Basic header, its base64 and half of it, and an access key id: all redacted, in text and JSON."""
    status, pull, output = text_and_json(helper, node, **hostile("echo"))
    assert status == 1 and pull["finding"] == "pull-only", pull
    assert "raw=<redacted> basic=<redacted> b64=<redacted> half=<redacted> key=<redacted>" in pull["summary"], pull["summary"]
    assert "AKIAIOSFODNN7EXAMPLE" not in output and "Basic " not in output


def test_terminal_escapes_from_the_registry_reach_no_field(helper, node):
    status, pull, output = text_and_json(helper, node, **hostile("escape"))
    assert status == 1
    assert (pull["finding"], pull["errorCode"], pull["action"]) == ("pull-only", "DENIED [2J", "ecr:BatchGetImage"), pull
    for field in ("summary", "hint", "errorCode", "action"):
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in pull[field]), (field, pull[field])
    assert "\x1b" not in output and "\x07" not in output and "\\u001b" not in output and "\\u0007" not in output


def test_an_oversized_manifest_is_named_as_such(helper, node):
    status, _, pull, _ = pull_check(helper, node, **hostile("huge"))
    assert status == 1
    assert (pull["finding"], pull["step"]) == ("unexpected", "manifest"), pull
    assert pull["summary"] == f"the registry answered the manifest of {HOST}/team/app:1 with more than 4194304 bytes, more than a pull reads"


def test_a_denial_that_names_no_action(helper, node):
    status, _, pull, _ = pull_check(helper, node, **hostile("no-action"))
    assert status == 1
    assert (pull["finding"], pull["action"]) == ("other-action", None)
    assert "the action ECR named" not in pull["hint"] and "without naming the action" in pull["hint"], pull["hint"]


def test_a_download_location_with_user_info_is_not_followed(helper, node):
    status, report, pull, result = pull_check(helper, node, repositories={"team/app": {"tags": ["1"], "userinfo_location": True}})
    assert status == 1
    assert (pull["finding"], pull["step"], pull["httpStatus"]) == ("unexpected", "config-blob", 307), pull
    assert any("https://AWS:<redacted>@prod-us-west-2-starport-layer-bucket.s3.us-west-2.amazonaws.com/" in detail
               and "not followed" in detail for detail in pull["details"]), pull["details"]
    assert "location-password-1234" not in json.dumps(report)
    assert not any(entry["host"].startswith("prod-") for entry in result["registry_log"])
