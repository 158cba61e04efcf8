"""Real clients of the helper protocol driving the binary: the docker package, docker CLI, skopeo."""
import json
import subprocess

import pytest

from conftest import HOST, require


def test_python_docker_package_round_trip(helper, emulator, monkeypatch):
    monkeypatch.setenv("PATH", helper.env["PATH"])  # the package looks the program up on this process's PATH
    try:
        import docker.credentials
    except ImportError:
        pytest.fail("the Python docker package is required: pip install docker")
    store = docker.credentials.Store("ecr", environment=helper.environment(**emulator.env()))
    token = store.get(HOST)
    assert token["Username"] == "AWS" and token["Secret"] == emulator.token_requests()[0]["password"]
    store.store("https://registry.example", "me", "hunter2")
    assert store.get("https://registry.example") == {"ServerURL": "https://registry.example", "Username": "me", "Secret": "hunter2"}
    assert store.list() == {HOST: "AWS", "https://registry.example": "me"}
    store.erase("https://registry.example")
    store.erase("https://registry.example")  # absent: still fine
    with pytest.raises(docker.credentials.errors.CredentialsNotFound):
        store.get("https://registry.example")
    with pytest.raises(docker.credentials.errors.CredentialsNotFound):
        store.get("ghcr.io")
    assert store.list() == {HOST: "AWS"}


def docker_config(helper, **config):
    directory = helper.home / ".docker"
    directory.mkdir(exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config))
    return directory


def test_docker_cli_pull_asks_the_helper(helper, emulator):
    docker = require("docker", "apt-get install docker.io")
    docker_config(helper, credHelpers={HOST: "ecr"})
    result = subprocess.run([docker, "pull", f"{HOST}/app:latest"], capture_output=True, text=True, timeout=60,
                            env=helper.environment(DOCKER_HOST="unix:///nonexistent.sock", **emulator.env()))
    assert result.returncode != 0  # there is no engine here
    assert len(emulator.token_requests()) == 1, result.stderr


def test_docker_cli_logout_erases(helper, emulator):
    docker = require("docker", "apt-get install docker.io")
    docker_config(helper, credHelpers={HOST: "ecr", "registry.example": "ecr"})
    helper.get(HOST, **emulator.env())
    assert helper.run("store", stdin=json.dumps({"ServerURL": "registry.example", "Username": "me", "Secret": "pw"})).returncode == 0
    for server in (HOST, "registry.example"):
        result = subprocess.run([docker, "logout", server], capture_output=True, text=True, timeout=60,
                                env=helper.environment(**emulator.env()))
        assert result.returncode == 0, result.stderr
        assert "Removing login credentials" in result.stdout
    assert json.loads(helper.run("list").stdout) == {}
    # Logging out of something never logged into is not an error either.
    result = subprocess.run([docker, "logout", "never.example"], capture_output=True, text=True, timeout=60, env=helper.environment())
    assert result.returncode == 0, result.stderr


def test_skopeo_get_login(helper, emulator):
    skopeo = require("skopeo", "apt-get install skopeo")
    auth = helper.home / ".config/containers/auth.json"
    auth.parent.mkdir(parents=True)
    auth.write_text(json.dumps({"credHelpers": {HOST: "ecr"}}))
    result = subprocess.run([skopeo, "login", "--get-login", HOST], capture_output=True, text=True, timeout=60,
                            env=helper.environment(**emulator.env()))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "AWS"
    assert len(emulator.token_requests()) == 1
    # Without AWS credentials it is "not logged in", with the reason on stderr.
    result = subprocess.run([skopeo, "login", "--get-login", HOST], capture_output=True, text=True, timeout=60,
                            env=helper.environment(XDG_CACHE_HOME=str(helper.home / "empty-cache")))
    assert result.returncode != 0
    assert "not logged in" in result.stderr.lower()
    assert "no AWS credentials" in result.stderr
