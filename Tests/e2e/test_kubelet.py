"""The kubelet plugin, end to end: the release `ecr-credential-provider` as the kubelet runs it.

Requests go in on stdin exactly as the kubelet writes them; the response must be what the
kubelet's strict decoder accepts. Runs cover every API version, the empty environment of a
kubelet under systemd (in a private mount namespace, so /var/cache is a scratch tmpfs), service
account tokens against the emulator's unsigned-only STS, and the printed configuration checked
field by field against the kubelet's CredentialProviderConfig schema.
"""
import json
import os
import re
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from conftest import HOST, REPOSITORY, free_port, require

GROUP = "credentialprovider.kubelet.k8s.io"
IMAGE = f"{HOST}/team/app"


@pytest.fixture(scope="session")
def plugin() -> Path:
    path = Path(os.environ.get("ECR_CREDENTIAL_PROVIDER", REPOSITORY / ".build/release/ecr-credential-provider"))
    if not path.is_file():
        pytest.fail(f"{path} is missing: run ./scripts/build-release or ./test")
    return path


def request(version="v1", image=IMAGE, **extra) -> str:
    document = {"kind": "CredentialProviderRequest", "apiVersion": f"{GROUP}/{version}", "image": image}
    document.update(extra)
    return json.dumps(document)


def run(plugin, stdin: str, env: dict, *arguments, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run([str(plugin), *arguments], input=stdin.encode(), capture_output=True, env=env, timeout=timeout)


def node_env(helper, emulator, **extra) -> dict:
    env = helper.environment(**emulator.env())
    env.update(extra)
    return {name: value for name, value in env.items() if value is not None}


def strict_response(text: str, version: str) -> dict:
    """Decodes as the kubelet does: exactly the known fields, the right types, no null."""
    assert text.endswith("\n") and text.count("\n") == 1, text
    document = json.loads(text)
    assert list(document) == ["kind", "apiVersion", "cacheKeyType", "cacheDuration", "auth"]
    assert document["kind"] == "CredentialProviderResponse"
    assert document["apiVersion"] == f"{GROUP}/{version}"
    assert document["cacheKeyType"] == "Registry"
    assert re.fullmatch(r"(\d+h)?(\d+m)?\d+s", document["cacheDuration"]), document["cacheDuration"]
    assert isinstance(document["auth"], dict)
    for key, config in document["auth"].items():
        assert isinstance(key, str) and list(config) == ["username", "password"]
        assert all(isinstance(value, str) for value in config.values())
    return document


def go_seconds(duration: str) -> int:
    hours, minutes, seconds = (re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(\d+)s", duration).groups())
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(seconds)


@pytest.mark.parametrize("version", ["v1", "v1beta1", "v1alpha1"])
def test_every_api_version_is_answered_in_kind(plugin, helper, emulator, version):
    result = run(plugin, request(version), node_env(helper, emulator))
    assert result.returncode == 0, result.stderr.decode()
    document = strict_response(result.stdout.decode(), version)
    [token] = emulator.token_requests()
    assert document["auth"] == {HOST: {"username": "AWS", "password": token["password"]}}
    # Until this node's refresh point, 40% to 60% of the 12-hour token's life, less this run's seconds.
    assert 0.4 * 12 * 3600 - 60 <= go_seconds(document["cacheDuration"]) <= 0.6 * 12 * 3600
    assert result.stderr == b""


def test_the_second_pull_is_a_cache_hit(plugin, helper, emulator):
    env = node_env(helper, emulator)
    first = run(plugin, request(), env)
    second = run(plugin, request(image=f"{HOST}/other@sha256:" + "a" * 64), env)
    assert first.returncode == second.returncode == 0
    assert json.loads(first.stdout)["auth"] == json.loads(second.stdout)["auth"]
    assert len(emulator.token_requests()) == 1
    cache = helper.home / ".cache/ecr-credential-provider"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert [stat.S_IMODE(p.stat().st_mode) for p in cache.glob("*.json")] == [0o600]


def test_the_operator_check_as_typed_on_a_microk8s_node(plugin, helper, emulator):
    """The one-liner the README gives, through a shell, with the `get-credentials` argument some set-ups pass."""
    line = ("echo '{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"kind\":\"CredentialProviderRequest\","
            f"\"image\":\"{IMAGE}:latest\"}}' | {plugin} get-credentials")
    result = subprocess.run(["sh", "-c", line], capture_output=True, env=node_env(helper, emulator), timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert list(strict_response(result.stdout.decode(), "v1")["auth"]) == [HOST]


def test_an_empty_environment_caches_under_var_cache(plugin, emulator, tmp_path):
    """`env -i` as under systemd: no HOME, no XDG, no session bus. /var/cache is a private tmpfs here."""
    require("unshare", "apt-get install util-linux")
    credentials = f"AWS_ACCESS_KEY_ID={emulator.key} AWS_SECRET_ACCESS_KEY={emulator.secret} AWS_ENDPOINT_URL_ECR={emulator.url}"
    (tmp_path / "request.json").write_text(request())
    script = f"""
        set -e
        mount -t tmpfs -o mode=0755 tmpfs /var/cache
        for run in 1 2; do
            env -i {credentials} AWS_EC2_METADATA_DISABLED=true {plugin} < {tmp_path}/request.json > {tmp_path}/out.$run 2> {tmp_path}/err.$run
        done
        stat -c '%a %U' /var/cache/ecr-credential-provider > {tmp_path}/mode
        ls /var/cache/ecr-credential-provider > {tmp_path}/files
    """
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for run_number in (1, 2):
        assert (tmp_path / f"err.{run_number}").read_text() == ""
        strict_response((tmp_path / f"out.{run_number}").read_text(), "v1")
    assert (tmp_path / "mode").read_text().split() == ["700", "root"]
    assert any(name.endswith(".json") for name in (tmp_path / "files").read_text().split())
    assert len(emulator.token_requests()) == 1  # the second run was served from /var/cache


def test_no_home_and_not_root_means_no_cache_but_an_answer(plugin, emulator, tmp_path):
    require("setpriv", "apt-get install util-linux")
    if not os.access(plugin, os.X_OK) or os.geteuid() != 0:
        pytest.fail("this test runs the plugin as nobody and needs root to do so")
    copy = tmp_path / "ecr-credential-provider"
    shutil.copy(plugin, copy)
    os.chmod(tmp_path, 0o755)
    env = {"AWS_ACCESS_KEY_ID": emulator.key, "AWS_SECRET_ACCESS_KEY": emulator.secret, "AWS_ENDPOINT_URL_ECR": emulator.url,
           "AWS_EC2_METADATA_DISABLED": "true"}
    for _ in range(2):
        result = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", str(copy)],
                                input=request().encode(), capture_output=True, env=env, timeout=60)
        assert result.returncode == 0, result.stderr.decode()
        strict_response(result.stdout.decode(), "v1")
    assert len(emulator.token_requests()) == 2  # nothing private to cache in: every pull asks


def test_debug_logging_never_reaches_stdout(plugin, helper, emulator):
    result = run(plugin, request(), node_env(helper, emulator, DOCKER_CREDENTIAL_ECR_LOG="debug"))
    assert result.returncode == 0
    strict_response(result.stdout.decode(), "v1")
    stderr = result.stderr.decode()
    assert "ecr-credential-provider: debug:" in stderr and "GetAuthorizationToken: HTTP 200" in stderr
    assert json.loads(result.stdout)["auth"][HOST]["password"] not in stderr


@pytest.mark.parametrize("image", ["docker.io/library/nginx", "ghcr.io/org/app", f"{HOST}:5000/app"])
def test_other_registries_get_a_clear_no(plugin, helper, emulator, image):
    result = run(plugin, request(image=image), node_env(helper, emulator))
    assert (result.returncode, result.stdout) == (1, b"")
    assert "is not an Amazon ECR registry" in result.stderr.decode() and "no credentials given" in result.stderr.decode()
    assert emulator.requests == []


@pytest.mark.parametrize("stdin, message", [
    ("", "standard input is empty"),
    ("{}", "kind is missing"),
    (request(version="v2"), "apiVersion is \"credentialprovider.kubelet.k8s.io/v2\""),
    ('{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1"}', "image is missing"),
])
def test_bad_requests_are_explained(plugin, helper, emulator, stdin, message):
    result = run(plugin, stdin, node_env(helper, emulator))
    assert (result.returncode, result.stdout) == (1, b"")
    assert result.stderr.decode().startswith("ecr-credential-provider: invalid CredentialProviderRequest: ")
    assert message in result.stderr.decode()


def test_access_denied_names_the_node_role_and_the_policies(plugin, helper, emulator):
    env = node_env(helper, emulator, AWS_ACCESS_KEY_ID="AKIADENIED", AWS_SECRET_ACCESS_KEY="denied-secret")
    result = run(plugin, request(), env)
    assert (result.returncode, result.stdout) == (1, b"")
    err = result.stderr.decode()
    assert "ecr:GetAuthorizationToken was denied for arn:aws:iam::123456789012:user/AKIADENIED" in err
    for text in ("AmazonEC2ContainerRegistryPullOnly", "ecr:BatchImportUpstreamImage", "AmazonEC2ContainerRegistryReadOnly"):
        assert text in err
    assert err.count("\n") == 1


def test_no_credentials_on_a_node_off_ec2_fails_fast_and_says_what_was_tried(plugin, helper, silent_port, timing):
    env = {"PATH": "/usr/bin:/bin", "AWS_EC2_METADATA_SERVICE_ENDPOINT": f"http://127.0.0.1:{silent_port}",
           "HOME": str(helper.home)}
    started = time.monotonic()
    result = run(plugin, request(), env)
    elapsed = time.monotonic() - started
    assert (result.returncode, result.stdout) == (1, b"")
    err = result.stderr.decode()
    assert "no AWS credentials in the environment or in" in err and "EC2 instance metadata" in err
    assert elapsed < timing.limit(wait=2)  # far inside the kubelet's one minute


# --- service accounts (Kubernetes 1.33+) ------------------------------------------------------

def jwt(subject: str) -> str:
    import base64

    def part(document):
        return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")
    return f"{part({'alg': 'RS256'})}.{part({'iss': 'https://oidc.example/id/1', 'sub': subject})}.c2lnbmF0dXJl"


def test_an_annotated_service_account_pulls_as_its_role(plugin, helper, emulator):
    token = jwt("system:serviceaccount:shop:frontend")
    emulator.settings(web_identity_token=token)
    env = helper.environment(AWS_ENDPOINT_URL=emulator.url, AWS_ACCESS_KEY_ID="AKIANODE", AWS_SECRET_ACCESS_KEY="not-used")
    role = "arn:aws:iam::123456789012:role/frontend-pull"
    body = request(serviceAccountToken=token, serviceAccountAnnotations={"eks.amazonaws.com/ecr-role-arn": role})
    result = run(plugin, body, env)
    assert result.returncode == 0, result.stderr.decode()
    strict_response(result.stdout.decode(), "v1")
    [sts] = emulator.calls("sts")  # accepted only because it was unsigned and carried the token
    assert (sts["error"], sts["role"], sts["session"]) == (None, role, "shop.frontend")
    [ecr] = emulator.token_requests()
    assert ecr["key"].startswith("ASIAWEB")  # the role's keys, not the node's
    # Cached per role and service account: the same account again asks nobody...
    assert run(plugin, body, env).returncode == 0
    assert len(emulator.calls("sts")) == 1 and len(emulator.token_requests()) == 1
    # ...and the node's own pulls never see that token.
    emulator.emulator.credentials["AKIANODE"] = "node-secret"
    node = run(plugin, request(), helper.environment(AWS_ENDPOINT_URL=emulator.url, AWS_ACCESS_KEY_ID="AKIANODE",
                                                     AWS_SECRET_ACCESS_KEY="node-secret"))
    assert node.returncode == 0, node.stderr.decode()
    assert json.loads(node.stdout)["auth"][HOST]["password"] != json.loads(result.stdout)["auth"][HOST]["password"]
    assert [r["key"] for r in emulator.token_requests()][-1] == "AKIANODE"


def test_a_rejected_service_account_token_is_reported(plugin, helper, emulator):
    env = helper.environment(AWS_ENDPOINT_URL=emulator.url)
    body = request(serviceAccountToken=jwt("system:serviceaccount:a:b"),
                   serviceAccountAnnotations={"eks.amazonaws.com/ecr-role-arn": "arn:aws:iam::123456789012:role/x"})
    result = run(plugin, body, env)
    assert (result.returncode, result.stdout) == (1, b"")
    assert "InvalidIdentityToken" in result.stderr.decode()


# --- the printed configuration ---------------------------------------------------------------

# The kubelet's CredentialProviderConfig (kubelet.config.k8s.io/v1): every field it knows, by type.
PROVIDER_FIELDS = {"name": str, "matchImages": list, "defaultCacheDuration": str, "apiVersion": str, "args": list,
                   "env": list, "tokenAttributes": dict}
TOKEN_ATTRIBUTE_FIELDS = {"serviceAccountTokenAudience": str, "cacheType": str, "requireServiceAccount": bool,
                          "requiredServiceAccountAnnotationKeys": list, "optionalServiceAccountAnnotationKeys": list}
QUALIFIED_NAME = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def check_match_image(pattern: str):
    """As the kubelet validates matchImages: a schemeless URL, wildcards in the host only."""
    assert "://" not in pattern
    host, _, path = pattern.partition("/")
    assert ":" not in host  # no port in these patterns
    for label in host.split("."):
        assert label and re.fullmatch(r"[a-z0-9*-]+", label), pattern
    assert "*" not in path


@pytest.mark.parametrize("arguments", [[], ["--service-account-audience", "sts.amazonaws.com", "--default-cache-duration", "1h30m"]])
def test_the_printed_config_is_one_the_kubelet_accepts(plugin, arguments):
    import yaml
    result = subprocess.run([str(plugin), "config", *arguments], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    document = yaml.safe_load(result.stdout)
    assert list(document) == ["apiVersion", "kind", "providers"]
    assert (document["apiVersion"], document["kind"]) == ("kubelet.config.k8s.io/v1", "CredentialProviderConfig")
    [provider] = document["providers"]
    for field, value in provider.items():
        assert field in PROVIDER_FIELDS and isinstance(value, PROVIDER_FIELDS[field]), field
    assert provider["name"] == plugin.name  # the kubelet runs <bin-dir>/<name>
    assert provider["apiVersion"] == f"{GROUP}/v1"
    assert {"name", "matchImages", "defaultCacheDuration", "apiVersion"} <= set(provider)
    for pattern in provider["matchImages"]:
        check_match_image(pattern)
    expected = "1h30m0s" if arguments else "12h0m0s"
    assert provider["defaultCacheDuration"] == expected and go_seconds(expected) > 0
    if not arguments:
        assert "tokenAttributes" not in provider
        return
    attributes = provider["tokenAttributes"]
    for field, value in attributes.items():
        assert field in TOKEN_ATTRIBUTE_FIELDS and isinstance(value, TOKEN_ATTRIBUTE_FIELDS[field]), field
    assert attributes["serviceAccountTokenAudience"] == "sts.amazonaws.com"
    assert attributes["cacheType"] in ("ServiceAccount", "Token")
    assert attributes["requireServiceAccount"] is False
    assert attributes["optionalServiceAccountAnnotationKeys"] == ["eks.amazonaws.com/ecr-role-arn"]
    assert all(QUALIFIED_NAME.match(key) for key in attributes["optionalServiceAccountAnnotationKeys"])


def test_the_printed_name_is_the_executables_file_name(plugin, tmp_path):
    renamed = tmp_path / "ecr-login-plugin"
    renamed.symlink_to(plugin)
    result = subprocess.run([str(renamed), "config"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and '  - name: "ecr-login-plugin"' in result.stdout


def test_a_docker_helper_cache_setting_does_not_break_pulls(plugin, helper, emulator):
    result = run(plugin, request(), node_env(helper, emulator, DOCKER_CREDENTIAL_ECR_CACHE="keyring-please"))
    assert result.returncode == 0, result.stderr.decode()
    strict_response(result.stdout.decode(), "v1")


def test_control_characters_in_a_request_never_reach_the_log_raw(plugin, helper, emulator):
    image = "\u001b[2Jx\nFAKE kubelet log line"
    result = run(plugin, '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"%s"}' % image,
                 node_env(helper, emulator))
    assert result.returncode == 1
    err = result.stderr.decode()
    assert err.count("\n") == 1 and "\x1b" not in err


def test_service_account_role_must_be_a_role_arn(plugin, helper, emulator):
    body = request(serviceAccountToken=jwt("system:serviceaccount:a:b"),
                   serviceAccountAnnotations={"eks.amazonaws.com/ecr-role-arn": "arn:aws:iam::123456789012:role/r\u0000https://a"})
    result = run(plugin, body, helper.environment(AWS_ENDPOINT_URL=emulator.url))
    assert result.returncode == 1 and "which is not an IAM role ARN" in result.stderr.decode()
    assert emulator.requests == []


def test_config_refuses_a_bad_duration(plugin):
    result = subprocess.run([str(plugin), "config", "--default-cache-duration", "12 hours"], capture_output=True, text=True)
    assert result.returncode != 0 and "is not a duration such as 12h" in result.stderr


def test_help_and_version(plugin):
    help_text = subprocess.run([str(plugin), "--help"], capture_output=True, text=True)
    assert help_text.returncode == 0 and "--image-credential-provider-config" in help_text.stdout
    version = subprocess.run([str(plugin), "version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("ecr-credential-provider ")
