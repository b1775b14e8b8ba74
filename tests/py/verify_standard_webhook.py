"""Verifies one received webhook with the independent `standardwebhooks` package.

Usage: verify_standard_webhook.py SECRET < request.json
request.json: {"headers": {name: value}, "body_b64": "..."}; prints the event type on success,
exits 1 with the library's error otherwise.
"""
import base64
import json
import sys

from standardwebhooks.webhooks import Webhook

request = json.load(sys.stdin)
body = base64.b64decode(request["body_b64"])
try:
    event = Webhook(sys.argv[1]).verify(body, request["headers"])
except Exception as e:  # the library's WebhookVerificationError and friends
    print(f"verification failed: {e!r}", file=sys.stderr)
    sys.exit(1)
print(event["type"])
