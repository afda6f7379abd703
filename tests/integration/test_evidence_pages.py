"""Evidence files on the portal's pages (issue 18 point 4) on its real database, with the
fake intake of tests/support/fake_intake_evidence.py (written after the contract): upload
without script (the whole report form posted as multipart: the draft kept), intake's
refusals next to the item, the script's JSON answers, removing, the files reviewed and sent
by id, the office's read-only view, downloads and thumbnails, and who may open a file."""

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.portal.app import create_app
from services.portal.domain.evidence import MAX_UPLOAD_BYTES
from services.portal.settings import PortalSettings
from tests.integration.test_portal_pages import CENTERS, A, Portal, form_fields
from tests.support.fake_intake import ROUND
from tests.support.fake_intake_evidence import PDF, PNG, FakeIntakeEvidence, fake_with_evidence
from tests.support.isolation import Isolated

C = "saraban@bangrak.go.th"  # GECC-0003, PMO/BMA/DISTRICT, nothing sent yet
BMA = "office@bma.go.th"
MOI = "office@moi.go.th"
OPERATOR = "ops@opdc.go.th"
REPORT = f"/rounds/{ROUND}/report"


@pytest.fixture
async def portal(isolated: Isolated) -> AsyncIterator[Portal]:
    database = isolated.service_url("portal")
    settings = PortalSettings(database_url=database, public_url="http://127.0.0.1:8084")
    app = create_app(settings)
    fake = fake_with_evidence(
        CENTERS,
        {A: "GECC-0001", C: "GECC-0003"},
        {BMA: "PMO/BMA", MOI: "PMO/MOI", OPERATOR: None},
    )
    async with app.router.lifespan_context(app):
        app.state.intake = fake
        transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=settings.public_url) as client:
            yield Portal(client, fake, database)


def fake(portal: Portal) -> FakeIntakeEvidence:
    assert isinstance(portal.intake, FakeIntakeEvidence)
    return portal.intake


async def upload(
    portal: Portal, item: str, files: list[tuple[str, bytes, str]], **changes: str
) -> httpx.Response:
    """The report form posted by the item's upload button, as a browser without script."""
    token = await portal.csrf(REPORT)
    fields = {**form_fields(token), **await hidden_ids(portal), **changes}
    parts = [(f"upload-{item}", (name, data, kind)) for name, data, kind in files]
    return await portal.client.post(
        f"/rounds/{ROUND}/items/{item}/evidence", data=fields, files=parts
    )


async def hidden_ids(portal: Portal) -> dict[str, str]:
    """Each item's files as the form carries them (a browser posts them all)."""
    page = await portal.client.get(REPORT)
    return dict(re.findall(r'name="(files-[A-Z0-9]+)" value="([^"]*)"', page.text))


def item_box(html: str, item: str) -> str:
    return html.split(f'id="files-{item}"', 1)[1].split("</fieldset>", 1)[0]


async def draft_item(portal: Portal, item: str) -> dict[str, Any]:
    rows = await portal.sql("SELECT fields FROM drafts WHERE center_id = 'GECC-0003'")
    fields = rows[0]["fields"]
    fields = json.loads(fields) if isinstance(fields, str) else fields
    return {"respondents": fields["respondents"], **fields["items"][item]}


async def test_a_file_uploaded_without_script_is_listed_and_what_was_typed_is_kept(
    portal: Portal,
) -> None:
    await portal.sign_in(C)
    photo = PNG + b"\x01" * (200 * 1024)
    sent = await upload(portal, "P02", [("จุดบริการ.png", photo, "image/png")], respondents="77")
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{REPORT}?item=P02&added=1#files-P02"
    assert fake(portal).pieces[-1][:2] == [64 * 1024, 64 * 1024]  # streamed in pieces
    saved = await draft_item(portal, "P02")
    (file_id,) = saved["files"]
    assert saved["respondents"] == "77" and saved["met"] == "yes"
    page = await portal.client.get(sent.headers["location"])
    box = item_box(page.text, "P02")
    assert f'<a href="/evidence/{file_id}" class="file__name" download>จุดบริการ.png</a>' in box
    assert "PNG · 200 กิโลไบต์" in box
    assert f'src="/evidence/{file_id}/thumbnail"' in box
    assert "แนบไฟล์แล้ว 1 ไฟล์" in box
    assert f'name="files-P02" value="{file_id}"' in box
    assert 'value="77"' in page.text  # the respondents typed before the upload
    # the same bytes again: the same file, listed once
    again = await upload(portal, "P02", [("copy.png", photo, "image/png")])
    assert again.status_code == 303
    assert (await draft_item(portal, "P02"))["files"] == [file_id]


async def test_intakes_refusals_are_shown_in_thai_next_to_the_item(portal: Portal) -> None:
    await portal.sign_in(C)
    text = await upload(portal, "P03", [("notes.txt", b"hello", "application/pdf")])
    assert text.headers["location"].startswith(f"{REPORT}?item=P03&error=unsupported_type")
    page = await portal.client.get(text.headers["location"])
    box = item_box(page.text, "P03")
    assert "notes.txt: ไม่รองรับไฟล์ชนิดนี้: แนบได้เฉพาะ PDF, JPEG, PNG หรือ WebP" in box
    assert 'aria-invalid="true"' in box
    assert "ไม่รองรับไฟล์ชนิดนี้" not in item_box(page.text, "P02")

    fake(portal).storage_down = True
    down = await upload(portal, "P03", [("a.pdf", PDF, "application/pdf")])
    page = await portal.client.get(down.headers["location"])
    assert "ลองใหม่อีกครั้ง" in item_box(page.text, "P03")
    fake(portal).storage_down = False

    fake(portal).quota = 10
    full = await upload(portal, "P03", [("a.pdf", PDF, "application/pdf")])
    assert "error=quota_exceeded" in full.headers["location"]
    fake(portal).quota = 300 * 1024 * 1024

    for n in range(20):
        assert (await upload(portal, "P04", [(f"{n}.pdf", PDF + bytes([n]), "x")])).status_code
    many = await upload(portal, "P04", [("21.pdf", PDF + b"21", "application/pdf")])
    assert "error=too_many_files" in many.headers["location"]
    assert len((await draft_item(portal, "P04"))["files"]) == 20


async def test_a_post_bigger_than_a_file_may_be_is_refused_from_its_length(
    portal: Portal,
) -> None:
    await portal.sign_in(C)
    token = await portal.csrf(REPORT)
    big = PDF + b"\x00" * MAX_UPLOAD_BYTES
    sent = await portal.client.post(
        f"/rounds/{ROUND}/items/P01/evidence",
        data={"csrf_token": token},
        files=[("upload-P01", ("big.pdf", big, "application/pdf"))],
    )
    assert sent.status_code == 303 and "error=file_too_large" in sent.headers["location"]
    assert fake(portal).pieces == []  # intake was never asked
    page = await portal.client.get(sent.headers["location"])
    assert "ไฟล์ใหญ่เกินกำหนด" in item_box(page.text, "P01")


async def test_the_script_gets_json_with_the_items_new_list(portal: Portal) -> None:
    await portal.sign_in(C)
    token = await portal.csrf(REPORT)
    headers = {"Accept": "application/json", "X-CSRF-Token": token}
    url = f"/rounds/{ROUND}/items/P01/evidence"
    ok = await portal.client.post(
        url, headers=headers, files=[("upload-P01", ("a.pdf", PDF, "application/pdf"))]
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["message"] == "แนบไฟล์แล้ว 1 ไฟล์"
    assert "a.pdf" in ok.json()["html"] and "PDF · " in ok.json()["html"]
    refused = await portal.client.post(
        url, headers=headers, files=[("upload-P01", ("b.gif", b"GIF89a", "image/gif"))]
    )
    assert refused.status_code == 415
    assert refused.json()["error"].startswith("b.gif: ไม่รองรับไฟล์ชนิดนี้")
    no_token = await portal.client.post(
        url,
        headers={"Accept": "application/json"},
        files=[("upload-P01", ("a.pdf", PDF, "application/pdf"))],
    )
    assert no_token.status_code == 401 and len(fake(portal).evidence) == 1


async def test_a_file_is_removed_from_the_item_and_from_intake(portal: Portal) -> None:
    await portal.sign_in(C)
    await upload(portal, "P01", [("a.pdf", PDF, "application/pdf")])
    (file_id,) = (await draft_item(portal, "P01"))["files"]
    token = await portal.csrf(REPORT)
    fields = form_fields(token, respondents="88")
    fields["files-P01"] = file_id
    removed = await portal.client.post(
        f"/evidence/{file_id}/delete?round={ROUND}&item=P01", data=fields
    )
    assert removed.status_code == 303
    assert removed.headers["location"] == f"{REPORT}?item=P01&removed=1#files-P01"
    saved = await draft_item(portal, "P01")
    assert saved["files"] == [] and saved["respondents"] == "88"
    assert file_id not in fake(portal).evidence
    page = await portal.client.get(removed.headers["location"])
    assert "ลบไฟล์แล้ว" in item_box(page.text, "P01")


async def test_review_lists_the_files_and_the_submission_sends_their_ids(portal: Portal) -> None:
    await portal.sign_in(C)
    await upload(portal, "P01", [("ภาพ.png", PNG, "image/png")])
    await upload(portal, "P05", [("คำสั่ง.pdf", PDF, "application/pdf")])
    photo = (await draft_item(portal, "P01"))["files"][0]
    order = (await draft_item(portal, "P05"))["files"][0]
    token = await portal.csrf(REPORT)
    fields = form_fields(token, action="review")
    fields["files-P01"], fields["files-P05"] = photo, order
    reviewed = await portal.client.post(REPORT, data=fields)
    assert reviewed.headers["location"] == f"/rounds/{ROUND}/review"
    review = await portal.client.get(reviewed.headers["location"])
    assert f'href="/evidence/{photo}" class="file__name" download>ภาพ.png</a>' in review.text
    assert f'href="/evidence/{order}" class="file__name" download>คำสั่ง.pdf</a>' in review.text
    key = re.search(r'name="key" value="([^"]+)"', review.text)
    assert key
    sent = await portal.client.post(
        f"/rounds/{ROUND}/submit", data={"csrf_token": token, "key": key.group(1)}
    )
    assert sent.status_code == 303
    (submission,) = [s for s in fake(portal).submissions.values() if s["center_id"] == "GECC-0003"]
    items = {i["code"]: i for i in submission["versions"][0]["report"]["checklist"]["items"]}
    assert items["P01"]["files"] == [photo] and items["P05"]["files"] == [order]
    assert items["P02"]["files"] == []
    # amending starts from what was sent, its files included
    amend = await portal.client.get(REPORT)
    assert f'name="files-P01" value="{photo}"' in amend.text


async def test_the_office_sees_the_files_and_who_else_may_open_them(portal: Portal) -> None:
    await portal.sign_in(C)
    await upload(portal, "P01", [("ภาพ จุดบริการ.png", PNG, "image/png")])
    await upload(portal, "P05", [("คำสั่ง.pdf", PDF, "application/pdf")])
    photo = (await draft_item(portal, "P01"))["files"][0]
    order = (await draft_item(portal, "P05"))["files"][0]
    token = await portal.csrf(REPORT)
    fields = form_fields(token, action="review")
    fields["files-P01"], fields["files-P05"] = photo, order
    await portal.client.post(REPORT, data=fields)
    review = await portal.client.get(f"/rounds/{ROUND}/review")
    key = re.search(r'name="key" value="([^"]+)"', review.text)
    assert key
    await portal.client.post(
        f"/rounds/{ROUND}/submit", data={"csrf_token": token, "key": key.group(1)}
    )
    own = await portal.client.get(f"/evidence/{order}")
    assert own.status_code == 200 and own.content == PDF

    portal.client.cookies.clear()
    await portal.sign_in(BMA)
    page = await portal.client.get(f"/centers/GECC-0003/rounds/{ROUND}")
    assert page.status_code == 200
    assert f'href="/evidence/{photo}" class="file__name" download>ภาพ จุดบริการ.png</a>' in page.text
    assert f'href="/evidence/{order}" class="file__name" download>คำสั่ง.pdf</a>' in page.text
    assert "PDF · " in page.text and f'src="/evidence/{photo}/thumbnail"' in page.text
    download = await portal.client.get(f"/evidence/{order}")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["etag"] == f'"{fake(portal).evidence[order]["sha256"]}"'
    assert download.headers["content-length"] == str(len(PDF))
    thumb = await portal.client.get(f"/evidence/{photo}/thumbnail")
    assert thumb.status_code == 200 and thumb.content == PNG
    assert thumb.headers["content-type"] == "image/png"
    assert "default-src 'none'; sandbox" in thumb.headers.get_list("content-security-policy")
    assert (await portal.client.get(f"/evidence/{order}/thumbnail")).status_code == 404

    for other in (MOI, A):  # another ministry's office, another center
        portal.client.cookies.clear()
        await portal.sign_in(other)
        for path in (f"/evidence/{order}", f"/evidence/{photo}/thumbnail"):
            answer = await portal.client.get(path)
            assert answer.status_code == 404, (other, path)
            assert PDF not in answer.content
    portal.client.cookies.clear()
    await portal.sign_in(OPERATOR)
    assert (await portal.client.get(f"/evidence/{order}")).content == PDF
    portal.client.cookies.clear()
    signed_out = await portal.client.get(f"/evidence/{order}")
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/sign-in")


async def test_an_item_or_round_the_report_does_not_have_is_not_found(portal: Portal) -> None:
    await portal.sign_in(C)
    token = await portal.csrf(REPORT)
    part = [("upload-Z99", ("a.pdf", PDF, "application/pdf"))]
    for path in (
        f"/rounds/{ROUND}/items/Z99/evidence",  # no such item in the standard
        f"/rounds/{ROUND}/items/p01%0d%0aX/evidence",  # not an item code at all
        "/rounds/nonsense/items/P01/evidence",
    ):
        answer = await portal.client.post(path, data={"csrf_token": token}, files=part)
        assert answer.status_code == 404, path
    assert fake(portal).evidence == {}
