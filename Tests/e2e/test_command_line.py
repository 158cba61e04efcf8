"""The command lines people type: option forms, usage errors, help at every level, and the completion
scripts each shell runs (bash's for real, zsh's and fish's through their parsers)."""
import re
import subprocess

import pytest

from conftest import require

PROGRAMS = {
    "docker-credential-ecr": ["configure", "doctor", "login", "logout"],
    "ecr-credential-provider": ["config", "containerd-hosts", "doctor", "version"],
}


def run(binary, program, *arguments, env=None):
    return subprocess.run([str(binary.parent / program), *arguments], capture_output=True, text=True, timeout=30, env=env)


@pytest.mark.parametrize("program,arguments,message", [
    ("docker-credential-ecr", ["configure", "--bogus"], "Error: Unknown option '--bogus'\n"),
    ("docker-credential-ecr", ["configure", "--dryrun"], "Error: Unknown option '--dryrun'; did you mean '--dry-run'?\n"),
    ("docker-credential-ecr", ["configure", "--registry"], "Error: Missing value for '--registry <host>'\n"
                                                          "Help:  --registry <host>  An ECR registry host"),
    ("docker-credential-ecr", ["configure", "--public=yes"], "Error: The flag '--public' takes no value\n"),
    ("docker-credential-ecr", ["doctor", "a", "b"], "Error: Unexpected argument 'b'\n"),
    ("docker-credential-ecr", ["login"], "Error: Missing expected argument '<registry> ...'\n"),
    ("docker-credential-ecr", ["logout"], "Error: name the registries, or use --all\n"),
    ("ecr-credential-provider", ["confg"], "Error: Unknown subcommand 'confg'; did you mean 'config'?\n"),
    ("ecr-credential-provider", ["-v"], "Error: Unknown option '-v'\n"),
    ("ecr-credential-provider", ["config", "--default-cache-duration=12 hours"],
     "Error: --default-cache-duration 12 hours is not a duration such as 12h, 90m or 1h30m\n"),
])
def test_a_usage_error_says_what_and_how_and_exits_64(binary, program, arguments, message):
    result = run(binary, program, *arguments)
    assert (result.returncode, result.stdout) == (64, ""), result.stderr
    assert result.stderr.startswith(message), result.stderr
    command = " ".join([program, *arguments[:1]]) if arguments[0] in PROGRAMS[program] else program
    assert f"\nUsage: {command}" in result.stderr
    assert result.stderr.endswith(f"\n  See '{command} --help' for more information.\n")


def test_the_helpers_own_usage_error_stays_one_line_on_stdout(binary):
    for arguments, start in ((["--bogus"], "docker-credential-ecr: Unknown option '--bogus'. "),
                             (["help", "bogus"], "docker-credential-ecr: Unknown subcommand 'bogus'. ")):
        result = run(binary, "docker-credential-ecr", *arguments)
        assert (result.returncode, result.stderr) == (1, "")
        assert result.stdout.startswith(start) and result.stdout.count("\n") == 1
        assert result.stdout.endswith("Usage: docker-credential-ecr <get|store|erase|list|version>\n")


def test_both_option_forms_repeated_options_and_double_dash(binary, tmp_path):
    host, other = "123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    environment = {"HOME": str(tmp_path), "DOCKER_CONFIG": str(tmp_path / "docker"), "PATH": "/usr/bin:/bin"}
    spaced = run(binary, "docker-credential-ecr", "configure", "--dry-run", "--account", "123456789012",
                 "--region", "us-east-1", "--region", "eu-west-1", env=environment)
    joined = run(binary, "docker-credential-ecr", "configure", "--dry-run", "--account=123456789012",
                 "--region=us-east-1", "--region=eu-west-1", env=environment)
    assert spaced.returncode == 0, spaced.stderr
    assert joined.stdout == spaced.stdout and host in spaced.stdout and other in spaced.stdout
    # After --, a word that looks like an option is a registry (and not one).
    ended = run(binary, "docker-credential-ecr", "configure", "--dry-run", "--", "--public", env=environment)
    assert ended.returncode == 1 and '"--public" is not an ECR registry host' in ended.stderr


@pytest.mark.parametrize("program", PROGRAMS)
def test_help_at_every_level_and_help_subcommand(binary, program):
    top = run(binary, program, "--help")
    assert top.returncode == 0 and top.stdout.startswith("OVERVIEW: ")
    assert run(binary, program, "-h").stdout == top.stdout == run(binary, program, "help").stdout
    assert "\nSUBCOMMANDS:\n" in top.stdout and top.stdout.endswith(f"See '{program} help <subcommand>' for detailed help.\n")
    for command in PROGRAMS[program]:
        own = run(binary, program, command, "--help")
        assert own.returncode == 0 and own.stdout.startswith("OVERVIEW: ")
        assert f"\nUSAGE: {program} {command}" in own.stdout and "\nOPTIONS:\n" in own.stdout
        assert run(binary, program, "help", command).stdout == own.stdout == run(binary, program, command, "-h").stdout
        # Wrapped at 80 columns, but for the usage line, examples (indented lines) and a word longer than a line.
        assert all(len(line) <= 80 or " " not in line.strip() for line in own.stdout.splitlines()
                   if not line.startswith(("USAGE: ", "  ")) or line.startswith(" " * 26)), own.stdout


def complete_in_bash(script, program, words, cwd):
    """COMPREPLY of the script's completion function for the words typed (the last one being completed)."""
    driver = (
        'source "$1"; shift\n'
        'spec=$(complete -p "$1") || exit 3\n'
        'function=$(sed -n "s/.* -F \\([^ ]*\\) .*/\\1/p" <<<"$spec")\n'
        'COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}\n'
        '"$function" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(["bash", "-c", driver, "bash", str(script), program, *words], capture_output=True, text=True,
                            timeout=30, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line]


def test_the_bash_completion_completes(binary, tmp_path):
    scripts = {}
    for program in PROGRAMS:
        script = run(binary, program, "--generate-completion-script", "bash")
        assert script.returncode == 0, script.stderr
        scripts[program] = tmp_path / f"{program}.bash"
        scripts[program].write_text(script.stdout)
        spec = subprocess.run(["bash", "-c", f'source "{scripts[program]}" && complete -p {program}'],
                              capture_output=True, text=True, timeout=30)
        assert re.fullmatch(rf"complete -F \S+ {program}\n", spec.stdout), (spec.stdout, spec.stderr)
    node = tmp_path / "node"
    (node / "kubelet").mkdir(parents=True)
    (node / "config.yaml").write_text("")
    docker, provider = scripts["docker-credential-ecr"], scripts["ecr-credential-provider"]

    def complete(script, program, *words):
        return complete_in_bash(script, program, [program, *words], node)

    assert complete(docker, "docker-credential-ecr", "") == ["configure", "doctor", "login", "logout", "help"]
    assert complete(docker, "docker-credential-ecr", "lo") == ["login", "logout"]
    assert complete(docker, "docker-credential-ecr", "-") == ["-v", "--version", "-h", "--help"]
    assert complete(docker, "docker-credential-ecr", "configure", "--d") == ["--discover", "--dry-run"]
    assert complete(docker, "docker-credential-ecr", "configure", "--dry-run", "--cr") == ["--creds-store"]
    assert complete(docker, "docker-credential-ecr", "logout", "--") == ["--all", "--logins", "--version", "--help"]
    assert complete(docker, "docker-credential-ecr", "help", "c") == ["configure"]
    assert complete(docker, "docker-credential-ecr", "configure", "--region", "") == []  # free text
    assert complete(provider, "ecr-credential-provider", "con") == ["config", "containerd-hosts"]
    assert complete(provider, "ecr-credential-provider", "config", "--p") == ["--pull-through-cache"]
    # Paths where the value is one: files for --config, directories for --bin-dir and --dir.
    assert sorted(complete(provider, "ecr-credential-provider", "doctor", "--config", "")) == ["config.yaml", "kubelet"]
    assert complete(provider, "ecr-credential-provider", "doctor", "--bin-dir", "") == ["kubelet"]
    assert complete(provider, "ecr-credential-provider", "containerd-hosts", "--dir", "k") == ["kubelet"]


@pytest.mark.parametrize("shell,check", [("bash", ["bash", "-n"]), ("zsh", ["zsh", "-n"]), ("fish", ["fish", "--no-execute"])])
@pytest.mark.parametrize("program", PROGRAMS)
def test_every_completion_script_parses_in_its_shell(binary, tmp_path, program, shell, check):
    require(check[0], "./install --dev")
    script = run(binary, program, "--generate-completion-script", shell)
    assert script.returncode == 0 and script.stdout, script.stderr
    for command in PROGRAMS[program]:
        assert command in script.stdout
    path = tmp_path / f"{program}.{shell}"
    path.write_text(script.stdout)
    parsed = subprocess.run([*check, str(path)], capture_output=True, text=True, timeout=30)
    assert parsed.returncode == 0, parsed.stderr


def test_the_fish_completion_offers_subcommands_and_options(binary, tmp_path):
    require("fish", "./install --dev")
    script = tmp_path / "completion.fish"
    script.write_text(run(binary, "ecr-credential-provider", "--generate-completion-script", "fish").stdout)

    def complete(line):
        result = subprocess.run(["fish", "--no-config", "-c", f"source {script}; complete -C '{line}'"],
                                capture_output=True, text=True, timeout=30, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
        assert result.returncode == 0, result.stderr
        return [line.split("\t")[0] for line in result.stdout.splitlines()]

    assert {"config", "containerd-hosts", "doctor", "version", "help"} <= set(complete("ecr-credential-provider "))
    assert "--dry-run" in complete("ecr-credential-provider containerd-hosts --")
    assert "--dry-run" not in complete("ecr-credential-provider config --")


@pytest.mark.parametrize("program", PROGRAMS)
def test_the_zsh_completion_registers_itself_with_compinit(binary, tmp_path, program):
    require("zsh", "./install --dev")
    script = tmp_path / f"_{program}"
    script.write_text(run(binary, program, "--generate-completion-script", "zsh").stdout)
    # Sourced after compinit, as a user would from .zshrc, it binds its function to the program.
    result = subprocess.run(["zsh", "-f", "-c", f"autoload -U compinit; compinit -u -D; source {script}; print -r -- ${{_comps[{program}]}}"],
                            capture_output=True, text=True, timeout=30, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout == "_" + program.replace("-", "_") + "\n"
