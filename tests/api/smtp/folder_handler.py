"""An aiosmtpd handler for the API suite: each accepted message is written to a folder as
`<n>.json`: the envelope recipients, the decoded subject, plain-text and HTML bodies, every
header, and the raw message. A recipient whose local
part starts with `reject` is refused for good (550), one starting with `defer` for now (451).

    python -m aiosmtpd -n -l 127.0.0.1:PORT -c folder_handler.FolderHandler FOLDER
"""

import email
import email.policy
import itertools
import json
import os
import time


class FolderHandler:
    def __init__(self, folder):
        self.folder = folder
        self.counter = itertools.count()
        os.makedirs(folder, exist_ok=True)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("FolderHandler takes the folder to write to")
        return cls(args[0])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("defer"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        message = email.message_from_bytes(content, policy=email.policy.default)

        def body(kind):
            part = message.get_body(preferencelist=(kind,))
            return part.get_content() if part is not None else None

        record = {
            "envelope_to": list(envelope.rcpt_tos),
            "envelope_from": envelope.mail_from,
            "subject": str(message["subject"] or ""),
            "headers": {k.lower(): str(v) for k, v in message.items()},
            "text": body("plain"),
            "html": body("html"),
            "raw": content.decode("utf-8", "replace"),
        }
        path = os.path.join(self.folder, f"{time.time_ns()}-{n:06d}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 OK"
