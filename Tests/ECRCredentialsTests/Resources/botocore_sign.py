"""Signs requests with botocore's SigV4Auth, the AWS CLI's own signer, as a second oracle.

Reads a JSON list of requests on stdin, each {"method", "url", "headers": [[name, value]...],
"body", "access_key", "secret_key", "token", "service", "region", "time"}, and prints a JSON
list of the headers botocore adds (X-Amz-Date, X-Amz-Security-Token, Authorization).
"""
import datetime
import json
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

results = []
for case in json.load(sys.stdin):
    moment = datetime.datetime.fromtimestamp(case["time"], tz=datetime.timezone.utc).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda moment=moment: moment
    request = AWSRequest(method=case["method"], url=case["url"], data=case["body"].encode(),
                         headers=dict(case["headers"]))
    credentials = Credentials(case["access_key"], case["secret_key"], case.get("token"))
    botocore.auth.SigV4Auth(credentials, case["service"], case["region"]).add_auth(request)
    results.append({name: request.headers[name] for name in ("X-Amz-Date", "X-Amz-Security-Token", "Authorization")
                    if name in request.headers})
json.dump(results, sys.stdout)
