"""Who may open which portal page: every page, walked by four people signed in as people
are (the sign-in page, the link from the mail, its button) against every service running:
a center, the office of another subtree, the center's parent office and an OPS/PMO
operator. What a person may not see answers 404 (it is not theirs to know it exists); an
office on the operator's pages is told 403 (it knows they exist and may not use them).

Authorization is intake's: the portal passes each person's own credential, so these
answers are intake's decisions as much as the portal's."""

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import asyncpg
import httpx
import pytest

from gecc import mailsink
from services.intake import admin
from services.intake.domain.accounts import Scope
from services.intake.domain.accounts_file import ListedMembership
from services.intake.domain.centers import Center
from services.intake.handlers import accounts
from tests.support.isolation import Isolated
from tests.support.polling import eventually
from tests.support.samples import submission_body
from tests.support.services import running_services, wait_for_consumers

ROUND = "FY2570-H1"
CENTERS = [
    Center(
        "GECC-0001",
        "ศูนย์ราชการสะดวก สำนักงานเขตพระนคร",
        "Phra Nakhon District Office",
        "PMO/BMA/DISTRICT",
        "กรุงเทพมหานคร",
        contact_emails=("saraban1@district1.go.th",),
    ),
    Center(
        "GECC-0002",
        "ศูนย์ราชการสะดวก สำนักงานเขตดุสิต",
        "Dusit District Office",
        "PMO/BMA/DISTRICT",
        "กรุงเทพมหานคร",
        contact_emails=("saraban2@district2.go.th",),
    ),
    Center(
        "GECC-0003",
        "ศูนย์ราชการสะดวก ที่ว่าการอำเภอเมืองเชียงใหม่",
        "Mueang Chiang Mai District Office",
        "PMO/MOI/DOPA",
        "เชียงใหม่",
        contact_emails=("saraban3@dopa.go.th",),
    ),
]
PEOPLE = {
    "center": "saraban1@district1.go.th",
    "other office": "office@moi.go.th",
    "office": "office@bma.go.th",
    "operator": "operator@opdc.go.th",
}
ACCOUNTS = [
    ListedMembership(1, PEOPLE["other office"], Scope.of("office", "PMO/MOI")),
    ListedMembership(2, PEOPLE["office"], Scope.of("office", "PMO/BMA")),
    ListedMembership(3, PEOPLE["operator"], Scope.of("operator", "operators")),
]
OFFICE = f"/office/{ROUND}/PMO/BMA"
OPERATOR_PAGES = [
    "/operator/rounds",
    f"/operator/rounds/{ROUND}",
    f"/operator/rounds/{ROUND}/extensions",
    f"/operator/rounds/{ROUND}/exports",
    "/operator/audit",
    "/operator/accounts",
    "/operator/accounts/import",
]
# Page -> the answer to (center, other office, office, operator).
WALK: dict[str, tuple[int, int, int, int]] = {
    "/rounds": (200, 404, 404, 404),
    f"/rounds/{ROUND}/report": (200, 404, 404, 404),
    "/office": (404, 303, 303, 303),
    OFFICE: (404, 404, 200, 200),
    f"{OFFICE}/DISTRICT": (404, 404, 200, 200),
    f"{OFFICE}?list=centers": (404, 404, 200, 200),
    f"{OFFICE}/live": (404, 404, 200, 200),
    f"{OFFICE}/download?what=missing&format=csv": (404, 404, 200, 200),
    f"{OFFICE}/download?what=levels&format=xlsx": (404, 404, 200, 200),
    f"/office/{ROUND}/PMO/MOI": (404, 200, 404, 200),
    f"/office/{ROUND}/PMO": (404, 404, 404, 200),
    # A center reads its own report on its own pages.
    f"/centers/GECC-0001/rounds/{ROUND}": (303, 404, 200, 200),
    f"/centers/GECC-0002/rounds/{ROUND}": (404, 404, 200, 200),
    f"/centers/GECC-0003/rounds/{ROUND}": (404, 200, 404, 200),
    # A center's survey poster (streamed from the survey service): its own, its offices'.
    "/centers/GECC-0001/poster.pdf": (200, 404, 200, 200),
    "/centers/GECC-0003/poster.pdf": (404, 200, 404, 200),
    **{page: (404, 403, 403, 200) for page in OPERATOR_PAGES},
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"https?://\S+/sign-in/\S+")


@dataclass
class Portal:
    url: str
    mail: Path
    submission_page: str


@pytest.fixture
async def portal(isolated: Isolated, tmp_path: Path) -> AsyncIterator[Portal]:
    mail = tmp_path / "mail"
    sink = await mailsink.serve(mail, "127.0.0.1", 0)
    env = {
        "GECC_NOTIFIER_SMTP_HOST": "127.0.0.1",
        "GECC_NOTIFIER_SMTP_PORT": str(mailsink.bound_port(sink)),
    }
    try:
        with running_services(isolated, tmp_path / "logs", env) as processes:
            await wait_for_consumers({name: p.url for name, p in processes.items()})
            token = await _registry(isolated.service_url("intake"))
            async with httpx.AsyncClient(base_url=processes["intake"].url) as intake:
                sent = await intake.post(
                    "/v1/submissions",
                    json=submission_body(),
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "walk-1"},
                )
            assert sent.status_code == 201, sent.text
            submission = f"/submissions/{sent.json()['submission_id']}"
            # The survey service learns the centers from the registry's topic, then reads
            # them into memory every few seconds: its posters exist from then on. Drawing the
            # first one (WeasyPrint loading its fonts) took over httpx's 5 s on a busy machine.
            survey_url = processes["survey"].url
            async with httpx.AsyncClient(base_url=survey_url, timeout=60) as survey:
                for center in ("GECC-0001", "GECC-0003"):
                    poster = f"/v1/centers/{center}/poster.pdf"
                    await eventually(
                        partial(survey.get, poster), lambda a: a.status_code == 200, within=30
                    )
            yield Portal(processes["portal"].url, mail, submission)
    finally:
        sink.close()


async def _registry(database: str) -> str:
    """The centers, the accounts, the round open now; a token of the first center."""
    conn = await asyncpg.connect(database)
    now = datetime.now(UTC)
    try:
        await admin.register_centers(conn, CENTERS)
        await accounts.import_accounts(conn, ACCOUNTS, "test")
        await admin.set_round_dates(
            conn, ROUND, now - timedelta(days=2), now + timedelta(days=12), now + timedelta(days=26)
        )
        return (await admin.issue_token(conn, "center", center_id="GECC-0001")).token
    finally:
        await conn.close()


async def signed_in(portal: Portal, email: str) -> httpx.AsyncClient:
    """A browser-like client signed in as ``email`` through the portal's pages."""
    client = httpx.AsyncClient(base_url=portal.url, follow_redirects=False, trust_env=False)
    page = await client.get("/sign-in")
    csrf = CSRF.search(page.text)
    assert csrf, page.text[:300]
    asked = await client.post("/sign-in", data={"email": email, "csrf_token": csrf[1]})
    assert asked.status_code == 303, asked.text[:300]

    def links() -> list[str]:
        return [
            found.group(0)
            for m in mailsink.read_mailbox(portal.mail)
            if m["X-GECC-Kind"] == "sign_in" and m["To"] == email
            for body in [m.get_body(("plain",))]
            if body is not None
            for found in [LINK.search(body.get_content())]
            if found
        ]

    (link,) = await eventually(lambda: asyncio.to_thread(links), bool, within=20)
    confirm = await client.get(link)
    csrf = CSRF.search(confirm.text)
    assert csrf, confirm.text[:300]
    opened = await client.post(link, data={"csrf_token": csrf[1]})
    assert opened.status_code == 303, opened.text[:300]
    return client


async def test_every_page_answers_each_person_as_their_place_allows(portal: Portal) -> None:
    """Then, with a valid form token (the sign-out form's, on every page), the operator's
    forms still refuse the office (one test: starting every service is the slow part)."""
    people = [await signed_in(portal, email) for email in PEOPLE.values()]
    walk = {**WALK, portal.submission_page: (200, 404, 404, 404)}
    try:
        answers = {
            page: tuple([(await person.get(page)).status_code for person in people])
            for page in walk
        }
        office = people[list(PEOPLE).index("office")]
        csrf = CSRF.search((await office.get(OFFICE)).text)
        assert csrf, "the office page has no form token"
        form = {"csrf_token": csrf[1], "center_id": "GECC-0001", "reason": "ขอขยายเวลา"}
        posted = {
            path: (await office.post(path, data=form)).status_code
            for path in (
                f"/operator/rounds/{ROUND}/exports",
                f"/operator/rounds/{ROUND}/extensions",
            )
        }
    finally:
        for person in people:
            await person.aclose()
    wrong = {page: (got, walk[page]) for page, got in answers.items() if got != walk[page]}
    assert not wrong, f"answers to ({', '.join(PEOPLE)}):\n" + "\n".join(
        f"{page}: {got}, expected {expected}" for page, (got, expected) in wrong.items()
    )
    assert posted == dict.fromkeys(posted, 403)
