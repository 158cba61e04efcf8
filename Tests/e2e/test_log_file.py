"""The log file: where the reason for an anonymous pull can be read when docker hides stderr."""
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
