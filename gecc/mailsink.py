"""A real SMTP server that keeps every message it receives as a file (local stack and tests).

``python -m gecc.mailsink --host 127.0.0.1 --port 8025 --dir .gecc/mail`` stores each message
as ``<dir>/<time ns>-<sequence>-<Message-ID hash>.eml``, written whole or not at all (a
temporary file renamed into place). Like other development mail sinks (Mailpit, MailHog) it
does not fsync each message: a stored message survives the sink's restart, not the
machine's crash; the fsync was a third of the sink's CPU in a round's burst
(docs/benchmarks.md), on the same two cores as the services it stands beside. While a
file ``<dir>/.refuse`` exists every RCPT and DATA is answered ``451`` (try again later), so a
test can simulate an SMTP outage and its recovery without stopping the server.
"""

import argparse
import asyncio
import email.policy
import hashlib
import itertools
import re
import sys
import time
from collections.abc import Sequence
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import uvloop
from aiosmtpd.smtp import SMTP, Envelope, Session

# The Message-ID of the header section (it names the file): a search instead of the email
# package's header parser, which cost about 0.3 ms a message.
MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*?)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
REFUSE_FILE = ".refuse"
REFUSED = "451 4.3.2 Mail sink refuses deliveries for now (control file .refuse)"


class Mailbox:
    """The aiosmtpd handler: accept unless refusing, then store the message."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._sequence = itertools.count()

    @property
    def refusing(self) -> bool:
        return (self.directory / REFUSE_FILE).exists()

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.refusing:
            return REFUSED
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refusing:
            return REFUSED
        content = envelope.original_content or b""
        trace = (
            f"X-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        # In a thread: creating a file can wait on the file system's journal.
        await asyncio.to_thread(self.store, trace + content)
        return "250 OK stored"

    def store(self, raw: bytes) -> Path:
        digest = hashlib.sha256(message_id(raw)).hexdigest()[:16]
        name = f"{time.time_ns():020d}-{next(self._sequence):06d}-{digest}.eml"
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(raw)
        return temporary.replace(self.directory / name)


def message_id(raw: bytes) -> bytes:
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    found = MESSAGE_ID.search(head)
    return found.group(1) if found else b""


async def serve(directory: Path, host: str = "127.0.0.1", port: int = 8025) -> asyncio.Server:
    """Start listening (``port`` 0: any free port, see ``server.sockets``)."""
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    loop = asyncio.get_running_loop()
    handler = Mailbox(directory)

    def protocol() -> SMTP:
        return SMTP(handler, hostname="gecc-mailsink", enable_SMTPUTF8=True, loop=loop)

    return await loop.create_server(protocol, host, port)


def bound_port(server: asyncio.Server) -> int:
    port: int = server.sockets[0].getsockname()[1]
    return port


def read_mailbox(directory: Path | str, since_ns: int = 0) -> list[EmailMessage]:
    """Every message stored (at or after ``since_ns``, Unix nanoseconds), oldest first."""
    parser = BytesParser(policy=email.policy.default)
    newer = f"{since_ns:020d}"
    return [
        parser.parsebytes(path.read_bytes())
        for path in sorted(Path(directory).glob("[!.]*.eml"))
        if path.name >= newer
    ]


async def _main(args: argparse.Namespace) -> None:
    directory = Path(args.dir)
    server = await serve(directory, args.host, args.port)
    print(
        f"mailsink ready on {args.host}:{bound_port(server)}, storing in {directory}",
        flush=True,
    )
    async with server:
        await server.serve_forever()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gecc.mailsink", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", default=".gecc/mail")
    try:
        uvloop.run(_main(parser.parse_args(argv)))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
