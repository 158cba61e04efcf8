"""`docker-credential-ecr configure` on real-world config files, then docker and skopeo using them."""
import json
import os
import stat
import subprocess

import pytest

from conftest import HOST, require

OTHER = "210987654321.dkr.ecr.eu-west-1.amazonaws.com"

# What people's files look like: a desktop credsStore, inline auths, proxies, keys this tool does
# not know, and formatting docker never wrote.
REAL_WORLD = """{
  "auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz"}, "https://index.docker.io/v1/": {}},
    "credsStore":"desktop",
  "currentContext": "colima",
  "proxies": {"default": {"httpProxy": "http://proxy:3128", "noProxy": "*.internal"}},
  "plugins": {"-x-cli-hints": {"enabled": "true"}},
  "numbers": [1, 2.50, -3e2],
  "unicode": "caf\\u00e9 \\ud83d\\ude80"
}
"""


def configure(helper, *arguments, **extra):
    result = helper.run("configure", *arguments, **extra)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def config_path(helper):
    return helper.home / ".docker/config.json"


def write_config(helper, text, mode=0o600):
    path = config_path(helper)
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_adds_entries_and_keeps_everything_else_in_order(helper):
    path = write_config(helper, REAL_WORLD, mode=0o640)
    status, out, err = configure(helper, HOST, "--account", "210987654321", "--region", "eu-west-1", "--public")
    assert status == 0, err
    document = json.loads(path.read_text())
    original = json.loads(REAL_WORLD)
    assert list(document) == list(original) + ["credHelpers"]  # every key, in its order, the new one last
    for key, value in original.items():
        assert document[key] == value
    assert document["credHelpers"] == {HOST: "ecr", OTHER: "ecr", "public.ecr.aws": "ecr"}
    assert "2.50" in path.read_text() and "-3e2" in path.read_text()  # numbers as written
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # the mode is kept
    backup = path.with_name("config.json.bak")
    assert backup.read_text() == REAL_WORLD and stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert f"add credHelpers {HOST}" in out and f"the previous content is in {backup}" in out
    assert "credsStore names desktop: registries without a credHelpers entry still use it" in out


def test_is_idempotent_and_remove_undoes_exactly_what_it_added(helper):
    path = write_config(helper, REAL_WORLD)
    assert configure(helper, HOST, "--public")[0] == 0
    after_first = path.read_text()
    status, out, _ = configure(helper, HOST, "--public")
    assert status == 0 and "already set up; nothing changed" in out
    assert path.read_text() == after_first
    status, out, _ = configure(helper, "--remove")
    assert status == 0 and f"remove credHelpers {HOST}" in out
    assert json.loads(path.read_text()) == json.loads(REAL_WORLD)
    assert configure(helper, "--remove")[1].endswith("nothing of this helper's to remove; nothing changed\n")


def test_remove_leaves_entries_of_other_helpers(helper):
    write_config(helper, json.dumps({"credHelpers": {HOST: "ecr-login", OTHER: "ecr"}}))
    status, out, _ = configure(helper, "--remove", HOST, OTHER)
    assert status == 0
    assert json.loads(config_path(helper).read_text()) == {"credHelpers": {HOST: "ecr-login"}}
    assert 'credHelpers %s names "ecr-login", not ecr; left as it is' % HOST in out


def test_replacing_the_aws_helper_says_so(helper):
    write_config(helper, json.dumps({"credHelpers": {HOST: "ecr-login"}}))
    status, out, _ = configure(helper, HOST)
    assert status == 0 and f'credHelpers {HOST} named "ecr-login"; it now names ecr' in out
    assert json.loads(config_path(helper).read_text()) == {"credHelpers": {HOST: "ecr"}}


def test_dry_run_changes_nothing(helper):
    path = write_config(helper, REAL_WORLD)
    status, out, _ = configure(helper, HOST, "--dry-run")
    assert status == 0
    assert path.read_text() == REAL_WORLD and not path.with_name("config.json.bak").exists()
    assert f"would add credHelpers {HOST}" in out
    marker = "the file would read (secrets left out):\n"
    printed = out[out.index(marker) + len(marker):]
    assert json.loads(printed)["credHelpers"] == {HOST: "ecr"}


def test_a_missing_file_is_created_privately(helper):
    status, out, err = configure(helper, HOST, umask=0)
    assert status == 0, err
    path = config_path(helper)
    assert json.loads(path.read_text()) == {"credHelpers": {HOST: "ecr"}}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not path.with_name("config.json.bak").exists()


def test_the_registry_option_is_the_same_as_an_argument(helper):
    status, _, err = configure(helper, "--registry", HOST, "--registry", OTHER)
    assert status == 0, err
    assert json.loads(config_path(helper).read_text()) == {"credHelpers": {HOST: "ecr", OTHER: "ecr"}}


def test_docker_config_variable_is_honoured(helper, tmp_path):
    directory = tmp_path / "elsewhere"
    status, _, err = configure(helper, HOST, DOCKER_CONFIG=str(directory))
    assert status == 0, err
    assert json.loads((directory / "config.json").read_text()) == {"credHelpers": {HOST: "ecr"}}


def test_a_symlinked_config_is_written_through_the_link(helper):
    dotfiles = helper.home / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "docker-config.json"
    target.write_text(REAL_WORLD)
    (helper.home / ".docker").mkdir()
    config_path(helper).symlink_to(target)
    status, _, err = configure(helper, HOST)
    assert status == 0, err
    assert config_path(helper).is_symlink()  # the link stays, the dotfile changes
    assert json.loads(target.read_text())["credHelpers"] == {HOST: "ecr"}


def test_a_read_only_file_is_refused(helper):
    path = write_config(helper, REAL_WORLD, mode=0o444)
    status, _, err = configure(helper, HOST)
    assert status == 1
    assert err == f"docker-credential-ecr configure: {path}: it is read-only (mode 444); not changing it\n"
    assert path.read_text() == REAL_WORLD


@pytest.mark.parametrize("text, position", [
    ('{\n  "auths": {},\n  "credsStore": "desktop"\n  "x": 1\n}\n', "line 4, column 3"),
    ('{"auths": {}', "line 1, column 13"),
    ("", None),  # empty: treated as no file
])
def test_an_unparseable_file_is_refused_with_its_position(helper, text, position):
    path = write_config(helper, text)
    status, _, err = configure(helper, HOST)
    if position is None:
        assert status == 0
        return
    assert status == 1
    assert err.startswith(f"docker-credential-ecr configure: {path}: {position}: ")
    assert "it is not valid JSON, so it was not changed" in err
    assert path.read_text() == text


NOT_UTF8 = "; JSON files must be UTF-8"
HALF_A_PAIR = " is half of a UTF-16 surrogate pair without its other half"


@pytest.mark.parametrize("raw, position, reason", [
    # Latin-1 text: once read as U+FFFD, a rewrite (and a second one, over the .bak) loses the byte.
    (b'{"x":"caf\xe9"}\n', "line 1, column 10", "the byte 0xE9 is not UTF-8" + NOT_UTF8),
    (b'{\n\t"\xc3\xa9": "\xed\xa0\x80"\n}\n', "line 2, column 8",
     "the bytes 0xED 0xA0 0x80 are not UTF-8 (they encode U+D800, half of a UTF-16 surrogate pair)" + NOT_UTF8),
    (b'{"x":"\\ud800"}\n', "line 1, column 7", "\\ud800" + HALF_A_PAIR),
    (b'{"x":"\\ud800\\u0041"}\n', "line 1, column 7", "\\ud800" + HALF_A_PAIR),
    (b'{"x":"\\udc00"}\n', "line 1, column 7", "\\udc00" + HALF_A_PAIR),
])
def test_text_that_is_not_utf8_is_refused_and_left_byte_for_byte(helper, raw, position, reason):
    path = config_path(helper)
    path.parent.mkdir()
    path.write_bytes(raw)
    os.chmod(path, 0o600)
    for _ in range(2):  # the second run would have replaced the .bak too
        status, out, err = configure(helper, HOST)
        assert (status, out) == (1, "")
        assert err.startswith(f"docker-credential-ecr configure: {path}: {position}: {reason}; ")
        assert "it is not valid JSON, so it was not changed" in err
        assert path.read_bytes() == raw
        assert not path.with_name("config.json.bak").exists()


def test_every_utf8_text_and_escaped_pair_is_kept(helper):
    raw = '{"x": "caf\u00e9 \\ud83d\\ude00", "\u00e9\u0800\U00010000\U0010ffff": "\U0001f680"}'.encode()
    path = config_path(helper)
    path.parent.mkdir()
    path.write_bytes(raw)
    status, _, err = configure(helper, HOST)
    assert status == 0, err
    document = json.loads(path.read_bytes())
    assert document["x"] == "caf\u00e9 \U0001f600"
    assert document["\u00e9\u0800\U00010000\U0010ffff"] == "\U0001f680"
    assert path.with_name("config.json.bak").read_bytes() == raw


def test_concurrent_runs_keep_every_entry(helper):
    write_config(helper, "{}")
    registries = [f"1234567890{n:02d}.dkr.ecr.us-east-1.amazonaws.com" for n in range(12)]
    runs = [subprocess.Popen([str(helper.binary), "configure", host], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env=helper.environment()) for host in registries]
    for run in runs:
        assert run.wait(timeout=60) == 0, run.stderr.read()
    assert sorted(json.loads(config_path(helper).read_text())["credHelpers"]) == registries


def test_dry_run_never_prints_a_secret(helper):
    write_config(helper, json.dumps({"auths": {"ghcr.io": {"auth": "dXNlcjpTVVBFUlNFQ1JFVA=="}, "x.io": {"identitytoken": "IDTOKSECRET"}},
                                     "proxies": {"default": {"httpProxy": "http://u:PROXYPASS@p:3128"}}}))
    status, out, _ = configure(helper, "--creds-store", "--dry-run")
    assert status == 0
    for secret in ("dXNlcjpTVVBFUlNFQ1JFVA", "IDTOKSECRET", "PROXYPASS"):
        assert secret not in out
    assert '"auth": "<redacted>"' in out and "http://u:<redacted>@p:3128" in out


def test_repeated_keys_are_refused_rather_than_merged_away(helper):
    text = '{"auths": {"a.io": {"auth": "YTpi"}},\n "auths": {"b.io": {"auth": "YzpkCg=="}}}\n'
    path = write_config(helper, text)
    status, _, err = configure(helper, HOST)
    assert status == 1 and 'line 2, column 2: the key "auths" appears twice in this object; keep one' in err
    assert path.read_text() == text


def test_a_dangling_link_is_not_followed_into_a_new_file(helper, tmp_path):
    (helper.home / ".docker").mkdir()
    config_path(helper).symlink_to(tmp_path / "nowhere" / "config.json")
    status, _, err = configure(helper, HOST)
    assert status == 1 and "which does not exist; not creating it" in err
    assert not (tmp_path / "nowhere").exists()


def test_a_hard_linked_file_is_refused(helper, tmp_path):
    path = write_config(helper, REAL_WORLD)
    os.link(path, tmp_path / "other-name.json")
    status, _, err = configure(helper, HOST)
    assert status == 1 and "it has 2 hard links" in err
    assert path.read_text() == REAL_WORLD


def test_not_an_ecr_host_gets_the_nearest_form(helper):
    status, _, err = configure(helper, "123456789012.dkr.ecr.us-east-1")
    assert status == 1
    assert 'is not an ECR registry host; did you mean 123456789012.dkr.ecr.us-east-1.amazonaws.com?' in err
    assert not config_path(helper).exists()


def test_creds_store_says_what_happens_to_inline_logins(helper):
    write_config(helper, json.dumps({"auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz"}}}))
    status, out, _ = configure(helper, "--creds-store")
    assert status == 0
    assert json.loads(config_path(helper).read_text())["credsStore"] == "ecr"
    assert "the logins kept in the file for ghcr.io are no longer used" in out


def test_many_entries_warn_about_the_classic_builder(helper):
    registries = [f"1234567890{n:02d}.dkr.ecr.us-east-1.amazonaws.com" for n in range(11)]
    status, out, _ = configure(helper, *registries)
    assert status == 0 and "credHelpers has 11 entries: the classic builder (DOCKER_BUILDKIT=0)" in out


def test_discover_uses_the_current_identity(helper, moto):
    key, secret = moto.users["puller"]
    status, out, err = configure(helper, "--discover", AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
                                 AWS_ENDPOINT_URL=moto.url, AWS_REGION="eu-west-1")
    assert status == 0, err
    assert "AWS identity arn:aws:iam::123456789012:user/puller: account 123456789012" in out
    assert json.loads(config_path(helper).read_text())["credHelpers"] == {
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com": "ecr", "public.ecr.aws": "ecr"}


def test_podman_auth_file(helper):
    status, _, err = configure(helper, HOST, "--podman")
    assert status == 0, err
    assert json.loads((helper.home / ".config/containers/auth.json").read_text()) == {"credHelpers": {HOST: "ecr"}}
    assert not config_path(helper).exists()


def test_docker_finds_the_helper_through_the_entry_configure_wrote(helper, emulator):
    docker = require("docker", "apt-get install docker.io")
    assert configure(helper, HOST)[0] == 0
    result = subprocess.run([docker, "pull", f"{HOST}/app:latest"], capture_output=True, text=True, timeout=60,
                            env=helper.environment(DOCKER_HOST="unix:///nonexistent.sock", **emulator.env()))
    assert result.returncode != 0  # there is no engine here...
    assert len(emulator.token_requests()) == 1, result.stderr  # ...but docker asked the helper first


def test_skopeo_finds_the_helper_through_the_podman_entry(helper, emulator):
    skopeo = require("skopeo", "apt-get install skopeo")
    assert configure(helper, HOST, "--podman")[0] == 0
    result = subprocess.run([skopeo, "login", "--get-login", HOST], capture_output=True, text=True, timeout=60,
                            env=helper.environment(**emulator.env()))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "AWS"
