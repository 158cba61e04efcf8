"""Server-side SigV4 verification with botocore, as AWS front ends do it."""
import datetime
import re
import threading
from typing import Mapping, Optional

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

_CREDENTIAL = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$"
)


# botocore reads the signing time from a module function; verifications take turns patching it.
_SIGNING_LOCK = threading.Lock()


class SignatureError(Exception):
    """The request is not signed correctly; carries the AWS error code and HTTP status."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def verify(method: str, url: str, headers: Mapping[str, str], body: bytes,
           secrets: Mapping[str, str], service: str, region: Optional[str], clock_offset: float = 0.0) -> dict:
    """Checks the Authorization header; returns the parsed credential scope.

    `secrets` maps access key ids to secret keys. `region` None accepts any region.
    `clock_offset` is how far the service's clock is ahead of this machine's, in seconds.
    """
    lower = {name.lower(): value for name, value in headers.items()}
    authorization = lower.get("authorization")
    if not authorization:
        raise SignatureError(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    match = _CREDENTIAL.match(authorization)
    if not match:
        raise SignatureError(403, "IncompleteSignatureException", "Authorization header is malformed")
    scope = match.groupdict()
    if scope["key"] not in secrets:
        raise SignatureError(400, "UnrecognizedClientException", "The security token included in the request is invalid.")
    if scope["service"] != service:
        raise SignatureError(403, "InvalidSignatureException", f"Credential should be scoped to correct service: '{service}'.")
    if region is not None and scope["region"] != region:
        raise SignatureError(403, "InvalidSignatureException",
                             f"Credential should be scoped to a valid region, not '{scope['region']}'.")
    amz_date = lower.get("x-amz-date", "")
    try:
        moment = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
    except ValueError:
        raise SignatureError(400, "IncompleteSignatureException", "X-Amz-Date is missing or malformed")
    now = datetime.datetime.utcnow() + datetime.timedelta(seconds=clock_offset)
    if abs((now - moment).total_seconds()) > 300:
        raise SignatureError(403, "InvalidSignatureException",
                             f"Signature expired: {amz_date} is now earlier or later than the allowed 5 minutes.")
    signed = scope["signed"].split(";")
    for required in ("host", "x-amz-date"):
        if required not in signed:
            raise SignatureError(403, "InvalidSignatureException", f"'{required}' must be a signed header")
    request = AWSRequest(method=method, url=url, data=body,
                         headers={name: lower[name] for name in signed if name in lower})
    signer = botocore.auth.SigV4Auth(Credentials(scope["key"], secrets[scope["key"]], lower.get("x-amz-security-token")),
                                     service, scope["region"])
    with _SIGNING_LOCK:
        original = botocore.auth.get_current_datetime
        botocore.auth.get_current_datetime = lambda: moment
        try:
            signer.add_auth(request)
        finally:
            botocore.auth.get_current_datetime = original
    expected = _CREDENTIAL.match(request.headers["Authorization"]).group("signature")
    if expected != scope["signature"]:
        raise SignatureError(403, "InvalidSignatureException",
                             "The request signature we calculated does not match the signature you provided.")
    return scope
