"""The process's own edges: an answer that cannot be written, and a variable named twice."""
import ctypes
import os

from conftest import HOST


def run_with_raw_environment(helper, arguments, entries, stdin: bytes, stdout_path: str = None):
    """Runs the binary with exactly `entries` ("NAME=value" strings, repeats allowed) as its
    environment, which subprocess cannot express; returns (exit status, stdout bytes)."""
    libc = ctypes.CDLL(None, use_errno=True)
    reader, writer = os.pipe()
    out_reader, out_writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(reader, 0)
            if stdout_path:
                os.dup2(os.open(stdout_path, os.O_WRONLY), 1)
            else:
                os.dup2(out_writer, 1)
            argv = [str(helper.binary).encode(), *(a.encode() for a in arguments)]
            c_argv = (ctypes.c_char_p * (len(argv) + 1))(*argv, None)
            c_env = (ctypes.c_char_p * (len(entries) + 1))(*(e.encode() for e in entries), None)
            libc.execve(argv[0], c_argv, c_env)
        finally:
            os._exit(127)
    os.close(reader)
    os.close(out_writer)
    os.write(writer, stdin)
    os.close(writer)
    output = b""
    while chunk := os.read(out_reader, 65536):
        output += chunk
    os.close(out_reader)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output


def test_an_answer_that_cannot_be_written_is_not_a_success(helper, emulator):
    entries = [f"{name}={value}" for name, value in helper.environment(**emulator.env()).items()]
    status, _ = run_with_raw_environment(helper, ["get"], entries, HOST.encode(), stdout_path="/dev/full")
    assert status == 1
    status, _ = run_with_raw_environment(helper, ["get"], entries, HOST.encode())
    assert status == 0


def test_a_variable_named_twice_has_its_first_value_as_getenv_gives_it(helper, emulator):
    """libsecret, GLib and libcurl read variables with getenv, which returns the first of two:
    the tool must see the same value, or it would key the keyring's copies to another bus."""
    base = [f"{name}={value}" for name, value in helper.environment(**emulator.env()).items()]
    status, output = run_with_raw_environment(
        helper, ["get"], base + ["DOCKER_CREDENTIAL_ECR_CACHE=file", "DOCKER_CREDENTIAL_ECR_CACHE=bogus"], HOST.encode())
    assert status == 0, output
    status, output = run_with_raw_environment(
        helper, ["get"], base + ["DOCKER_CREDENTIAL_ECR_CACHE=bogus", "DOCKER_CREDENTIAL_ECR_CACHE=file"], HOST.encode())
    assert status == 1 and b"DOCKER_CREDENTIAL_ECR_CACHE=bogus is not one of" in output
