"""Upstream images pulled through an ECR mirror (pull-through cache): the release binaries end to end.

The plugin answers `docker.io/library/...` with the mirror registry's token when the kubelet's
`args` (or the config file) map docker.io to it; `config --mirror` prints a CredentialProviderConfig
the kubelet accepts; `containerd-hosts` writes containerd's hosts.toml. The last test is the whole
path on a node: Debian's containerd and ctr, in a private network and mount namespace, pull
`docker.io/library/app:1` through that hosts.toml from Debian's docker-registry serving TLS at the
ECR host name and accepting only the token, with the password from the plugin's response.
"""
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import HOST, require
from test_kubelet import PROVIDER_FIELDS, check_match_image, node_env, plugin, request, run, strict_response  # noqa: F401

MIRROR = f"docker.io={HOST}/docker-hub"


def test_a_mirrored_upstream_gets_the_mirror_registrys_token(plugin, helper, emulator):
    result = run(plugin, request(image="docker.io/library/app"), node_env(helper, emulator), "--mirror", MIRROR)
    assert result.returncode == 0, result.stderr.decode()
    document = strict_response(result.stdout.decode(), "v1")
    [token] = emulator.token_requests()
    assert token["region"] == "us-west-2"  # HOST's region: the mirror's token
    assert document["auth"] == {"docker.io": {"username": "AWS", "password": token["password"]}}
    assert result.stderr == b""
    # The same token answers the mirror's own images from the cache (one ECR call for both).
    own = run(plugin, request(), node_env(helper, emulator), "get-credentials", f"--mirror={MIRROR}")
    assert own.returncode == 0 and json.loads(own.stdout)["auth"][HOST]["password"] == token["password"]
    assert len(emulator.token_requests()) == 1


def test_mirrors_come_from_the_config_file_too(plugin, helper, emulator):
    config = helper.home / ".config/docker-credential-ecr/config"
    config.parent.mkdir(parents=True)
    config.write_text(f"[mirror quay.io]\ntarget = {HOST}/quay\n")
    result = run(plugin, request(image="quay.io/org/app"), node_env(helper, emulator))
    assert result.returncode == 0, result.stderr.decode()
    assert list(strict_response(result.stdout.decode(), "v1")["auth"]) == ["quay.io"]
    # The kubelet's args and the file together: an upstream in both is refused.
    both = run(plugin, request(image="quay.io/org/app"), node_env(helper, emulator), "--mirror", f"quay.io={HOST}/q2")
    assert (both.returncode, both.stdout) == (1, b"")
    assert "quay.io already has a mirror" in both.stderr.decode() and both.stderr.decode().count("\n") == 1
    # A bad section fails every request with the file and line, mirrored or not.
    config.write_text("[mirror quay.io]\ntarget = quay.example/x\n")
    for image in ("quay.io/org/app", f"{HOST}/app"):
        bad = run(plugin, request(image=image), node_env(helper, emulator))
        assert (bad.returncode, bad.stdout) == (1, b"")
        assert f"{config}:1: [mirror quay.io]: quay.example is not an Amazon ECR private registry" in bad.stderr.decode()


def test_an_upstream_without_a_mirror_is_refused(plugin, helper, emulator):
    result = run(plugin, request(image="quay.io/org/app"), node_env(helper, emulator), "--mirror", MIRROR)
    assert (result.returncode, result.stdout) == (1, b"")
    assert "quay.io is not an Amazon ECR registry" in result.stderr.decode()
    assert emulator.requests == []


@pytest.mark.parametrize("mappings, message", [
    ([f"docker.io=registry.example.com/hub"], "registry.example.com is not an Amazon ECR private registry"),
    ([f"docker.io={HOST}/../x"], 'the prefix "../x" contains ".."'),
    ([MIRROR, f"registry-1.docker.io={HOST}/other"], "docker.io already has a mirror"),
])
def test_bad_mappings_are_refused_at_start_with_one_line(plugin, helper, emulator, mappings, message):
    arguments = [word for mapping in mappings for word in ("--mirror", mapping)]
    result = run(plugin, request(image="docker.io/library/app"), node_env(helper, emulator), *arguments)
    assert (result.returncode, result.stdout) == (1, b"")
    err = result.stderr.decode()
    assert err.startswith("ecr-credential-provider: --mirror ") and message in err and err.count("\n") == 1
    assert emulator.requests == []
    # config and containerd-hosts refuse the same mappings.
    for command in (["config"], ["containerd-hosts", "--dry-run"]):
        refused = subprocess.run([str(plugin), *command, *arguments], capture_output=True, text=True, timeout=30)
        assert refused.returncode != 0 and message in refused.stderr and refused.stdout == ""


def checked_provider(text: str) -> dict:
    """The one provider of a printed CredentialProviderConfig, checked as the kubelet's schema does."""
    [provider] = yaml.safe_load(text)["providers"]
    for field, value in provider.items():
        assert field in PROVIDER_FIELDS and isinstance(value, PROVIDER_FIELDS[field]), field
    for pattern in provider["matchImages"]:
        check_match_image(pattern)
    return provider


def test_the_printed_config_matches_the_upstreams_and_passes_the_mappings(plugin):
    result = subprocess.run([str(plugin), "config", "--mirror", MIRROR, "--mirror", f"quay.io={HOST}/quay"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    provider = checked_provider(result.stdout)
    assert {"docker.io", "index.docker.io", "registry-1.docker.io", "quay.io"} <= set(provider["matchImages"])
    assert "*.dkr.ecr.*.amazonaws.com" in provider["matchImages"]
    assert provider["args"] == ["--mirror", MIRROR, "--mirror", f"quay.io={HOST}/quay"]
    assert all(isinstance(word, str) for word in provider["args"])


# --- discovery: DescribePullThroughCacheRules ------------------------------------------------

RULES = [("docker-hub", "registry-1.docker.io"), ("quay", "quay.io"), ("k8s", "registry.k8s.io"), ("github", "ghcr.io"),
         ("gitlab", "registry.gitlab.com"), ("azure", "myregistry.azurecr.io"), ("ecr-public", "public.ecr.aws"),
         ("ROOT", "210987654321.dkr.ecr.eu-west-1.amazonaws.com")]
DISCOVERED = ["docker.io", "quay.io", "registry.k8s.io", "ghcr.io", "registry.gitlab.com", "myregistry.azurecr.io",
              "public.ecr.aws", "210987654321.dkr.ecr.eu-west-1.amazonaws.com"]


def test_config_reads_every_page_of_the_pull_through_cache_rules(plugin, helper, emulator):
    emulator.settings(pull_through_cache_rules=RULES, rules_page_size=3)
    result = subprocess.run([str(plugin), "config", "--pull-through-cache", HOST, "--mirror", f"quay.io={HOST}/my-quay"],
                            capture_output=True, text=True, timeout=60, env=node_env(helper, emulator))
    assert result.returncode == 0, result.stderr
    provider = checked_provider(result.stdout)
    expected = [f"quay.io={HOST}/my-quay"] + [f"{host}={HOST}/{prefix}" if prefix != "ROOT" else f"{host}={HOST}"
                                              for (prefix, _), host in zip(RULES, DISCOVERED) if host != "quay.io"]
    assert provider["args"] == [word for mapping in expected for word in ("--mirror", mapping)]
    assert set(DISCOVERED) | {"index.docker.io", "registry-1.docker.io"} <= set(provider["matchImages"])
    # The hand-given quay.io mapping kept; the rule for it is reported, not used.
    assert "left out the rule quay -> quay.io" in result.stderr and result.stderr.count("\n") == 1
    pages = emulator.calls("ecr-rules")
    assert [page["error"] for page in pages] == [None, None, None]
    assert [page["next_token"] is None for page in pages] == [True, False, False]
    assert {(page["registry_id"], page["region"], page["key"]) for page in pages} == {("123456789012", "us-west-2", emulator.key)}


def test_containerd_hosts_writes_a_file_per_rule(plugin, helper, emulator, tmp_path):
    emulator.settings(pull_through_cache_rules=RULES[:3], rules_page_size=2)
    directory = tmp_path / "certs.d"
    result = subprocess.run([str(plugin), "containerd-hosts", "--pull-through-cache", HOST, "--dir", str(directory)],
                            capture_output=True, text=True, timeout=60, env=node_env(helper, emulator))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in directory.iterdir()) == ["docker.io", "index.docker.io", "quay.io", "registry-1.docker.io",
                                                            "registry.k8s.io"]
    assert f'server = "https://{HOST}/v2/k8s"' in (directory / "registry.k8s.io/hosts.toml").read_text()
    assert len(emulator.calls("ecr-rules")) == 2


def test_a_denied_discovery_names_the_action(plugin, helper, emulator):
    env = node_env(helper, emulator, AWS_ACCESS_KEY_ID="AKIADENIED", AWS_SECRET_ACCESS_KEY="denied-secret")
    result = subprocess.run([str(plugin), "config", "--pull-through-cache", HOST], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1 and result.stdout == ""
    assert "ecr:DescribePullThroughCacheRules was denied for arn:aws:iam::123456789012:user/AKIADENIED" in result.stderr


# --- containerd-hosts ------------------------------------------------------------------------

def test_containerd_hosts_writes_its_files_and_leaves_others_alone(plugin, tmp_path):
    directory = tmp_path / "certs.d"
    (directory / "ghcr.io").mkdir(parents=True)
    (directory / "ghcr.io/hosts.toml").write_text("theirs\n")
    dry = subprocess.run([str(plugin), "containerd-hosts", "--mirror", MIRROR, "--dir", str(directory), "--dry-run"],
                         capture_output=True, text=True, timeout=30)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith(f"# {directory}/docker.io/hosts.toml\n# Written by ecr-credential-provider containerd-hosts.")
    assert not (directory / "docker.io").exists()
    result = subprocess.run([str(plugin), "containerd-hosts", "--mirror", MIRROR, "--dir", str(directory)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    written = (directory / "docker.io/hosts.toml").read_text()
    assert dry.stdout.split("\n", 1)[1].startswith(written)
    assert f"# {directory}/registry-1.docker.io/hosts.toml\n" in dry.stdout
    assert f'server = "https://{HOST}/v2/docker-hub"' in written and f'[host."https://{HOST}/v2/docker-hub"]' in written
    assert (directory / "docker.io/hosts.toml").stat().st_mode & 0o777 == 0o644
    assert (directory / "ghcr.io/hosts.toml").read_text() == "theirs\n"
    assert sorted(p.name for p in (directory / "docker.io").iterdir()) == ["hosts.toml"]  # no temporary left
    assert result.stdout.startswith(f"wrote {directory}/docker.io/hosts.toml: docker.io -> {HOST}/docker-hub\n")
    for alias in ("index.docker.io", "registry-1.docker.io"):
        assert (directory / alias / "hosts.toml").read_text() == written
    assert "systemctl restart containerd" in result.stdout and f'config_path = "{directory}"' in result.stdout


def test_containerd_hosts_replaces_a_foreign_file_only_with_force(plugin, tmp_path):
    (tmp_path / "docker.io").mkdir()
    foreign = tmp_path / "docker.io/hosts.toml"
    foreign.write_text('server = "https://registry-1.docker.io"\n')
    command = [str(plugin), "containerd-hosts", "--mirror", MIRROR, "--dir", str(tmp_path)]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert refused.returncode == 1 and refused.stdout == ""
    assert f"refusing to replace {foreign}: it was not written by ecr-credential-provider containerd-hosts" in refused.stderr
    assert foreign.read_text() == 'server = "https://registry-1.docker.io"\n'
    forced = subprocess.run([*command, "--force"], capture_output=True, text=True, timeout=30)
    assert forced.returncode == 0, forced.stderr
    assert foreign.read_text().startswith("# Written by ecr-credential-provider containerd-hosts.")


def test_containerd_hosts_fails_when_its_report_cannot_be_written(plugin, tmp_path):
    with open("/dev/full", "w") as full:
        result = subprocess.run([str(plugin), "containerd-hosts", "--mirror", MIRROR, "--dir", str(tmp_path)],
                                stdout=full, stderr=subprocess.PIPE, text=True, timeout=30)
    assert result.returncode == 1 and "standard output" in result.stderr


# --- a real pull through the mirror ----------------------------------------------------------

def make_tls(directory: Path, host: str):
    """A test CA and a certificate for `host` signed by it; returns (ca, certificate, key) paths."""
    openssl = require("openssl", "apt-get install openssl")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    subprocess.run([openssl, "req", "-x509", *ec, "-keyout", directory / "ca.key", "-out", directory / "ca.crt", "-days", "1",
                    "-subj", "/CN=e2e test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign"], check=True, capture_output=True)
    subprocess.run([openssl, "req", *ec, "-keyout", directory / "registry.key", "-out", directory / "registry.csr",
                    "-subj", f"/CN={host}"], check=True, capture_output=True)
    (directory / "san.cnf").write_text(f"subjectAltName=DNS:{host}\n")
    subprocess.run([openssl, "x509", "-req", "-in", directory / "registry.csr", "-CA", directory / "ca.crt",
                    "-CAkey", directory / "ca.key", "-CAcreateserial", "-out", directory / "registry.crt", "-days", "1",
                    "-extfile", directory / "san.cnf"], check=True, capture_output=True)
    return directory / "ca.crt", directory / "registry.crt", directory / "registry.key"


def htpasswd_line(user: str, password: str) -> str:
    """A bcrypt htpasswd entry, the only kind docker-registry reads."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))
    assert hashed and hashed.startswith("$2"), "this Python's crypt cannot make bcrypt hashes"
    return f"{user}:{hashed}\n"


def test_containerd_pulls_docker_hub_images_through_the_ecr_mirror(plugin, helper, emulator, tmp_path):
    for command, package in (("containerd", "containerd"), ("ctr", "containerd"), ("docker-registry", "docker-registry"),
                             ("unshare", "util-linux"), ("ip", "iproute2")):
        require(command, f"apt-get install {package}")
    hosts_dir = tmp_path / "certs.d"
    written = subprocess.run([str(plugin), "containerd-hosts", "--mirror", MIRROR, "--dir", str(hosts_dir)],
                             capture_output=True, text=True, timeout=30)
    assert written.returncode == 0, written.stderr
    # What the kubelet does for `image: app:1`: ask the plugin for docker.io/library/app.
    answer = run(plugin, request(image="docker.io/library/app"), node_env(helper, emulator), "--mirror", MIRROR)
    assert answer.returncode == 0, answer.stderr.decode()
    password = json.loads(answer.stdout)["auth"]["docker.io"]["password"]
    [issued] = emulator.token_requests()
    ca, certificate, key = make_tls(tmp_path, HOST)
    (tmp_path / "htpasswd").write_text(htpasswd_line("AWS", issued["password"]))
    # Wrong within bcrypt's first 72 bytes, which are all it compares.
    wrong = password[:20] + ("A" if password[20] != "A" else "B") + password[21:]
    settings = {
        "work": str(tmp_path), "registry": HOST, "repository": "docker-hub/library/app", "tag": "1",
        "image": "docker.io/library/app:1", "content": "pulled through the ECR mirror\n",
        "aliases": ["registry-1.docker.io/library/app:1", "index.docker.io/library/app:1"],
        "ca": str(ca), "certificate": str(certificate), "key": str(key), "htpasswd": str(tmp_path / "htpasswd"),
        "hosts_dir": str(hosts_dir), "registry_password": issued["password"], "password": password,
        "wrong_password": wrong, "result": str(tmp_path / "result.json"),
    }
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    node = subprocess.run(["unshare", "--net", "--mount", "--propagation", "private", "python3",
                           str(Path(__file__).parent / "containerd_node.py"), str(tmp_path / "settings.json")],
                          capture_output=True, text=True, timeout=300)
    assert node.returncode == 0, node.stderr
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["right"]["returncode"] == 0, result["right"]["stderr"] + result["registry_log"][-3000:]
    assert result["content"] == "pulled through the ECR mirror\n"
    # The wrong token got the registry's 401, and the pull did not go on to Docker Hub.
    assert result["wrong"]["returncode"] != 0
    assert "401 Unauthorized" in result["wrong"]["stderr"], result["wrong"]["stderr"]
    assert result["upstream_connections_after_wrong"] == 0 and result["upstream_connections"] == 0
    # Docker Hub's other names go through the mirror as well (containerd-hosts wrote their files).
    for name, pulled in result["aliases"].items():
        assert pulled["returncode"] == 0, (name, pulled["stderr"])
    # Every request the registry saw was under the mirror's prefix.
    assert "/v2/docker-hub/library/app/manifests/1" in result["registry_log"]
    assert "/v2/library/app" not in result["registry_log"]


def test_a_bad_throttling_budget_keeps_the_plugins_and_says_so(plugin, helper, emulator):
    for value in ("abc", "nan", "301"):
        result = run(plugin, request(image="docker.io/library/app"), node_env(helper, emulator, DOCKER_CREDENTIAL_ECR_THROTTLING_BUDGET=value),
                     "--mirror", MIRROR)
        assert result.returncode == 0, result.stderr.decode()
        assert f"DOCKER_CREDENTIAL_ECR_THROTTLING_BUDGET={value}" in result.stderr.decode()
        assert "keeps trying throttled calls for 50 s" in result.stderr.decode()
