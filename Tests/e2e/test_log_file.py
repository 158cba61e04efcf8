"""The log file: where the reason for an anonymous pull can be read when docker hides stderr."""
import os
import stat

from conftest import HOST, NOT_FOUND


def test_warnings_go_to_the_file_and_still_to_stderr(helper):
    document, out, err, status = helper.get(HOST, DOCKER_CREDENTIAL_ECR_LOG_DESTINATION="file")
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert "no AWS credentials" in err
    log = helper.home / ".local/state/docker-credential-ecr/log"
    text = log.read_text()
    assert "docker-credential-ecr: " + err.split("docker-credential-ecr: ", 1)[1].strip() in text
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_debug_lines_go_to_the_file_only_and_carry_no_secret(helper, emulator, tmp_path):
    path = tmp_path / "helper.log"
    document, out, err, status = helper.get(HOST, DOCKER_CREDENTIAL_ECR_LOG="debug", DOCKER_CREDENTIAL_ECR_LOG_FILE=str(path),
                                            **emulator.env())
    assert status == 0 and err == ""
    text = path.read_text()
    assert "debug: " in text and "GetAuthorizationToken: HTTP 200" in text
    assert document["Secret"] not in text and emulator.secret not in text


def test_a_directory_at_log_1_empties_the_log_with_one_warning_and_never_grows_it(helper):
    state = helper.home / ".local/state/docker-credential-ecr"
    state.mkdir(parents=True, mode=0o700)
    log, rotated = state / "log", state / "log.1"
    rotated.mkdir()
    (rotated / "kept").write_text("someone else's\n")
    before = sorted((entry.name, entry.stat().st_mtime_ns, entry.stat().st_size) for entry in os.scandir(rotated))
    bound = 1 << 20
    line = "2024-01-01T00:00:00Z [1] docker-credential-ecr: an older line\n"
    log.write_text(line * ((bound - 200) // len(line)))
    os.chmod(log, 0o600)
    warnings = []
    for _ in range(4):
        _, _, err, status = helper.get(HOST, DOCKER_CREDENTIAL_ECR_LOG="debug", DOCKER_CREDENTIAL_ECR_LOG_DESTINATION="file")
        assert status == 1 and "no AWS credentials" in err
        warnings += [text for text in err.splitlines() if "cannot rotate the log" in text]
        assert log.stat().st_size <= bound
    # Once: the log was emptied, so the next runs find room in it again.
    assert warnings == [f"docker-credential-ecr: cannot rotate the log {log}: {rotated} is a directory; the log was emptied "
                        f"instead, to keep it under 1 MiB; remove or rename {rotated} so that the previous lines are kept"]
    text = log.read_text()
    assert "an older line" not in text and text.splitlines()[0].endswith(warnings[0].split(": ", 1)[1])
    assert "no AWS credentials" in text
    assert sorted((entry.name, entry.stat().st_mtime_ns, entry.stat().st_size) for entry in os.scandir(rotated)) == before
    assert (rotated / "kept").read_text() == "someone else's\n"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
