"""Every command of both executables exits 1, with a line on stderr, when its output cannot be
written (stdout on a full disk: /dev/full), and 0 with the same output when it can: a provisioning
script's `ecr-credential-provider config > cfg.yaml` must not succeed with an empty file."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import HOST

PLUGIN_REQUEST = json.dumps({"apiVersion": "credentialprovider.kubelet.k8s.io/v1", "kind": "CredentialProviderRequest",
                             "image": f"{HOST}/app:1"})

# (program, arguments, stdin, needs AWS credentials)
COMMANDS = [
    ("docker-credential-ecr", ["version"], "", False),
    ("docker-credential-ecr", ["--version"], "", False),
    ("docker-credential-ecr", ["-v"], "", False),
    ("docker-credential-ecr", ["--help"], "", False),
    ("docker-credential-ecr", ["configure", "--help"], "", False),
    ("docker-credential-ecr", ["--generate-completion-script", "bash"], "", False),
    ("docker-credential-ecr", ["list"], "", False),
    ("docker-credential-ecr", ["get"], HOST, True),
    ("docker-credential-ecr", ["configure", "--dry-run", HOST], "", False),
    ("docker-credential-ecr", ["configure", HOST], "", False),
    ("docker-credential-ecr", ["doctor", HOST], "", True),
    ("docker-credential-ecr", ["doctor", "--json", HOST], "", True),
    ("docker-credential-ecr", ["login", HOST], "", True),
    ("docker-credential-ecr", ["logout", "--all"], "", False),
    ("ecr-credential-provider", ["config"], "", False),
    ("ecr-credential-provider", ["version"], "", False),
    ("ecr-credential-provider", ["--version"], "", False),
    ("ecr-credential-provider", ["--help"], "", False),
    ("ecr-credential-provider", [], PLUGIN_REQUEST, True),
]


def command_run(helper, emulator, program, arguments, stdin, aws):
    """A function that runs the command with stdout on the given file, in a set-up where it succeeds."""
    executable = Path(helper.binary).with_name(program)
    if program == "ecr-credential-provider" and "ECR_CREDENTIAL_PROVIDER" in os.environ:
        executable = Path(os.environ["ECR_CREDENTIAL_PROVIDER"])
    environment = helper.environment(**(emulator.env(AWS_ENDPOINT_URL=emulator.url) if aws else {}))
    if arguments[:1] == ["doctor"]:
        # A healthy set-up, so that doctor's own exit status is 0.
        (helper.home / ".docker").mkdir(exist_ok=True)
        (helper.home / ".docker/config.json").write_text(json.dumps({"credHelpers": {HOST: "ecr"}}))

    def run(stdout):
        # restore_signals (the default) gives the child SIGPIPE at its default disposition, as a shell does.
        return subprocess.run([str(executable), *arguments], input=stdin.encode(), stdout=stdout, stderr=subprocess.PIPE,
                              env=environment, timeout=60)
    return run


@pytest.mark.parametrize("program,arguments,stdin,aws", COMMANDS, ids=[" ".join([c[0], *c[1]]) for c in COMMANDS])
def test_output_that_cannot_be_written_fails_the_command(helper, emulator, program, arguments, stdin, aws):
    run = command_run(helper, emulator, program, arguments, stdin, aws)
    written = run(subprocess.PIPE)
    assert written.returncode == 0, written.stderr.decode()
    assert written.stdout
    with open("/dev/full", "wb") as full:
        lost = run(full)
    assert lost.returncode == 1, (lost.returncode, lost.stderr.decode())
    assert "No space left on device" in lost.stderr.decode() or "cannot write standard output" in lost.stderr.decode()


@pytest.mark.parametrize("program,arguments,stdin,aws", COMMANDS, ids=[" ".join([c[0], *c[1]]) for c in COMMANDS])
def test_a_closed_pipe_fails_the_command_with_a_message(helper, emulator, program, arguments, stdin, aws):
    """A reader that went away (`cmd | head -0`): exit 1 and a line on stderr, not death by SIGPIPE."""
    run = command_run(helper, emulator, program, arguments, stdin, aws)
    reader, writer = os.pipe()
    os.close(reader)  # nobody will read: every write gets EPIPE (or SIGPIPE)
    try:
        result = run(writer)
    finally:
        os.close(writer)
    assert result.returncode == 1, (result.returncode, result.stderr.decode())
    assert "Broken pipe" in result.stderr.decode() or "cannot write standard output" in result.stderr.decode()
