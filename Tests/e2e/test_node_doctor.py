"""`ecr-credential-provider doctor`, the node's view, through the release binaries.

Config files in the distributions' forms (EKS nodeadm's JSON at /etc/eks/image-credential-provider/config.json,
kubeadm's and k3s's YAML, MicroK8s's args file), a bin dir holding the real plugin or a stand-in, and the registry
of ecr_node.py at the ECR host name. The distribution tests put the files at their real paths in overlays of /etc
and /var that only the test's namespace sees, and a stand-in kubelet process whose argv carries the flags.
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import HOST
from test_kubelet import plugin  # noqa: F401
from test_pull_check import OTHER_REGION, PULL_FIELDS, USER_ARN, Node, tls  # noqa: F401

MATCH = ["*.dkr.ecr.*.amazonaws.com"]
CHECK_FIELDS = ["name", "status", "summary", "details", "hint"]
AWS_ENV = {"AWS_ACCESS_KEY_ID": "AKIAEMULATOR", "AWS_SECRET_ACCESS_KEY": "emulator-secret", "AWS_ENDPOINT_URL_ECR": "{aws}",
           "AWS_EC2_METADATA_DISABLED": "true"}


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


def node_doctor(node, plugin, config, bin_dir, *images, aws=True, text=False, **registry):  # noqa: F811
    """Runs the doctor (`--config`/`--bin-dir` left out where None); returns (exit status, report, checks by name)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(node.tmp_path), "AWS_CA_BUNDLE": str(node.ca), **(AWS_ENV if aws else {})}
    flags = (["--config", str(config)] if config else []) + (["--bin-dir", str(bin_dir)] if bin_dir else [])
    command = {"argv": [str(plugin), "doctor", *flags, *([] if text else ["--json"]), *images], "env": env}
    [run] = node.run([command], **registry)["runs"]
    if text:
        return run["returncode"], run["stdout"], run["stderr"]
    report = json.loads(run["stdout"])
    assert_schema(report)
    return run["returncode"], report, {check["name"]: check for check in report["checks"]}


def assert_schema(report):
    """The documented schema: {"ok", "checks": [{name, status, summary, details, hint?}]}, the pull check with
    finding, step, httpStatus, errorCode and action; names in the order the kubelet depends on them."""
    assert list(report) == ["ok", "checks"] and report["ok"] == all(c["status"] != "problem" for c in report["checks"])
    names = [check["name"] for check in report["checks"]]
    head = [name for name in names if name in ("flags", "environment", "config", "bin-dir")]
    assert head == [name for name in ("flags", "environment", "config", "bin-dir") if name in names] and names[:len(head)] == head
    assert all(name in ("match", "provider", "pull") for name in names[len(head):])
    for check in report["checks"]:
        fields = PULL_FIELDS if check["name"] == "pull" else CHECK_FIELDS
        assert [key for key in fields if key in check] == list(check) and set(fields) - set(check) <= {"hint"}, check
        assert check["status"] in ("ok", "warning", "problem") and isinstance(check["summary"], str)
        assert all(isinstance(detail, str) for detail in check["details"])
        if check["name"] == "pull":
            assert check["httpStatus"] is None or isinstance(check["httpStatus"], int)


def test_an_eks_node_whose_image_pulls(node, plugin, bin_dir, tmp_path):  # noqa: F811
    config = write_config(tmp_path / "config.json", provider())
    status, report, checks = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1")
    assert status == 0, report
    assert [check["name"] for check in report["checks"]] == ["environment", "config", "bin-dir", "match", "provider", "pull"]
    assert checks["environment"]["summary"] == "the provider runs with this doctor's own environment: no kubelet is running"
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
    assert status == 1 and [check["name"] for check in report["checks"]] == ["environment", "config"]
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


# -- the kubelet's flags, as each distribution sets them --------------------------------------------------------

EKS_DIR = "/etc/eks/image-credential-provider"
PLUGIN_API = "credentialprovider.kubelet.k8s.io/v1"


def yaml_config(name="ecr-credential-provider", version="kubelet.config.k8s.io/v1", extra=""):
    """The config as kubeadm and k3s guides write it: YAML, a quoted pattern, a bare duration."""
    return (f"apiVersion: {version}\nkind: CredentialProviderConfig\nproviders:\n"
            f"  - name: {name}\n    matchImages:\n      - \"*.dkr.ecr.*.amazonaws.com\"\n"
            f"    defaultCacheDuration: 12h\n    apiVersion: {PLUGIN_API}\n{extra}")


def eks_json():
    return json.dumps({"apiVersion": "kubelet.config.k8s.io/v1", "kind": "CredentialProviderConfig", "providers": [provider()]})


def test_eks_nodeadm_flags_from_its_environment_file(node, plugin):  # noqa: F811
    files = {"/etc/eks/kubelet/environment":
             'NODEADM_KUBELET_ARGS="--node-ip=10.0.0.7 --image-credential-provider-bin-dir=/etc/eks/image-credential-provider '
             '--image-credential-provider-config=/etc/eks/image-credential-provider/config.json --hostname-override=ip-10-0-0-7"\n',
             f"{EKS_DIR}/config.json": eks_json()}
    status, report, checks = node_doctor(node, plugin, None, None, f"{HOST}/team/app:1", node_files=files,
                                         node_copies={f"{EKS_DIR}/ecr-credential-provider": str(plugin)})
    assert status == 0, report
    assert checks["flags"]["summary"] == "from /etc/eks/kubelet/environment (EKS nodeadm)"
    assert checks["flags"]["details"] == [f"--image-credential-provider-config={EKS_DIR}/config.json",
                                          f"--image-credential-provider-bin-dir={EKS_DIR}"]
    assert checks["pull"]["finding"] == "pulls"


def test_kubeadm_flags_with_kubelet_extra_args_and_a_yaml_config(node, plugin):  # noqa: F811
    files = {"/var/lib/kubelet/kubeadm-flags.env":
             'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock '
             '--pod-infra-container-image=registry.k8s.io/pause:3.10"\n',
             "/etc/default/kubelet": "KUBELET_EXTRA_ARGS='--image-credential-provider-config /etc/kubernetes/credential-provider.yaml "
                                     "--image-credential-provider-bin-dir /var/lib/kubelet/credential-provider'\n",
             "/etc/kubernetes/credential-provider.yaml": yaml_config()}
    status, report, checks = node_doctor(node, plugin, None, None, f"{HOST}/team/app:1", node_files=files,
                                         node_copies={"/var/lib/kubelet/credential-provider/ecr-credential-provider": str(plugin)})
    assert status == 0, report
    assert checks["flags"]["summary"] == "from /var/lib/kubelet/kubeadm-flags.env and /etc/default/kubelet (kubeadm)"
    assert checks["config"]["summary"] == "1 provider in /etc/kubernetes/credential-provider.yaml"
    assert checks["pull"]["finding"] == "pulls"


def test_k3s_kubelet_args_from_config_yaml_and_a_drop_in(node, plugin):  # noqa: F811
    files = {"/etc/rancher/k3s/config.yaml": "write-kubeconfig-mode: \"0644\"\nkubelet-arg:\n"
                                             "  - \"image-credential-provider-config=/etc/rancher/k3s/credential-provider.yaml\"\n",
             "/etc/rancher/k3s/config.yaml.d/10-ecr.yaml": "kubelet-arg+:\n  - image-credential-provider-bin-dir=/opt/ecr/bin\n",
             "/etc/rancher/k3s/credential-provider.yaml": yaml_config()}
    status, report, checks = node_doctor(node, plugin, None, None, f"{HOST}/team/app:1", node_files=files,
                                         node_copies={"/var/lib/rancher/ecr-credential-provider": str(plugin)},
                                         kubelet={"argv": ["/usr/local/bin/k3s", "agent", "--kubelet-arg=image-credential-provider-bin-dir=/var/lib/rancher"],
                                                  "env": {"PATH": "/usr/bin:/bin", "HOME": "/root", "AWS_CA_BUNDLE": str(node.ca), **AWS_ENV}})
    assert status == 0, report
    # The command line's --kubelet-arg comes after the files' and wins; the config comes from config.yaml.
    assert checks["flags"]["summary"].endswith("with /etc/rancher/k3s/config.yaml, /etc/rancher/k3s/config.yaml.d/10-ecr.yaml (k3s)")
    assert checks["flags"]["details"] == ["--image-credential-provider-config=/etc/rancher/k3s/credential-provider.yaml",
                                          "--image-credential-provider-bin-dir=/var/lib/rancher"]
    assert checks["bin-dir"]["status"] == "ok"


def test_k3s_defaults_without_a_running_k3s(node, plugin):  # noqa: F811
    files = {"/etc/rancher/k3s/config.yaml": "node-name: worker-1\n",
             "/var/lib/rancher/credentialprovider/config.yaml": yaml_config()}
    status, report, checks = node_doctor(node, plugin, None, None, f"{HOST}/team/app:1", node_files=files,
                                         node_copies={"/var/lib/rancher/credentialprovider/bin/ecr-credential-provider": str(plugin)})
    assert status == 0, report
    assert checks["flags"]["summary"] == "from /etc/rancher/k3s/config.yaml (k3s)"
    assert checks["flags"]["details"] == ["--image-credential-provider-config=/var/lib/rancher/credentialprovider/config.yaml",
                                          "--image-credential-provider-bin-dir=/var/lib/rancher/credentialprovider/bin"]


MICROK8S_ARGS = ("--kubeconfig=${SNAP_DATA}/credentials/kubelet.config\n--cert-dir=${SNAP_DATA}/certs\n# credential provider\n"
                 "--image-credential-provider-config=${SNAP_DATA}/args/image-credential-provider-config.yaml\n"
                 "--image-credential-provider-bin-dir ${SNAP_COMMON}/credential-provider\n")


def microk8s_files(name="ecr-credential-provider"):
    return {"/var/snap/microk8s/current/args/kubelet": MICROK8S_ARGS,
            "/var/snap/microk8s/current/args/image-credential-provider-config.yaml": yaml_config(name=name)}


def test_microk8s_through_its_running_kubelite(node, plugin):  # noqa: F811
    kubelite = {"argv": ["/snap/microk8s/7394/kubelite", "--kubelet-args-file=/var/snap/microk8s/7394/args/kubelet"],
                "env": {"PATH": "/usr/bin:/bin", "HOME": "/root", "AWS_CA_BUNDLE": str(node.ca), **AWS_ENV}}
    # The args file named by kubelite's flag (a revision's), the paths in it through ${SNAP_DATA} (current).
    files = {"/var/snap/microk8s/7394/args/kubelet": MICROK8S_ARGS,
             "/var/snap/microk8s/current/args/image-credential-provider-config.yaml": yaml_config()}
    status, report, checks = node_doctor(node, plugin, None, None, f"{HOST}/team/app:1", node_files=files, kubelet=kubelite,
                                         node_copies={"/var/snap/microk8s/common/credential-provider/ecr-credential-provider": str(plugin)})
    assert status == 0, report
    assert checks["flags"]["summary"].startswith("from /var/snap/microk8s/7394/args/kubelet (MicroK8s), read by the running kubelite (pid ")
    assert checks["flags"]["details"][0] == "--image-credential-provider-config=/var/snap/microk8s/current/args/image-credential-provider-config.yaml"


def test_microk8s_with_a_wrong_name_from_its_args_file(node, plugin):  # noqa: F811
    status, report, checks = node_doctor(node, plugin, None, None, f"{HOST}/team/app:1", node_files=microk8s_files("ecr-credential-helper"),
                                         node_copies={"/var/snap/microk8s/common/credential-provider/ecr-credential-provider": str(plugin)})
    assert status == 1
    assert checks["flags"]["summary"] == "from /var/snap/microk8s/current/args/kubelet (MicroK8s)"
    assert checks["bin-dir"]["summary"] == ("the kubelet would run /var/snap/microk8s/common/credential-provider/ecr-credential-helper, "
                                            "which is not an executable file")
    assert "(here: ecr-credential-provider)" in checks["bin-dir"]["hint"]


def test_a_running_kubelet_gives_its_flags_and_its_environment(node, plugin):  # noqa: F811
    """The doctor itself has no AWS credentials: the provider works only with the kubelet's environment."""
    kubelet = {"argv": ["/usr/bin/kubelet", "--config", "/etc/kubernetes/kubelet/config.json",
                        f"--image-credential-provider-config={EKS_DIR}/config.json", "--image-credential-provider-bin-dir", EKS_DIR],
               "env": {"PATH": "/usr/bin:/bin", "HOME": "/root", "AWS_CA_BUNDLE": str(node.ca), **AWS_ENV}}
    status, report, checks = node_doctor(node, plugin, None, None, f"{HOST}/team/app:1", aws=False, kubelet=kubelet,
                                         node_files={f"{EKS_DIR}/config.json": eks_json()},
                                         node_copies={f"{EKS_DIR}/ecr-credential-provider": str(plugin)})
    assert status == 0, report
    assert checks["flags"]["summary"].startswith("from the running kubelet (pid ") and checks["flags"]["summary"].endswith(": /usr/bin/kubelet)")
    assert checks["environment"]["summary"].startswith("the provider runs with the environment of the running kubelet (pid ")
    assert checks["pull"]["finding"] == "pulls"


def test_a_running_kubelet_without_the_flags(node, plugin):  # noqa: F811
    kubelet = {"argv": ["/usr/bin/kubelet", "--config=/var/lib/kubelet/config.yaml"], "env": {"PATH": "/usr/bin:/bin"}}
    status, report, checks = node_doctor(node, plugin, None, None, f"{HOST}/team/app:1", kubelet=kubelet,
                                         node_files={f"{EKS_DIR}/config.json": eks_json()})
    assert status == 1 and [check["name"] for check in report["checks"]] == ["flags", "environment"]
    assert checks["flags"]["summary"].endswith("has no --image-credential-provider-config and --image-credential-provider-bin-dir")
    assert "no basic auth credentials" in checks["flags"]["hint"]


def test_no_flags_anywhere(node, plugin):  # noqa: F811
    status, report, checks = node_doctor(node, plugin, None, None, f"{HOST}/team/app:1", node_files={})
    assert status == 1 and checks["flags"]["summary"] == "no kubelet flags found"
    assert checks["flags"]["details"] == ["looked at: a running kubelet (none in /proc), /etc/eks/kubelet/environment, "
                                          "/var/lib/kubelet/kubeadm-flags.env, /etc/rancher/k3s/config.yaml, "
                                          "/var/snap/microk8s/current/args/kubelet, /etc/eks/image-credential-provider/config.json"]
    assert "give --config and --bin-dir" in checks["flags"]["hint"]


# -- YAML configs and their mistakes ---------------------------------------------------------------------------

@pytest.mark.parametrize("config, field, reason", [
    (yaml_config(extra="    cacheDuration: 1h\n"), "providers[0].cacheDuration", "unknown field"),
    (yaml_config(extra="    name: again\n"), "providers[0].name", "given twice"),
    (yaml_config(version="kubelet.config.k8s.io/v2"), "apiVersion", "must be one of kubelet.config.k8s.io/v1"),
    (yaml_config().replace(PLUGIN_API, "credentialprovider.kubelet.k8s.io/v2"), "providers[0].apiVersion",
     "is not a plugin API this binary speaks"),
    (yaml_config().replace("12h", "12 hours"), "providers[0].defaultCacheDuration", "is not a duration"),
    (yaml_config().replace("12h", "12"), "providers[0].defaultCacheDuration", "must be a string, not 12"),
    (yaml_config(extra="    tokenAttributes:\n      serviceAccountTokenAudience: sts.amazonaws.com\n      requireServiceAccount: true\n"),
     "providers[0].tokenAttributes.cacheType", "must be ServiceAccount or Token"),
    (yaml_config(extra="    tokenAttributes:\n      cacheType: Token\n      requireServiceAccount: false\n"),
     "providers[0].tokenAttributes.serviceAccountTokenAudience", "is required"),
    # YAML 1.1 reads these unquoted as a number and booleans: the kubelet wants strings.
    (yaml_config(name="0x1F"), "providers[0].name", "must be a string, not 31 (quote it: YAML reads it as a number)"),
    (yaml_config(extra="    env: [{name: ON, value: yes}]\n"), "providers[0].env[0].name", "must be a string, not true"),
])
def test_yaml_config_mistakes_name_the_field_and_line(node, plugin, bin_dir, tmp_path, config, field, reason):  # noqa: F811
    path = tmp_path / "credential-provider.yaml"
    path.write_text(config)
    status, report, checks = node_doctor(node, plugin, path, bin_dir, f"{HOST}/team/app:1")
    assert status == 1 and [check["name"] for check in report["checks"]] == ["environment", "config"]
    summary = checks["config"]["summary"]
    assert summary.startswith(f"{path}: {field}: ") and reason in summary, summary
    assert summary.endswith(")") and "(line " in summary, summary


def test_a_yaml_syntax_error_names_its_line(node, plugin, bin_dir, tmp_path):  # noqa: F811
    path = tmp_path / "credential-provider.yaml"
    path.write_text(yaml_config() + "   args: [--mirror\n")
    status, _, checks = node_doctor(node, plugin, path, bin_dir, f"{HOST}/team/app:1")
    assert status == 1
    assert checks["config"]["summary"].startswith(f"{path}: not YAML the kubelet can read: ")
    assert checks["config"]["summary"].endswith("(line 9)")


def test_token_attributes_that_the_kubelet_takes(node, plugin, bin_dir, tmp_path):  # noqa: F811
    path = tmp_path / "credential-provider.yaml"
    path.write_text(yaml_config(extra="    tokenAttributes:\n      serviceAccountTokenAudience: sts.amazonaws.com\n"
                                      "      requireServiceAccount: false\n      cacheType: ServiceAccount\n"))
    status, report, checks = node_doctor(node, plugin, path, bin_dir, f"{HOST}/team/app:1")
    assert status == 0, report
    assert any("Kubernetes 1.33" in detail for detail in checks["bin-dir"]["details"])


def test_a_directory_of_json_and_yaml_merged_in_name_order(node, plugin, bin_dir, tmp_path):  # noqa: F811
    directory = tmp_path / "configs"
    (directory / "99-ignored.json").mkdir(parents=True)
    (directory / "20-other.yaml").write_text(yaml_config(name="other-provider").replace("*.dkr.ecr.*.amazonaws.com", "quay.io"))
    write_config(directory / "10-ecr.json", provider())
    (directory / "README").write_text("not a config")
    status, report, checks = node_doctor(node, plugin, directory, bin_dir, f"{HOST}/team/app:1")
    assert checks["config"]["summary"] == f"2 providers in {directory}/10-ecr.json, {directory}/20-other.yaml"
    assert checks["bin-dir"]["status"] == "problem" and "other-provider" in checks["bin-dir"]["summary"]
    assert checks["pull"]["finding"] == "pulls"


def test_without_libyaml_the_doctor_says_so(node, plugin, bin_dir, tmp_path):  # noqa: F811
    path = tmp_path / "credential-provider.yaml"
    path.write_text(yaml_config())
    library = next(Path(p) for p in ("/usr/lib/x86_64-linux-gnu/libyaml-0.so.2", "/usr/lib/aarch64-linux-gnu/libyaml-0.so.2",
                                     "/usr/lib64/libyaml-0.so.2") if Path(p).exists())
    status, _, checks = node_doctor(node, plugin, path, bin_dir, f"{HOST}/team/app:1", hide=[str(library.resolve())])
    assert status == 1
    summary = checks["config"]["summary"]
    assert summary.startswith(f"{path}: not YAML the kubelet can read: cannot load libyaml (") and \
        summary.endswith("install libyaml-0-2 to read YAML (or give the config as JSON)"), summary


# -- the pull check's rows on the node ------------------------------------------------------------------------

def test_a_kms_key_the_node_role_may_not_use(node, plugin, bin_dir, tmp_path):  # noqa: F811
    config = write_config(tmp_path / "config.json", provider())
    status, _, checks = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1",
                                    repositories={"team/app": {"tags": ["1"], "kms": True}})
    assert status == 1
    assert (checks["pull"]["finding"], checks["pull"]["step"], checks["pull"]["action"]) == ("kms-key", "config-blob", "kms:Decrypt")
    assert "key policy" in checks["pull"]["hint"]


def test_another_action_on_the_node(node, plugin, bin_dir, tmp_path):  # noqa: F811
    config = write_config(tmp_path / "config.json", provider())
    status, _, checks = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1",
                                    repositories={"team/app": {"tags": ["1"], "requires": "ecr:BatchCheckLayerAvailability"}})
    assert status == 1
    assert (checks["pull"]["finding"], checks["pull"]["action"]) == ("other-action", "ecr:BatchCheckLayerAvailability")
    assert checks["pull"]["hint"].startswith(f"{USER_ARN} needs ecr:BatchCheckLayerAvailability on arn:aws:ecr:us-west-2:")


def test_an_index_without_the_node_platform(node, plugin, bin_dir, tmp_path):  # noqa: F811
    config = write_config(tmp_path / "config.json", provider())
    status, _, checks = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1",
                                    repositories={"team/app": {"tags": ["1"], "platforms": ["s390x"]}})
    assert status == 1 and checks["pull"]["finding"] == "no-platform"
    assert "the index lists: linux/s390x" in checks["pull"]["details"]


def test_a_registry_that_stalls_past_the_node_doctor_limit(node, plugin, bin_dir, tmp_path):  # noqa: F811
    config = write_config(tmp_path / "config.json", provider())
    status, _, checks = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1",
                                    repositories={"team/app": {"tags": ["1"], "stall": 8}})
    assert status == 1 and (checks["pull"]["finding"], checks["pull"]["step"]) == ("timeout", "manifest")
    assert "HTTPS_PROXY" in checks["pull"]["hint"]


def test_an_unexpected_status_on_the_node(node, plugin, bin_dir, tmp_path):  # noqa: F811
    config = write_config(tmp_path / "config.json", provider())
    status, _, checks = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1",
                                    repositories={"team/app": {"tags": ["1"], "status": 500}})
    assert status == 1 and (checks["pull"]["finding"], checks["pull"]["httpStatus"]) == ("unexpected", 500)
    assert checks["pull"]["hint"].startswith("a passing failure")


def test_a_provider_fixed_to_another_region(node, plugin, tmp_path):  # noqa: F811
    """A provider that always fetches for eu-central-1 and answers a pattern key: the us-west-2 registry refuses its token."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stand_in = bin_dir / "regional-provider"
    stand_in.write_text(f"#!/bin/sh\nsed 's/{HOST}/{OTHER_REGION}/' | {plugin} | sed 's/\"{OTHER_REGION}\"/\"*.dkr.ecr.*.amazonaws.com\"/'\n")
    os.chmod(stand_in, 0o755)
    config = write_config(tmp_path / "config.json", provider(name="regional-provider"))
    status, _, checks = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1")
    assert status == 1
    assert checks["provider"]["status"] == "ok" and "answered *.dkr.ecr.*.amazonaws.com" in checks["provider"]["summary"]
    pull = checks["pull"]
    assert (pull["finding"], pull["step"], pull["httpStatus"], pull["errorCode"]) == ("token-refused", "registry", 401, "UNAUTHORIZED")
    assert any(detail.startswith("regional-provider answered the key *.dkr.ecr.*.amazonaws.com, a pattern, not "
                                 f"{HOST}: its token is valid only in the region and account it was fetched for") for detail in pull["details"])


def test_an_empty_provider_list_is_refused(node, plugin, bin_dir, tmp_path):  # noqa: F811
    path = tmp_path / "credential-provider.yaml"
    path.write_text("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: []\n")
    status, _, checks = node_doctor(node, plugin, path, bin_dir, f"{HOST}/team/app:1")
    assert status == 1 and checks["config"]["summary"] == f"{path}: providers: needs at least one provider; the kubelet refuses a config without one"


def test_the_plugin_never_opens_libyaml(plugin, tmp_path):  # noqa: F811
    """The kubelet's call loads what a fetch needs (libcurl), never libyaml; the doctor opens it for a YAML config."""
    request = json.dumps({"apiVersion": "credentialprovider.kubelet.k8s.io/v1", "kind": "CredentialProviderRequest",
                          "image": f"{HOST}/team/app"})
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": "AKIAEMULATOR", "AWS_SECRET_ACCESS_KEY": "x",
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL_ECR": "http://127.0.0.1:9", "LD_DEBUG": "files"}
    run = subprocess.run([str(plugin)], input=request, capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 1 and "file=libcurl" in run.stderr and "libyaml" not in run.stderr
    path = tmp_path / "c.yaml"
    path.write_text("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: []\n")
    run = subprocess.run([str(plugin), "doctor", "--config", str(path), "--bin-dir", str(tmp_path), "x"], capture_output=True,
                         text=True, env=env, timeout=60)
    assert "file=libyaml-0.so.2" in run.stderr


# -- a hostile node: processes, files and providers that are not what they seem ---------------------------------

def evil_node_files(tmp_path, directory="/var/lib/evil"):
    """A config and a stand-in provider that, if ever run, leaves a mark in tmp_path."""
    return {f"{directory}/config.json": eks_json(),
            f"{directory}/bin/ecr-credential-provider": f"#!/bin/sh\ntouch {tmp_path}/provider-ran\nexit 1\n"}


@pytest.mark.parametrize("who, why", [
    ({"user": 65534}, "its real uid is 65534, not root"),
    ({"exe_owner": 65534}, "is owned by uid 65534, not root"),
])
def test_a_process_named_kubelet_that_root_does_not_run_is_ignored(node, plugin, tmp_path, who, why):  # noqa: F811
    """Anyone can name a process kubelet: its flags would make root's doctor run their program with their LD_PRELOAD."""
    kubelet = {"argv": ["kubelet", "--image-credential-provider-config=/var/lib/evil/config.json",
                        "--image-credential-provider-bin-dir", "/var/lib/evil/bin"],
               "env": {"PATH": "/usr/bin:/bin", "LD_PRELOAD": "/var/lib/evil/nothing.so", "AWS_SECRET_ACCESS_KEY": "from-the-fake-kubelet"},
               **who}
    files = evil_node_files(tmp_path)
    status, report, checks = node_doctor(node, plugin, None, None, f"{HOST}/team/app:1", kubelet=kubelet, node_files=files,
                                         node_modes={"/var/lib/evil/bin/ecr-credential-provider": "755"})
    assert status == 1 and checks["flags"]["summary"] == "no kubelet flags found", report
    ignored = [detail for detail in checks["flags"]["details"] if detail.startswith("ignored, as not the kubelet root runs: pid ")]
    assert len(ignored) == 1 and "(kubelet): " in ignored[0] and why in ignored[0], checks["flags"]["details"]
    assert checks["environment"]["summary"] == "the provider runs with this doctor's own environment: no kubelet that root runs is running"
    assert not (tmp_path / "provider-ran").exists()


@pytest.mark.parametrize("owned, shown, check", [
    (f"{EKS_DIR}/ecr-credential-provider", f"{EKS_DIR}/ecr-credential-provider", "bin-dir"),
    (f"{EKS_DIR}/config.json", f"{EKS_DIR}/config.json", "config"),
    (EKS_DIR, f"{EKS_DIR} (above {EKS_DIR}/config.json)", "config"),
])
def test_a_discovered_provider_another_user_can_change_is_not_run(node, plugin, tmp_path, owned, shown, check):  # noqa: F811
    """The kubelet runs providers as root: one that uid 65534 can rewrite is the problem, and the doctor does not run it."""
    files = {"/etc/eks/kubelet/environment": f'NODEADM_KUBELET_ARGS="--image-credential-provider-bin-dir={EKS_DIR} '
                                             f'--image-credential-provider-config={EKS_DIR}/config.json"\n',
             f"{EKS_DIR}/config.json": eks_json(),
             f"{EKS_DIR}/ecr-credential-provider": f"#!/bin/sh\ntouch {tmp_path}/provider-ran\nexit 1\n"}
    status, report, checks = node_doctor(node, plugin, None, None, f"{HOST}/team/app:1", node_files=files,
                                         node_modes={f"{EKS_DIR}/ecr-credential-provider": "755"}, node_owners={owned: 65534})
    assert status == 1, report
    assert checks[check]["status"] == "problem"
    assert checks[check]["summary"] == f"{shown} is writable by uid 65534: anyone who can write it runs code as root at every pull", checks[check]
    assert "provider" not in checks and not (tmp_path / "provider-ran").exists()


def stand_in(tmp_path, script, **extra):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "ecr-credential-provider"
    program.write_text("#!/bin/sh\n" + script)
    os.chmod(program, 0o755)
    return write_config(tmp_path / "config.json", provider(**extra)), bin_dir


def test_a_failing_providers_stderr_shows_no_secret_it_was_given(node, plugin, tmp_path):  # noqa: F811
    token = "ghp_0123456789abcdefghijABCDEFGHIJ"
    config, bin_dir = stand_in(tmp_path, 'echo "key=$AWS_SECRET_ACCESS_KEY token=$GITHUB_TOKEN half=$(echo $GITHUB_TOKEN | cut -c1-17)" >&2\n'
                                         "exit 3\n", env=[{"name": "GITHUB_TOKEN", "value": token}])
    status, report, checks = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1")
    assert status == 1 and checks["provider"]["summary"].endswith("exited with status 3")
    assert checks["provider"]["details"] == ["key=<redacted> token=<redacted> half=<redacted>"], checks["provider"]
    _, text, _ = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1", text=True)
    assert "emulator-secret" not in text and token[:16] not in text and "key=<redacted>" in text


@pytest.mark.parametrize("script, summary, hint", [
    ("kill -SEGV $$\n", "was killed by signal 11 (SIGSEGV)", "crashed"),
    ("cat >/dev/null\necho '{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\","
     "\"cacheKeyType\":\"Registry\",\"auth\":{},\"auth\":{}}'\n", 'the key "auth" appears twice', "decodes strictly"),
    ("cat >/dev/null\necho '{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\","
     "\"cacheKeyType\":\"Registry\",\"auth\":{\"example.com\":{\"username\":\"AWS\",\"password\":\"x\"}}}'\n",
     "the kubelet would find no credentials in the response", "anonymously"),
])
def test_a_provider_that_crashes_repeats_a_key_or_answers_for_another_registry(node, plugin, tmp_path, script, summary, hint):  # noqa: F811
    config, bin_dir = stand_in(tmp_path, script)
    status, _, checks = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1")
    assert status == 1
    assert summary in checks["provider"]["summary"] and hint in checks["provider"]["hint"], checks["provider"]
    assert "refuse" not in checks["provider"]["summary"] or "twice" in summary


def test_a_registry_echoing_the_token_to_the_node_doctor_learns_nothing(node, plugin, bin_dir, tmp_path):  # noqa: F811
    config = write_config(tmp_path / "config.json", provider())
    status, report, checks = node_doctor(node, plugin, config, bin_dir, f"{HOST}/team/app:1",
                                         repositories={"team/app": {"tags": ["1"], "hostile": "echo"}})
    assert status == 1 and checks["pull"]["finding"] == "pull-only"
    assert "raw=<redacted> basic=<redacted> b64=<redacted> half=<redacted> key=<redacted>" in checks["pull"]["summary"], checks["pull"]


DEEP = "[" * 100000 + "]" * 100000


def test_deeply_nested_yaml_is_refused_at_256_levels(node, plugin, bin_dir, tmp_path):  # noqa: F811
    path = tmp_path / "credential-provider.yaml"
    path.write_text("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: " + DEEP + "\n")
    status, _, checks = node_doctor(node, plugin, path, bin_dir, f"{HOST}/team/app:1")
    assert status == 1
    assert "nested more than 256 levels deep" in checks["config"]["summary"], checks["config"]


def test_deeply_nested_k3s_config_is_named_in_the_flags(node, plugin):  # noqa: F811
    status, report, checks = node_doctor(node, plugin, None, None, f"{HOST}/team/app:1",
                                         node_files={"/etc/rancher/k3s/config.yaml": "kubelet-arg: " + DEEP + "\n"})
    assert status == 1 and checks["flags"]["status"] == "problem", report
    assert "unreadable: /etc/rancher/k3s/config.yaml: line 1: nested more than 256 levels deep" in checks["flags"]["details"], checks["flags"]


def test_microk8s_expands_snap_variables_by_name_only(node, plugin):  # noqa: F811
    files = {"/var/snap/microk8s/current/args/kubelet": "--image-credential-provider-config=${SNAP_DATA}/args/c.yaml\n"
                                                        "--image-credential-provider-bin-dir $SNAP_COMMONX/bin\n"}
    _, _, checks = node_doctor(node, plugin, None, None, f"{HOST}/team/app:1", node_files=files)
    assert checks["flags"]["details"] == ["--image-credential-provider-config=/var/snap/microk8s/current/args/c.yaml",
                                          "--image-credential-provider-bin-dir=$SNAP_COMMONX/bin"], checks["flags"]
