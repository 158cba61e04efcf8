"""`ecr-credential-provider doctor`, the node's view, through the release binaries.

Config files in the distributions' JSON form (EKS nodeadm writes /etc/eks/image-credential-provider/config.json),
a bin dir holding the real plugin or a stand-in, and the registry of ecr_node.py at the ECR host name.
"""
import json
import os
import shutil

import pytest

from conftest import HOST
from test_kubelet import plugin  # noqa: F401
from test_pull_check import Node, tls  # noqa: F401

MATCH = ["*.dkr.ecr.*.amazonaws.com"]


def provider(name="ecr-credential-provider", **extra):
    entry = {"name": name, "matchImages": MATCH, "defaultCacheDuration": "12h",
             "apiVersion": "credentialprovider.kubelet.k8s.io/v1"}
    entry.update(extra)
    return entry


def write_config(path, *providers, version="kubelet.config.k8s.io/v1", **extra):
    document = {"apiVersion": version, "kind": "CredentialProviderConfig", "providers": list(providers)}
    document.update(extra)
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def node(tmp_path, tls):  # noqa: F811
    return Node(tmp_path, tls)


@pytest.fixture
def bin_dir(tmp_path, plugin):  # noqa: F811
    directory = tmp_path / "bin"
    directory.mkdir()
    shutil.copy(plugin, directory / "ecr-credential-provider")
    return directory


def node_doctor(node, plugin, config, bin_dir, *images, **registry):  # noqa: F811
    env = {"PATH": "/usr/bin:/bin", "HOME": str(node.tmp_path), "AWS_ACCESS_KEY_ID": "AKIAEMULATOR",
           "AWS_SECRET_ACCESS_KEY": "emulator-secret", "AWS_ENDPOINT_URL_ECR": "{aws}", "AWS_CA_BUNDLE": str(node.ca),
           "AWS_EC2_METADATA_DISABLED": "true"}
    command = {"argv": [str(plugin), "doctor", "--config", str(config), "--bin-dir", str(bin_dir), "--json", *images], "env": env}
    [run] = node.run([command], **registry)["runs"]
    report = json.loads(run["stdout"])
    return run["returncode"], report, {check["name"]: check for check in report["checks"]}


def test_an_eks_node_whose_image_pulls(node, plugin, bin_dir, tmp_path):  # noqa: F811
    config = write_config(tmp_path / "config.json", provider())
    status, report, checks = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1")
    assert status == 0, report
    assert [check["name"] for check in report["checks"]] == ["config", "bin-dir", "match", "provider", "pull"]
    assert checks["match"]["summary"] == f"ecr-credential-provider answers {HOST}/team/app"
    assert checks["provider"]["summary"].startswith(f"{bin_dir}/ecr-credential-provider answered {HOST} for {HOST}/team/app, cacheDuration ")
    assert checks["pull"]["finding"] == "pulls"


def test_a_node_role_without_pull_only(node, plugin, bin_dir, tmp_path):  # noqa: F811
    config = write_config(tmp_path / "config.json", provider())
    status, _, checks = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1",
                                    identity_actions={"AKIAEMULATOR": ["ecr:GetAuthorizationToken"]})
    assert status == 1
    assert (checks["pull"]["finding"], checks["pull"]["action"]) == ("pull-only", "ecr:BatchGetImage")
    assert "AmazonEC2ContainerRegistryPullOnly" in checks["pull"]["hint"]


def test_a_mirrored_upstream_is_followed_to_the_ecr_repository(node, plugin, bin_dir, tmp_path):  # noqa: F811
    config = write_config(tmp_path / "config.json", provider(matchImages=MATCH + ["docker.io"],
                                                             args=["--mirror", f"docker.io={HOST}/docker-hub"]))
    status, report, checks = node_doctor(node, plugin, config, bin_dir, "nginx:1",
                                         rules=[["docker-hub", "registry-1.docker.io"]], upstream={"library/nginx": ["1"]},
                                         identity_actions={"AKIAEMULATOR": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage",
                                                                            "ecr:GetDownloadUrlForLayer"]})
    assert status == 1
    assert checks["provider"]["summary"].startswith(f"{bin_dir}/ecr-credential-provider --mirror docker.io={HOST}/docker-hub answered docker.io")
    assert (checks["pull"]["finding"], checks["pull"]["action"]) == ("pull-through", "ecr:BatchImportUpstreamImage")
    assert f"docker.io is mirrored by {HOST}/docker-hub (--mirror)" in checks["pull"]["details"]


def test_microk8s_with_a_wrong_name(node, plugin, bin_dir, tmp_path):  # noqa: F811
    config = write_config(tmp_path / "config.json", provider(name="ecr-credential-helper"))
    status, _, checks = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1")
    assert status == 1
    assert checks["bin-dir"]["summary"] == f"the kubelet would run {bin_dir}/ecr-credential-helper, which is not an executable file"
    assert "(here: ecr-credential-provider)" in checks["bin-dir"]["hint"]
    assert "provider" not in checks and "pull" not in checks


def test_matchimages_that_miss_the_image(node, plugin, bin_dir, tmp_path):  # noqa: F811
    config = write_config(tmp_path / "config.json", provider(matchImages=["*.dkr.ecr.*.amazonaws.com.cn", "quay.io"]))
    status, _, checks = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1")
    assert status == 1
    assert checks["match"]["summary"] == f"no provider's matchImages covers {HOST}"
    assert checks["match"]["details"] == ["closest: *.dkr.ecr.*.amazonaws.com.cn (ecr-credential-provider)"]
    assert "no basic auth credentials" in checks["match"]["hint"]


@pytest.mark.parametrize("change, field, reason", [
    ({"cacheDuration": "1h"}, "providers[0].cacheDuration", "unknown field"),
    ({"apiVersion": "credentialprovider.kubelet.k8s.io/v2"}, "providers[0].apiVersion", "is not a plugin API this binary speaks"),
    ({"defaultCacheDuration": "12 hours"}, "providers[0].defaultCacheDuration", "is not a duration"),
    ({"matchImages": []}, "providers[0].matchImages", "needs at least one pattern"),
    ({"matchImages": ["https://*.dkr.ecr.*.amazonaws.com:x"]}, "providers[0].matchImages[0]", "not a host[:port][/path] pattern"),
    ({"name": "bin/ecr-credential-provider"}, "providers[0].name", "must be a file name"),
])
def test_config_mistakes_name_the_field(node, plugin, bin_dir, tmp_path, change, field, reason):  # noqa: F811
    config = write_config(tmp_path / "config.json", provider(**change))
    status, report, checks = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1")
    assert status == 1 and [check["name"] for check in report["checks"]] == ["config"]
    assert checks["config"]["summary"].startswith(f"{config}: {field}: ") and reason in checks["config"]["summary"]


def test_an_unknown_config_version_is_refused(node, plugin, bin_dir, tmp_path):  # noqa: F811
    config = write_config(tmp_path / "config.json", provider(), version="kubelet.config.k8s.io/v2")
    status, _, checks = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1")
    assert status == 1 and checks["config"]["summary"].startswith(f"{config}: apiVersion: must be one of kubelet.config.k8s.io/v1")


def test_a_directory_of_configs_with_a_duplicate(node, plugin, bin_dir, tmp_path):  # noqa: F811
    directory = tmp_path / "configs"
    directory.mkdir()
    write_config(directory / "10-ecr.json", provider())
    write_config(directory / "20-ecr.json", provider())
    status, _, checks = node_doctor(node, plugin, directory, bin_dir, f"{HOST}/team/app:1")
    assert status == 1
    assert "the provider ecr-credential-provider is also in" in checks["config"]["summary"]


@pytest.mark.parametrize("output, reason", [
    ('{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry",'
     '"auth":{},"extra":1}', 'unknown field "extra"'),
    ('{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","cacheKeyType":"Registry","auth":{}}',
     "apiVersion credentialprovider.kubelet.k8s.io/v1beta1 is not the configured credentialprovider.kubelet.k8s.io/v1"),
    ("", "it printed nothing"),
])
def test_a_stand_in_whose_response_the_kubelet_refuses(node, plugin, tmp_path, output, reason):  # noqa: F811
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "response").write_text(output)
    stand_in = bin_dir / "ecr-credential-provider"
    stand_in.write_text(f"#!/bin/sh\ncat > {tmp_path}/request\ncat {tmp_path}/response\n")
    os.chmod(stand_in, 0o755)
    config = write_config(tmp_path / "config.json", provider(args=["get-credentials"], env=[{"name": "AWS_REGION", "value": "us-west-2"}]))
    status, _, checks = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1")
    assert status == 1
    assert reason in checks["provider"]["summary"] and "decodes strictly" in checks["provider"]["hint"]
    # The request the kubelet sends: its apiVersion, the image without its tag.
    assert json.loads((tmp_path / "request").read_text()) == {
        "kind": "CredentialProviderRequest", "apiVersion": "credentialprovider.kubelet.k8s.io/v1", "image": f"{HOST}/team/app"}
