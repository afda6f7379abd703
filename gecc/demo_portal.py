"""After the demo round: the services back on real time, a round open for people, and links to
sign in to the portal as they would (the portal's own sign-in page, the link from the mail).

The demo's round runs on an accelerated clock (a virtual day in seconds), on which no person
could fill in a form before the round closed; the hands-on round runs on real time."""

import asyncio
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlencode

import httpx

from gecc import mailsink
from gecc.stack import services, stack
from gecc.stack.config import StackConfig
from gecc.stack_client import StackClient
from services.intake.domain.accounts import Scope
from services.intake.domain.accounts_file import ListedMembership
from services.intake.domain.centers import Center
from services.notifier.domain.recipients_file import OPERATORS_EMAIL, office_mailbox

HANDS_ON_ROUND = "FY2570-FY"
# The parent office and the operator the demo signs in as (their mailboxes are the ones the
# notifier's demo recipients use, so one person gets both the summaries and the pages).
DEMO_OFFICE = "PMO/BMA"
OFFICE_EMAIL = office_mailbox(DEMO_OFFICE)
OPERATOR_EMAIL = OPERATORS_EMAIL
OPEN_FOR = timedelta(days=14)
CLOSE_AFTER_DUE = timedelta(days=14)
LINK = re.compile(r"https?://\S+/sign-in/\S+")


@dataclass(frozen=True)
class SignInLink:
    who: str  # what the person acts as, in words
    email: str
    link: str

    def leading_to(self, path: str) -> "SignInLink":
        """The same link, going to ``path`` once the person signed in."""
        return SignInLink(self.who, self.email, f"{self.link}?{urlencode({'next': path})}")


def demo_accounts() -> list[ListedMembership]:
    """The office and operator accounts of the demo (centers' come from the registry)."""
    return [
        ListedMembership(1, OFFICE_EMAIL, Scope.of("office", DEMO_OFFICE)),
        ListedMembership(2, OPERATOR_EMAIL, Scope.of("operator", "operators")),
    ]


async def office_and_operator_links(config: StackConfig, round_id: str) -> list[SignInLink]:
    """Links that open the round's pages: the office's completeness, the operator's round
    (after the demo the open round is the hands-on one, which nobody has reported in yet)."""
    office = await sign_in_link(config, OFFICE_EMAIL, f"the office of {DEMO_OFFICE} (กรุงเทพมหานคร)")
    operator = await sign_in_link(config, OPERATOR_EMAIL, "an OPS/PMO operator")
    return [
        office.leading_to(f"/office/{round_id}/{DEMO_OFFICE}"),
        operator.leading_to(f"/operator/rounds/{round_id}"),
    ]


def office_sample(centers: Sequence[Center]) -> Center:
    """A center under the demo's office, so the office sees what it reports by hand."""
    return next(
        c
        for c in centers
        if c.office_path == DEMO_OFFICE or c.office_path.startswith(DEMO_OFFICE + "/")
    )


async def everyone_links(
    config: StackConfig, centers: Sequence[Center], round_id: str
) -> list[SignInLink]:
    """Fresh links (a link works once) for a center under the office, the office and an
    operator."""
    sample = office_sample(centers)
    center = await sign_in_link(config, sample.contact_emails[0], f"{sample.id} {sample.name_th}")
    return [center, *await office_and_operator_links(config, round_id)]


async def back_to_real_time(config: StackConfig, stack_client: StackClient) -> datetime:
    """Restart the services on the real clock and open the hands-on round now: due in two
    weeks, closing two weeks later. Returns its due time."""
    stack.stop_services(config)
    for name in ("GECC_CLOCK_SPEED", "GECC_CLOCK_EPOCH", "GECC_CLOCK_START"):
        os.environ.pop(name, None)
    stack.start_services(config)
    urls = {name: f"http://{config.service_address(name)}" for name in config.service_ports}
    late = await services.consumers_joined(urls, within=120)
    if late is not None:
        raise RuntimeError(f"{late} did not connect to Kafka after the restart")
    now = datetime.now(UTC)
    due = now + OPEN_FOR
    await stack_client.change_round_dates(
        HANDS_ON_ROUND,
        {
            "opens_at": (now - timedelta(days=1)).isoformat(),
            "due_at": due.isoformat(),
            "closes_at": (due + CLOSE_AFTER_DUE).isoformat(),
        },
        "demo: the hands-on round opens for reports by hand in the portal",
    )
    return due


async def sign_in_link(config: StackConfig, email: str, who: str) -> SignInLink:
    """Ask for a link on the portal's sign-in page, as a person does, and read it from the
    mail the notifier sent."""
    since = time.time_ns()
    portal = f"http://{config.service_address('portal')}"
    async with httpx.AsyncClient(base_url=portal, timeout=15, trust_env=False) as client:
        page = await client.get("/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if token is None:
            raise RuntimeError(f"the portal's sign-in page has no form: {page.status_code}")
        asked = await client.post("/sign-in", data={"email": email, "csrf_token": token[1]})
        if asked.status_code != 303:
            raise RuntimeError(f"the portal refused the sign-in request: {asked.status_code}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        mail = await asyncio.to_thread(_sign_in_mail, config, email, since)
        if mail:
            body = mail[-1].get_body(("plain",))
            found = LINK.search(body.get_content()) if body is not None else None
            if found:
                return SignInLink(who, email, found.group(0))
        await asyncio.sleep(0.2)
    raise RuntimeError(f"no sign-in e-mail to {email} arrived within 30 s")


def _sign_in_mail(config: StackConfig, email: str, since_ns: int) -> list[EmailMessage]:
    return [
        m
        for m in mailsink.read_mailbox(config.mail_dir, since_ns)
        if m["X-GECC-Kind"] == "sign_in" and m["To"] == email
    ]
