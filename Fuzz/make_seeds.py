#!/usr/bin/env python3
"""Writes the seed corpora under Fuzz/seeds/<target>/, from the cases of the unit tests.

The seeds are checked in; run this again after changing it. Inputs of several parts separate
them with a NUL byte, as the targets in Sources/ECRFuzz/FuzzTargets.swift expect.
"""
import base64
import hashlib
import json
import shutil
from pathlib import Path

SEEDS = Path(__file__).resolve().parent / "seeds"
HOST = "123456789012.dkr.ecr.us-west-2.amazonaws.com"

AWS_CONFIG = """# comment
; another comment
[default]
region = us-east-1
output=json

[profile dev]
region = eu-west-1
role_arn = arn:aws:iam::123456789012:role/dev
source_profile = default
s3 =
  addressing_style = path
  max_concurrent_requests = 20
credential_process = /usr/bin/tool --arg "a # b"

[profile  spaced   name ]
region=ap-south-1
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
[services local]
ecr =
  endpoint_url = http://127.0.0.1:5000
"""

TOOL_CONFIG = """[registry 123456789012.dkr.ecr.us-east-1.amazonaws.com]
profile = exact
[registry *.dkr.ecr.*.amazonaws.com]
profile = broad
[registry *.dkr.ecr.eu-*.amazonaws.com]
role_arn = arn:aws:iam::1:role/eu
external_id = x
[account 210987654321]
profile = partner
[cache]
backend = file
"""


def b64(text):
    return base64.b64encode(text.encode()).decode()


def ecr_reply(expires, public=False):
    data = {"authorizationToken": b64("AWS:token"), "expiresAt": expires, "proxyEndpoint": f"https://{HOST}"}
    return json.dumps({"authorizationData": data if public else [data]})


def record(kind="token", expires=1800043200.0):
    return json.dumps({"version": 1, "kind": kind, "registry": "reg.example", "serverURL": "reg.example", "identity": "id",
                       "username": "AWS", "secret": "s", "issuedAt": 1800000000.0, "expiresAt": expires})


CREDENTIALS = {"AccessKeyId": "AKIA", "SecretAccessKey": "secret", "Token": "token", "Expiration": "2027-01-15T12:00:00Z"}

CORPORA = {
    "registry": [HOST, f"https://{HOST}", f"{HOST}:443", "https://index.docker.io/v1/", "docker.io", "ghcr.io",
                 "public.ecr.aws", "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example",
                 "123456789012.dkr-ecr-fips.us-gov-west-1.on.aws", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
                 "http://[::1]:5000/v2/", "reg.example.com:5000", "reg.example.com_5000", "not a url", "ftp://x",
                 "../x", "-reg.example-", "reg.example.", "[2001:db8::1]:443", "[g::1]", "::1:5000"],
    "endpoint": ["http://127.0.0.1:5000", "https://ecr.example/base/", "http://[fd00:ec2::254]", "http://169.254.169.254",
                 "https://user@host:443/path?q=1"],
    "helper": ["\x00" + HOST, "\x00https://index.docker.io/v1/",
               "\x01" + json.dumps({"ServerURL": "https://index.docker.io/v1/", "Username": "me", "Secret": "p@ss"}),
               "\x01" + json.dumps({"ServerURL": HOST, "Username": "AWS",
                                    "Secret": b64(json.dumps({"payload": "x", "expiration": 1800043200}))}),
               "\x02http://" + HOST, "\x83" + json.dumps({"ServerURL": "reg.example.com:5000", "Username": "u", "Secret": "s"}),
               "\x80" + json.dumps({"ServerURL": "reg.example.com", "Username": "u", "Secret": "s"}),
               "\x01" + json.dumps({"ServerURL": "../x", "Username": "u", "Secret": "s"}),
               "\x01" + json.dumps({"ServerURL": "reg.example", "Username": "u"})],
    "aws-config": [AWS_CONFIG, "[default]\naws_access_key_id = AKIA\naws_secret_access_key = s\n"],
    "tool-config": [TOOL_CONFIG + "\x00" + "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
                    "[registry x]\nregion = us-east-1\n\x00x", "[registry x]\nprofile = p\nduration_seconds = 900\n\x00x"],
    "glob": ["*.dkr.ecr.*.amazonaws.com\x00" + HOST, "eu-*\x00eu-west-1", "*\x00", "a*b*c\x00aXbYc"],
    "ecr-json": ["\x00" + ecr_reply(1800043200.0), "\x01" + ecr_reply(1800043200, public=True), "\x00{\"authorizationData\":[]}"],
    "sso-role": [json.dumps({"roleCredentials": {"accessKeyId": "AKIA", "secretAccessKey": "s", "sessionToken": "t",
                                                 "expiration": 1800003600000}})],
    "sso-cache": [json.dumps({"accessToken": "tok", "expiresAt": "2099-01-01T00:00:00Z"}),
                  json.dumps({"accessToken": "tok", "expiresAt": "2027-01-01T00:00:00Z", "clientId": "c", "clientSecret": "s",
                              "refreshToken": "r", "registrationExpiresAt": "2099-01-01T00:00:00Z"})
                  + "\x00" + json.dumps({"accessToken": "new", "expiresIn": 28800, "refreshToken": "r2", "tokenType": "Bearer"})],
    "container-json": [json.dumps(CREDENTIALS), json.dumps({"AccessKeyId": "AKIA", "SecretAccessKey": "s"})],
    "imds": ["token\x00role\n\x00" + json.dumps(dict(CREDENTIALS, Code="Success"))],
    "process-json": [json.dumps({"Version": 1, "AccessKeyId": "AKIA", "SecretAccessKey": "s", "SessionToken": "t",
                                 "Expiration": "2027-01-15T12:00:00.123+02:00"}), "/usr/bin/tool --arg \"a # b\" 'c d'"],
    "cache-record": [record(), record("login", None), record(expires=1e20),
                     "eyJwYXlsb2FkIjoieCIsImV4cGlyYXRpb24iOjE4MDAwNDMyMDB9"],
    "kernel-payload": ["docker-credential-ecr 2\n" + "0f" * 16 + "\ntoken\n1.dkr.ecr.us-east-1.amazonaws.com\n" + "ab" * 16 +
                       "\n1.dkr.ecr.us-east-1.amazonaws.com\nAWS\n1800000000\n1800043200\nsecret",
                       "docker-credential-ecr 2\n" + "0f" * 16 + "\nlogin\nregistry.example\n\nhttps://registry.example\nme\n"
                       "1800000000\nnever\npw\nwith lines",
                       "docker-credential-ecr 2\n" + "0f" * 16 + "\nnone\nregistry.example\n"],
    "sts-xml": ["<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>AKIA</AccessKeyId>"
                "<SecretAccessKey>s</SecretAccessKey><SessionToken>t&amp;x</SessionToken>"
                "<Expiration>2027-01-15T12:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>",
                "<ErrorResponse><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::1:user/x is not authorized"
                "</Message></Error></ErrorResponse>",
                json.dumps({"__type": "com.amazonaws#AccessDeniedException", "message": "no"})],
    "mirror-map": ["docker.io=123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub\nghcr.io=123456789012.dkr.ecr.us-east-1.amazonaws.com/ghcr"
                   "\x00docker.io/library/busybox:1.36",
                   "registry-1.docker.io=123456789012.dkr.ecr.eu-west-1.amazonaws.com/hub\x00busybox",
                   "quay.io=1.dkr.ecr.us-east-1.amazonaws.com/q\nquay.io=2.dkr.ecr.us-east-1.amazonaws.com/q\x00quay.io/a/b@sha256:" + "0" * 64],
    "registry-reply": ["\x00{}\x00\x00\x00" + json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                       "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + "1" * 64,
                                      "size": 10, "platform": {"os": "linux", "architecture": "amd64"}}]})
                       + "\x00\x00" + json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + "2" * 64, "size": 2},
                       "layers": []}) + "\x00\x04\x00\x00",
                       "\x00{}\x00\x07" + json.dumps({"errors": [{"code": "DENIED", "message": "User: arn:aws:sts::123456789012:assumed-role/node/i-1 "
                       "is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-west-2:123456789012:repository/team/app "
                       "because no identity-based policy allows the ecr:BatchGetImage action"}]}),
                       "\x00{}\x00\x08" + json.dumps({"errors": [{"code": "NAME_UNKNOWN", "message": "The repository with name 'team/app' does not exist"}]}),
                       "\x06" + json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "Not Authorized"}]})],
    "kubelet-config": [json.dumps({"apiVersion": "kubelet.config.k8s.io/v1", "kind": "CredentialProviderConfig", "providers": [
                           {"name": "ecr-credential-provider", "matchImages": ["*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com.cn"],
                            "defaultCacheDuration": "12h", "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
                            "args": ["get-credentials"], "env": [{"name": "AWS_REGION", "value": "us-west-2"}]}]}),
                       json.dumps({"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "CredentialProviderConfig", "providers": [
                           {"name": "x", "matchImages": ["docker.io", "*.*:5000/a"], "defaultCacheDuration": "1h30m",
                            "apiVersion": "credentialprovider.kubelet.k8s.io/v1beta1"}]})],
    "kubelet-yaml": ["apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: ecr-credential-provider\n"
                     "    matchImages:\n      - \"*.dkr.ecr.*.amazonaws.com\"\n    defaultCacheDuration: 12h\n"
                     "    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    args: [get-credentials]\n"
                     "    env:\n      - {name: AWS_REGION, value: us-west-2}\n",
                     "base: &b {name: x, matchImages: ['*.dkr.ecr.*.amazonaws.com'], defaultCacheDuration: 1h}\n"
                     "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: CredentialProviderConfig\nproviders:\n  - <<: *b\n"
                     "    apiVersion: credentialprovider.kubelet.k8s.io/v1beta1\n---\nsecond: document\n",
                     "a: yes\nb: 0x1F\nc: 1e3\nd: ~\ne: !!binary aGVsbG8=\n",
                     "a: -0x-1\nb: 0b+1\n"],
    "kubelet-flags": ["KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock "
                      "--image-credential-provider-config=/etc/kubernetes/credential-provider.yaml "
                      "--image-credential-provider-bin-dir /usr/local/bin\"\n",
                      "NODEADM_KUBELET_ARGS='--image-credential-provider-config=/etc/eks/image-credential-provider/config.json' \\\n"
                      "  EXTRA=\"a \\\"quoted\\\" b\"\n# comment\n",
                      "--image-credential-provider-config=${SNAP_DATA}/args/image-credential-provider-config.yaml\n"
                      "--image-credential-provider-bin-dir=${SNAP_COMMON}/bin\n$SNAP_COMMONX\n"],

}


def main():
    for target, inputs in CORPORA.items():
        # Only the targets listed here: the seeds of other targets are kept by hand.
        directory = SEEDS / target
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        for text in inputs:
            data = text.encode("utf-8")
            (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


if __name__ == "__main__":
    main()
