"""Verifies one received webhook twice: with the independent `standardwebhooks` package, and
with the few lines of plain HMAC that docs/delivery.md shows receivers.

Usage: verify_standard_webhook.py SECRET < request.json
request.json: {"headers": {name: value}, "body_b64": "..."}; prints the event type when both
accept it, exits 1 with the reason otherwise.
"""
import base64
import hashlib
import hmac
import json
import sys
import time

from standardwebhooks.webhooks import Webhook


def plain_hmac_ok(secret, headers, raw_body):
    # The recipe from docs/delivery.md, kept word for word.
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id, ts = headers["webhook-id"], headers["webhook-timestamp"]
    signed = f"{msg_id}.{ts}.".encode() + raw_body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    fresh = abs(time.time() - int(ts)) < 300
    return fresh and any(
        hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split()
    )


request = json.load(sys.stdin)
body = base64.b64decode(request["body_b64"])
try:
    event = Webhook(sys.argv[1]).verify(body, request["headers"])
except Exception as e:  # the library's WebhookVerificationError and friends
    print(f"standardwebhooks refused it: {e!r}", file=sys.stderr)
    sys.exit(1)
if not plain_hmac_ok(sys.argv[1], request["headers"], body):
    print("the plain HMAC recipe refused what standardwebhooks accepted", file=sys.stderr)
    sys.exit(1)
print(event["type"])
