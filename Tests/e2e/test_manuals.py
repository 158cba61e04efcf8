"""The man pages keep up with the programs: every subcommand and option `--help` shows is documented."""
import re
import subprocess

import pytest

from conftest import REPOSITORY


PAGES = {"login": "cache", "logout": "cache"}


def help_text(binary, *arguments):
    result = subprocess.run([str(binary), *arguments, "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def options(text):
    return sorted(set(re.findall(r"(?<![\w-])--([a-z][a-z0-9-]+)", text)) - {"help", "version", "generate-completion-script"})


def subcommands(text):
    if "SUBCOMMANDS:" not in text:
        return []
    block = text.split("SUBCOMMANDS:")[1].split("\n\n  See")[0]
    return re.findall(r"^  ([a-z][a-z-]+)", block, re.MULTILINE)


@pytest.mark.parametrize("program", ["docker-credential-ecr", "ecr-credential-provider"])
def test_every_subcommand_and_option_is_in_the_man_page(binary, program):
    executable = binary.parent / program
    manual = (REPOSITORY / "man" / f"{program}.1").read_text()
    top = help_text(executable)
    commands = [name for name in subcommands(top) if name != "help"]
    assert commands, top
    for command in commands:
        assert re.search(rf"^\.Cm {command}\b", manual, re.MULTILINE), f"{program} {command} is not in man/{program}.1"
        # A page of its own when it has one (docker-credential-ecr-configure.1), else the program's.
        # login and logout share docker-credential-ecr-cache.1: the AWS helper's executable is
        # docker-credential-ecr-login, and its man page has that name.
        own = REPOSITORY / "man" / f"{program}-{PAGES.get(command, command)}.1"
        page = own.read_text() if own.exists() else manual
        if own.exists():
            assert f".Xr {own.stem} 1" in manual, f"man/{program}.1 does not point to {own.name}"
        for option in options(help_text(executable, command)):
            assert f"Fl -{option}" in page, f"{program} {command} --{option} is not in its man page"


def test_every_docker_helper_subcommand_has_a_page():
    for command in ("configure", "doctor", "login", "logout"):
        assert (REPOSITORY / "man" / f"docker-credential-ecr-{PAGES.get(command, command)}.1").is_file()
    assert not (REPOSITORY / "man" / "docker-credential-ecr-login.1").exists()  # the AWS helper's page


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completions_know_the_subcommands(binary, shell):
    script = subprocess.run([str(binary), "--generate-completion-script", shell], capture_output=True, text=True, timeout=30)
    assert script.returncode == 0, script.stderr
    for command in ("configure", "doctor", "login", "logout"):
        assert command in script.stdout
    assert "--creds-store" in script.stdout or "creds-store" in script.stdout
