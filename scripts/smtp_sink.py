#!/usr/bin/env python3
"""An SMTP sink on loopback for the mail tests: accepts every message and
stores it, never relays.

    python3 scripts/smtp_sink.py --port P --dir D

Each message becomes D/<seq>.eml (the bytes as received) and D/<seq>.json
(its envelope: {"envelope_from": ..., "envelope_to": [...]}), seq
zero-padded and continuing after the files already in D, so a restart on
the same directory appends. Both are written to a temporary name and
renamed, the .json first: once a .eml exists, the message is complete.
Parsing is left to the reader (tests/src/smtp.rs), which keeps the sink
fast enough to measure the worker rather than itself.

Prints `ready <port>` on stdout once listening (`--port 0` picks a free
port); stops on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import json
import os
import re
import signal
import sys

try:
    from aiosmtpd.smtp import SMTP
except ImportError:  # pragma: no cover - reported to the test, which fails
    sys.stderr.write(
        "smtp_sink: Python's aiosmtpd is missing; run scripts/test-setup.sh "
        "(pip install aiosmtpd)\n"
    )
    sys.exit(3)


def write_atomically(path, data):
    # Readers never see half a file; no fsync: a test sink need not survive
    # power loss, and it would cap the rate the tests measure.
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class Mailbox:
    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        taken = [
            int(m.group(1))
            for m in (re.fullmatch(r"(\d+)\.eml", n) for n in os.listdir(directory))
            if m
        ]
        self.seq = max(taken, default=0)

    async def handle_DATA(self, server, session, envelope):
        self.seq += 1
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        view = {
            "envelope_from": envelope.mail_from,
            "envelope_to": list(envelope.rcpt_tos),
        }
        stem = os.path.join(self.directory, f"{self.seq:06d}")
        write_atomically(f"{stem}.json", json.dumps(view).encode("utf-8"))
        write_atomically(f"{stem}.eml", raw)
        return "250 OK stored"


async def serve(port, directory):
    mailbox = Mailbox(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(mailbox, hostname="sink.test", enable_SMTPUTF8=True),
        host="127.0.0.1",
        port=port,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    bound = server.sockets[0].getsockname()[1]
    print(f"ready {bound}", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.dir))


if __name__ == "__main__":
    main()
