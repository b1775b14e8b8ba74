"""An aiosmtpd handler for tests: every accepted message becomes a JSON file in a folder.

    PYTHONPATH=tests/py python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c smtp_sink.Sink OUT_DIR

Each file holds the envelope, the decoded headers and every non-multipart part's content type
and decoded text. Recipients starting with "reject" are refused with 550.
"""
import email
import email.policy
import json
import os


class Sink:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.count = 0
        os.makedirs(out_dir, exist_ok=True)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("Sink needs the output folder")
        return cls(args[0])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        parts = [
            {"type": p.get_content_type(), "text": p.get_content()}
            for p in msg.walk()
            if not p.is_multipart()
        ]
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "content_type": msg.get_content_type(),
            "headers": {k.lower(): str(v) for k, v in msg.items()},
            "parts": parts,
        }
        self.count += 1
        path = os.path.join(self.out_dir, f"{self.count:04}.json")
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 Message accepted for delivery"
