"""GetAuthorizationToken against moto_server with SigV4 enforcement on: a wrong signature fails.

moto dates every token 2015-01-01; the recording proxy gives successful answers the real
service's 12-hour expiry, and one test talks to moto directly to see such a token refused.
"""
import base64

from conftest import HOST, NOT_FOUND


def moto_env(moto, user="puller", **extra):
    key, secret = moto.users[user]
    env = {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_ENDPOINT_URL": moto.proxy.url}
    env.update(extra)
    return env


def test_token_from_moto(helper, moto):
    document, out, err, status = helper.get(HOST, **moto_env(moto))
    assert status == 0, out + err
    # moto's token is base64("AWS:<account>-auth-token") for the caller's account.
    assert document == {"ServerURL": HOST, "Username": "AWS", "Secret": "123456789012-auth-token"}


def test_moto_rejects_a_wrong_secret(helper, moto):
    key, _ = moto.users["puller"]
    document, out, err, status = helper.get(HOST, **moto_env(moto, AWS_SECRET_ACCESS_KEY="not-the-secret"))
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert "SignatureDoesNotMatch" in err or "InvalidSignatureException" in err
    assert "the secret access key does not match the access key id" in err


def test_moto_rejects_an_unknown_key(helper, moto):
    document, out, err, status = helper.get(HOST, **moto_env(moto, AWS_ACCESS_KEY_ID="AKIAUNKNOWN0000000000"))
    assert status == 1
    assert "AWS does not know this access key id" in err


def test_moto_denies_a_user_without_the_permission(helper, moto):
    document, out, err, status = helper.get(HOST, **moto_env(moto, user="nobody"))
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert "ecr:GetAuthorizationToken was denied" in err
    assert "AmazonEC2ContainerRegistryPullOnly" in err


def test_static_keys_of_a_named_profile(helper, moto):
    key, secret = moto.users["puller"]
    helper.write_aws_file("credentials", f"[ci]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n")
    helper.write_aws_file("config", "[profile ci]\nregion = eu-west-1\n")
    document, out, err, status = helper.get(HOST, AWS_PROFILE="ci", AWS_ENDPOINT_URL=moto.proxy.url)
    assert status == 0, out + err
    assert document["Secret"] == "123456789012-auth-token"


def test_a_token_that_expired_before_it_arrived_is_refused(helper, moto):
    """moto's own answer, dated 2015: never handed to docker, and the clock is named as the likely cause."""
    document, out, err, status = helper.get(HOST, **moto_env(moto, AWS_ENDPOINT_URL=moto.url))
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert "that expired at 2015-01-01T00:00:00Z, before this machine's time" in err
    assert "the system clock is probably wrong" in err
    assert not list(helper.cache_dir.glob("*.json"))


def test_a_broken_config_file_names_file_and_line(helper, moto):
    path = helper.write_aws_file("config", "[default]\nregion = us-east-1\nthis line is wrong\n")
    before = path.read_bytes()
    document, out, err, status = helper.get(HOST, AWS_ENDPOINT_URL=moto.url)
    assert (status, out) == (1, NOT_FOUND + "\n")
    assert f"{path}:3: expected `name = value` or a [section]" in err
    assert path.read_bytes() == before
