"""Tokens from the loopback ECR emulator: fetching, caching, refreshing, failing well."""
import base64
import concurrent.futures
import json
import os
import stat
import subprocess
import time

import pytest

from conftest import HOST, NOT_FOUND

FORMS = [HOST, f"{HOST}:443", f"https://{HOST}", f"https://{HOST}:443", f"http://{HOST}:443",
         f"https://{HOST}/v2/", "HTTPS://" + HOST.upper()]


def test_get_returns_the_token_the_service_issued(helper, emulator):
    document, out, err, status = helper.get(HOST, **emulator.env())
    assert status == 0, out + err
    [request] = emulator.token_requests()
    assert document == {"ServerURL": HOST, "Username": "AWS", "Secret": request["password"]}
    assert request["region"] == "us-west-2" and not request["public"]
    assert request["user_agent"].startswith("docker-credential-ecr/")
    assert err == ""


@pytest.mark.parametrize("host", ["public.ecr.aws", "ecr-public.aws.com"])
def test_ecr_public(helper, emulator, host):
    document, out, err, status = helper.get(f"https://{host}", **emulator.env())
    assert status == 0, out + err
    [request] = emulator.token_requests()
    assert request["public"] and request["region"] == "us-east-1"
    assert document["Secret"] == request["password"]


def test_every_client_form_of_the_host_shares_one_cached_token(helper, emulator):
    secrets = set()
    for form in FORMS:
        document, out, err, status = helper.get(form, **emulator.env())
        assert status == 0, (form, out, err)
        assert document["ServerURL"] == form
        secrets.add(document["Secret"])
    assert len(secrets) == 1
    assert len(emulator.token_requests()) == 1


def test_the_cache_is_private(helper, emulator):
    helper.get(HOST, umask=0o000, **emulator.env())  # even with nothing masked
    directory = helper.cache_dir
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = [p for p in directory.iterdir() if p.suffix == ".json"]
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600


def test_a_cache_hit_loads_no_libcurl_and_makes_no_request(helper, emulator):
    # The miss loads libcurl (this proves the check below can fail) ...
    miss = helper.run("get", stdin=HOST, LD_DEBUG="files", **emulator.env())
    assert miss.returncode == 0
    assert b"libcurl" in miss.stderr
    # ... the hit does not, and the emulator sees nothing.
    hit = helper.run("get", stdin=HOST, LD_DEBUG="files", **emulator.env())
    assert hit.returncode == 0
    assert b"libcurl" not in hit.stderr
    assert len(emulator.requests) == 1


def test_the_binary_does_not_link_heavy_libraries(binary):
    result = subprocess.run(["ldd", str(binary)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr  # a dynamic executable ldd can read
    linked = result.stdout
    assert "libc.so.6" in linked
    for library in ("libcurl", "libsecret", "libglib", "libgio", "libFoundation.so", "FoundationInternationalization", "_FoundationICU",
                    "libswiftCore"):
        assert library not in linked, f"{binary} links {library} at start-up"


def test_another_identity_gets_its_own_token(helper, emulator):
    emulator.emulator.credentials["AKIASECOND"] = "second-secret"
    first = helper.get(HOST, **emulator.env())[0]
    second = helper.get(HOST, **emulator.env(AWS_ACCESS_KEY_ID="AKIASECOND", AWS_SECRET_ACCESS_KEY="second-secret"))[0]
    assert first["Secret"] != second["Secret"]
    assert [r["key"] for r in emulator.token_requests()] == ["AKIAEMULATOR", "AKIASECOND"]
    # and each hits its own entry afterwards
    assert helper.get(HOST, **emulator.env())[0] == first
    assert len(emulator.token_requests()) == 2


def test_tokens_are_refreshed_at_half_life_and_never_served_expired(helper, emulator):
    emulator.settings(ttl=4)
    first = helper.get(HOST, **emulator.env())[0]
    assert helper.get(HOST, **emulator.env())[0] == first
    time.sleep(2.2)
    second = helper.get(HOST, **emulator.env())[0]
    assert second != first
    assert len(emulator.token_requests()) == 2
    # An expired token is never served: not even when ECR fails and it is all there is...
    helper.age_cached_tokens(age_hours=13, left_hours=-1)
    emulator.fail_next(*[{"status": 503, "code": "ServiceUnavailable", "message": "busy"}] * 3)
    document, out, err, status = helper.get(HOST, **emulator.env())
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert "ServiceUnavailable" in err and "using the cached one" not in err
    # ...and when ECR answers, it is replaced.
    third = helper.get(HOST, **emulator.env())[0]
    assert third not in (first, second)
    assert len(emulator.token_requests()) == 3


def test_a_corrupt_cache_file_is_replaced(helper, emulator):
    helper.get(HOST, **emulator.env())
    [entry] = [p for p in helper.cache_dir.iterdir() if p.suffix == ".json"]
    entry.write_bytes(b"\x00{not json")
    document, out, err, status = helper.get(HOST, **emulator.env())
    assert status == 0 and err == ""
    assert json.loads(entry.read_text())["secret"] == document["Secret"]
    assert len(emulator.token_requests()) == 2


def test_an_unwritable_cache_still_answers(helper, emulator):
    helper.cache_dir.parent.mkdir(parents=True)
    helper.cache_dir.write_text("a file where the directory should be")
    document, out, err, status = helper.get(HOST, **emulator.env())
    assert status == 0
    assert "could not cache the token" in err
    assert helper.cache_dir.read_text() == "a file where the directory should be"


def test_disabling_the_cache(helper, emulator):
    for _ in range(2):
        assert helper.get(HOST, **emulator.env(AWS_ECR_DISABLE_CACHE="1"))[3] == 0
    assert len(emulator.token_requests()) == 2
    assert not helper.cache_dir.exists() or not any(p.suffix == ".json" for p in helper.cache_dir.iterdir())


def test_throttling_is_retried(helper, emulator):
    emulator.fail_next({"status": 400, "code": "ThrottlingException", "message": "Rate exceeded"},
                       {"status": 503, "code": "ServiceUnavailable", "message": "busy"})
    document, out, err, status = helper.get(HOST, **emulator.env())
    assert status == 0, out + err
    assert len(emulator.requests) == 3


def test_persistent_server_errors_fail_with_the_cause(helper, emulator):
    emulator.fail_next(*[{"status": 500, "code": "ServerException", "message": "internal"}] * 3)
    document, out, err, status = helper.get(HOST, **emulator.env())
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert err == f"docker-credential-ecr: {HOST}: ECR GetAuthorizationToken failed: ServerException: internal\n"
    assert len(emulator.requests) == 3


def test_access_denied_names_the_principal_and_the_policy(helper, emulator):
    document, out, err, status = helper.get(HOST, **emulator.env(AWS_ACCESS_KEY_ID="AKIADENIED", AWS_SECRET_ACCESS_KEY="denied-secret"))
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert "ecr:GetAuthorizationToken was denied for arn:aws:iam::123456789012:user/AKIADENIED" in err
    assert "AmazonEC2ContainerRegistryPullOnly" in err
    assert len(emulator.requests) == 1


def test_a_wrong_secret_is_explained(helper, emulator):
    document, out, err, status = helper.get(HOST, **emulator.env(AWS_SECRET_ACCESS_KEY="wrong"))
    assert status == 1
    assert "InvalidSignatureException" in err and "the secret access key does not match" in err


def test_a_dead_endpoint_fails_fast_with_the_cause(helper, emulator, timing):
    from conftest import free_port
    started = time.monotonic()
    document, out, err, status = helper.get(HOST, **emulator.env(AWS_ENDPOINT_URL_ECR=f"http://127.0.0.1:{free_port()}"))
    elapsed = time.monotonic() - started
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert "cannot reach http://127.0.0.1:" in err
    assert elapsed < timing.limit(wait=1)  # three tries, with at most 0.6 s of backoff


def test_a_bad_endpoint_url_is_explained(helper, emulator):
    document, out, err, status = helper.get(HOST, **emulator.env(AWS_ENDPOINT_URL_ECR="ftp://127.0.0.1"))
    assert status == 1
    assert 'invalid endpoint URL "ftp://127.0.0.1"' in err


def test_debug_log_shows_the_steps_but_no_secret(helper, emulator):
    env = emulator.env(AWS_SESSION_TOKEN="the-session-token", DOCKER_CREDENTIAL_ECR_LOG="debug")
    emulator.emulator.credentials[env["AWS_ACCESS_KEY_ID"]] = env["AWS_SECRET_ACCESS_KEY"]
    first = helper.get(HOST, **env)
    second = helper.get(HOST, **env)
    log = first[2] + second[2]
    assert "cache hit" in log and "GetAuthorizationToken: HTTP 200" in log
    for secret in (env["AWS_SECRET_ACCESS_KEY"], "the-session-token", first[0]["Secret"]):
        assert secret not in log


def test_parallel_gets_for_many_registries_keep_every_entry(helper, emulator):
    hosts = [f"{100000000000 + n}.dkr.ecr.us-west-2.amazonaws.com" for n in range(30)]
    with concurrent.futures.ThreadPoolExecutor(30) as pool:
        results = list(pool.map(lambda host: helper.get(host, **emulator.env()), hosts))
    assert all(status == 0 for _, _, _, status in results)
    listed = json.loads(helper.run("list").stdout)
    assert set(listed) == set(hosts)


def test_parallel_gets_for_one_registry_fetch_once(helper, emulator):
    emulator.settings(delay=0.3)
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda _: helper.get(HOST, **emulator.env()), range(20)))
    assert all(status == 0 for _, _, _, status in results)
    assert len({document["Secret"] for document, _, _, _ in results}) == 1
    assert len(emulator.token_requests()) == 1


def hold_lock(path, seconds):
    """A separate process that takes the flock on `path` and keeps it for `seconds`."""
    import subprocess
    import sys
    code = ("import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); "
            "print('locked', flush=True); time.sleep(float(sys.argv[2]))")
    holder = subprocess.Popen([sys.executable, "-c", code, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def lock_file(helper, emulator):
    """The lock file of HOST for the emulator identity (created by a first get, then emptied cache)."""
    helper.get(HOST, **emulator.env())
    [path] = list((helper.cache_dir / "locks").glob(f"{HOST}@*.lock"))
    for entry in helper.cache_dir.glob("*.json"):
        entry.unlink()
    return path


def test_a_killed_lock_holder_blocks_nobody(helper, emulator, timing):
    path = lock_file(helper, emulator)
    holder = hold_lock(path, 60)
    holder.kill()
    holder.wait()
    started = time.monotonic()
    document, out, err, status = helper.get(HOST, **emulator.env())
    assert status == 0, out + err
    assert time.monotonic() - started < timing.limit()


def test_a_live_lock_holder_is_waited_for(helper, emulator, timing):
    path = lock_file(helper, emulator)
    holder = hold_lock(path, 1.0)
    started = time.monotonic()
    document, out, err, status = helper.get(HOST, **emulator.env())
    elapsed = time.monotonic() - started
    holder.wait()
    assert status == 0, out + err
    assert 0.8 <= elapsed < timing.limit(wait=1)
