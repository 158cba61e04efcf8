"""What scripts/package makes from the release build: the tarball, its checksums, the Debian package.

The last test installs the package system-wide with dpkg (it needs root), runs what it installed,
removes it again and checks that nothing is left behind; it refuses to touch a machine where the
package or any of its files is already installed.
"""
import gzip
import os
import re
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from conftest import REPOSITORY, require
from test_release import RELEASE, built_executables

PACKAGE = "docker-credential-ecr"


def run(*command, **options) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=600, **options)


@pytest.fixture(scope="module")
def release():
    """The built executables' names, and the version and commit the release binary prints."""
    line = run(RELEASE / "docker-credential-ecr", "version").stdout
    found = re.fullmatch(r"docker-credential-ecr (\S+) \((.+)\)\n", line)
    assert found, line
    return {"names": [path.name for path in built_executables()], "version": found.group(1),
            "commit": found.group(2), "line": line, "arch": run("dpkg", "--print-architecture").stdout.strip()}


@pytest.fixture(scope="module")
def dist(tmp_path_factory, release) -> Path:
    """scripts/package --no-build, into a private output directory."""
    require("dpkg-deb", "apt-get install dpkg")
    require("dpkg-shlibdeps", "apt-get install dpkg-dev (or ./install --dev)")
    output = tmp_path_factory.mktemp("dist")
    made = run(REPOSITORY / "scripts/package", "--no-build", "--output", output)
    assert made.returncode == 0, made.stdout + made.stderr
    return output


def tarball_name(release) -> str:
    return f"{PACKAGE}-{release['version']}-linux-{release['arch']}"


def deb_path(dist, release) -> Path:
    return dist / f"{PACKAGE}_{release['version']}_{release['arch']}.deb"


def man_page_footer(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith((".Os", ".TH")))


def test_the_checksums_cover_both_files_and_match(dist, release):
    listed = sorted(line.split()[1] for line in (dist / "SHA256SUMS").read_text().splitlines())
    assert listed == sorted([tarball_name(release) + ".tar.gz", deb_path(dist, release).name])
    checked = run("sha256sum", "--check", "--strict", "SHA256SUMS", cwd=dist)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_tarball_holds_the_executables_man_pages_completions_readme_and_license(dist, release, tmp_path):
    top = tarball_name(release)
    with tarfile.open(dist / f"{top}.tar.gz") as archive:
        members = {member.name: member for member in archive.getmembers()}
        assert all(name == top or name.startswith(top + "/") for name in members)
        assert all(member.uid == 0 and member.gid == 0 for member in members.values())
        archive.extractall(tmp_path, **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))
    root = tmp_path / top
    for name in release["names"]:
        assert members[f"{top}/bin/{name}"].mode == 0o755
    for name in ("README.md", "LICENSE"):
        assert (root / name).read_bytes() == (REPOSITORY / name).read_bytes()
    page = (root / "share/man/man1/docker-credential-ecr.1").read_text()
    assert man_page_footer(page) == f".Os docker-credential-ecr {release['version']}"
    bash = (root / "share/bash-completion/completions/docker-credential-ecr").read_text()
    assert re.search(r"^complete .*-F \S+ docker-credential-ecr$", bash, re.M) and not bash.startswith("#!")
    assert (root / "share/zsh/site-functions/_docker-credential-ecr").read_text().startswith("#compdef docker-credential-ecr")
    assert "complete -c 'docker-credential-ecr'" in (root / "share/fish/vendor_completions.d/docker-credential-ecr.fish").read_text()
    # Extracting it is the whole install: the binary runs from there and says what it is.
    assert run(root / "bin/docker-credential-ecr", "version").stdout == release["line"]


def test_the_debian_package_declares_itself_and_its_dependencies(dist, release):
    deb = deb_path(dist, release)
    fields = {name: run("dpkg-deb", "--field", deb, name).stdout.strip()
              for name in ("Package", "Version", "Architecture", "Depends", "Recommends", "Maintainer")}
    assert (fields["Package"], fields["Version"], fields["Architecture"]) == (PACKAGE, release["version"], release["arch"])
    depends = [alternative.strip() for alternative in fields["Depends"].split(",")]
    libc = next(entry for entry in depends if entry.startswith("libc6 "))
    assert tuple(map(int, re.search(r">= ([0-9.]+)", libc).group(1).split("."))) <= (2, 34), libc
    assert "libcurl4 | libcurl3-gnutls" in depends
    recommends = [name.strip() for name in fields["Recommends"].split(",")]
    assert {"libsecret-1-0", "ca-certificates", "libyaml-0-2"} <= set(recommends), recommends
    assert re.fullmatch(r".+ <[^@\s]+@[^@\s]+>", fields["Maintainer"])


def test_the_debian_package_installs_into_the_standard_places(dist, release, tmp_path):
    deb = deb_path(dist, release)
    listing = run("dpkg-deb", "--contents", deb).stdout
    paths = {line.split()[-1].removeprefix(".") for line in listing.splitlines()}
    for name in release["names"]:
        assert f"/usr/bin/{name}" in paths
    assert {"/usr/share/man/man1/docker-credential-ecr.1.gz",
            "/usr/share/bash-completion/completions/docker-credential-ecr",
            "/usr/share/zsh/vendor-completions/_docker-credential-ecr",
            "/usr/share/fish/vendor_completions.d/docker-credential-ecr.fish",
            f"/usr/share/doc/{PACKAGE}/copyright", f"/usr/share/doc/{PACKAGE}/changelog.gz"} <= paths
    assert run("dpkg-deb", "--extract", deb, tmp_path).returncode == 0
    doc = tmp_path / "usr/share/doc" / PACKAGE
    assert (doc / "copyright").read_bytes() == (REPOSITORY / "packaging/debian/copyright").read_bytes()
    changelog = gzip.decompress((doc / "changelog.gz").read_bytes()).decode()
    assert changelog.startswith(f"{PACKAGE} ({release['version']}) unstable; urgency=medium\n")
    assert f"built from commit {release['commit']}." in changelog
    page = gzip.decompress((tmp_path / "usr/share/man/man1/docker-credential-ecr.1.gz").read_bytes()).decode()
    assert man_page_footer(page) == f".Os docker-credential-ecr {release['version']}"


def test_lintian_reports_no_errors(dist, release):
    lintian = require("lintian", "apt-get install lintian (or ./install --dev)")
    checked = run(lintian, "--no-tag-display-limit", deb_path(dist, release))
    errors = [line for line in checked.stdout.splitlines() if line.startswith("E:")]
    assert errors == [], checked.stdout
    hardening = [line for line in checked.stdout.splitlines() if "hardening-" in line]
    assert hardening == [], checked.stdout
    assert checked.returncode == 0, checked.stdout + checked.stderr


def dpkg(*arguments) -> subprocess.CompletedProcess:
    """dpkg, waiting (up to 10 minutes) while another apt or dpkg holds the lock."""
    deadline = time.monotonic() + 600
    while True:
        result = run("dpkg", *arguments, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        if result.returncode == 0 or "lock" not in result.stderr or time.monotonic() > deadline:
            return result
        time.sleep(2)


def installed_status() -> str:
    return run("dpkg-query", "--show", "--showformat=${db:Status-Status}", PACKAGE).stdout.strip() or "not-installed"


def test_install_run_and_remove_the_debian_package(dist, release, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("installing the package needs root: run the tests as root (CI does)")
    deb = deb_path(dist, release)
    assert installed_status() == "not-installed", f"{PACKAGE} is already installed here; remove it to run this test"
    paths = [line.split()[-1].removeprefix(".") for line in run("dpkg-deb", "--contents", deb).stdout.splitlines()]
    files = [path for path in paths if not path.endswith("/")]
    taken = [path for path in files if os.path.lexists(path)]
    assert taken == [], f"installing {PACKAGE} would replace files that are already there: {taken}"
    existing = {path.rstrip("/") for path in paths if os.path.lexists(path.rstrip("/") or "/")}

    try:
        installed = dpkg("--install", deb)
        assert installed.returncode == 0, installed.stdout + installed.stderr
        assert installed_status() == "installed"
        user = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        version = run("docker-credential-ecr", "version", env=user)
        assert (version.returncode, version.stdout) == (0, release["line"])
        assert run("/usr/bin/docker-credential-ecr", "--help", env=user).returncode == 0
        assert sorted(release["names"]) == ["docker-credential-ecr", "ecr-credential-provider"]
        provider = run("ecr-credential-provider", "--help", env=user)
        assert provider.returncode == 0, provider.stdout + provider.stderr
        assert run("ecr-credential-provider", "version", env=user).stdout == release["line"].replace("docker-credential-ecr", "ecr-credential-provider")
        for page in ("docker-credential-ecr", "ecr-credential-provider"):
            assert os.path.isfile(f"/usr/share/man/man1/{page}.1.gz")

        removed = dpkg("--remove", PACKAGE)
        assert removed.returncode == 0, removed.stdout + removed.stderr
        assert installed_status() == "not-installed"
        left = [path.rstrip("/") for path in paths if path.rstrip("/") not in existing and os.path.lexists(path.rstrip("/"))]
        assert left == [], f"left behind by dpkg --remove: {left}"
    finally:
        if installed_status() != "not-installed":
            dpkg("--purge", PACKAGE)
